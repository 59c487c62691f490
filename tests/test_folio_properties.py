"""Random operation sequences on large folios (THP, PTE-mapped THP, hugetlb): accounting
always holds; linux-6.x never leaks, loses a write or breaks a pin, except through the
hugetlb reuse-by-mapcount leak it shares with the real kernel (FOLL_GET on hugetlb)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cowlib import PRESETS, CowError, Kernel
from cowlib.actions import apply
from cowlib.oracle import accounting_problems
from test_properties import release_everything

SETUP = [
    "P:mmap 8 thp=3", "P:write 0 A",  # pages 0-7: PMD-mapped THPs (PMD order 3 here)
    "P:mmap 8 thp=2", "P:write 8 M",  # pages 8-15: multi-size THP of order 2, PTE-mapped
    "K:memfd mfd 2", "P:mmap 2 file=mfd", "P:mmap 2 file=mfd shared ro",  # pages 16-19
    "P:read 16", "P:read 18",
    "P:mmap 4 hugetlb=2", "P:write 20 H",  # pages 20-23: one hugetlb page
]  # fmt: skip
MOVES = [
    "P:write 1 B", "P:write 9 B2", "C:write 9 Z", "C:write 10 Z2", "P:write 16 F",
    "C:write 17 G", "P:read 18", "C:read 19", "P:fork C", "C:exit", "P:mprotect 1 1 r",
    "P:mprotect 1 1 rw", "P:mprotect 8 4 r", "P:mprotect 8 4 rw", "P:madvise 9 3 dontneed",
    "P:madvise 8 4 dontfork", "P:madvise 8 4 dofork", "P:madvise 0 8 collapse",
    "P:madvise 8 8 collapse", "K:pageout P 8 4", "K:pageout P 0 8", "K:pageout P 9",
    "P:mremap 10 2", "P:pin 0 rw", "P:pin 9 ro", "P:pin 16 ro", "P:pin 20 rw",
    "C:pin 9 ro fast", "P:vmsplice 9", "C:vmsplice 10", "P:get 11", "pin1:read",
    "pin1:unpin", "pipe1:read", "pipe1:close", "ref1:put", "C:munmap 8 4", "P:munmap 12 4",
    "P:memset 8 4 M", "C:read 20", "C:write 20 HC", "P:vmsplice 20", "P:fork D",
    "D:write 9 DD", "D:exit",
]  # fmt: skip
CHOICES = st.lists(st.integers(0, len(MOVES) - 1), min_size=1, max_size=20)
EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(policy, choices):
    k = Kernel(policy, pmd_order=3)
    for action in SETUP:
        apply(k, action)
    for choice in choices:
        before = k.snapshot()
        try:
            apply(k, MOVES[choice])
        except CowError:
            assert k.snapshot() == before  # refused: the state is as before
    return k


HUGETLB = range(0x24000, 0x28000)  # where SETUP's hugetlb mapping lands


def hugetlb_gup_leak(k, v):
    """The leak cow.c marks XFAIL: a pipe's or ref's FOLL_GET reference on a hugetlb page."""
    name = v.message.split(" ", 1)[0]
    h = k.handles.get(name)
    return v.kind == "leak" and h is not None and h.kind != "pin" and h.addr in HUGETLB


def make_property(preset):
    @EXAMPLES
    @given(CHOICES)
    def prop(choices):
        k = run(preset, choices)
        assert accounting_problems(k.machine) == []
        kinds = [v for v in k.violations if v.kind == "accounting"]
        assert not kinds, [str(v) for v in kinds]
        if preset == "linux-6.x":
            bad = [v for v in k.violations if not hugetlb_gup_leak(k, v)]
            assert not bad, [str(v) for v in bad] + [s.action for s in k.trace]
        release_everything(k)
        assert accounting_problems(k.machine) == []

    return prop


for _preset in PRESETS:
    globals()[f"test_folio_sequences_{_preset.replace('-', '_').replace('.', '_')}"] = (
        make_property(_preset)
    )
