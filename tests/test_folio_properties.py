"""Random operation sequences on large folios (THP, PTE-mapped THP, hugetlb): accounting
always holds; linux-6.x never leaks, loses a write or breaks a pin, except through the
hugetlb reuse-by-mapcount leak it shares with the real kernel (FOLL_GET on hugetlb)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cowlib import PRESETS, CowError, Kernel
from cowlib.actions import apply
from cowlib.oracle import accounting_problems

SETUP = ["P:mmap 8 thp=2", "P:write 0 A", "P:mmap 4 hugetlb=2", "P:write 8 H"]
# page 0..7: a THP VMA (PMD order 2 here: 4-page PMD-mapped THPs), 8..11: a hugetlb page
MOVES = [
    "P:write 1 B", "P:write 5 B2", "C:write 1 Z", "C:write 2 Z2", "P:write 8 H2",
    "C:write 8 HC", "P:read 2", "C:read 1", "P:fork C", "C:exit",
    "P:mprotect 1 1 r", "P:mprotect 1 1 rw", "P:mprotect 0 4 r", "P:mprotect 0 4 rw",
    "P:madvise 1 3 dontneed", "P:madvise 0 4 dontfork", "P:madvise 0 4 dofork",
    "P:madvise 0 4 collapse", "K:pageout P 0 4", "K:pageout P 1", "P:mremap 2 2",
    "P:pin 0 rw", "P:pin 1 ro", "P:pin 8 rw", "C:pin 1 ro fast", "P:vmsplice 1",
    "C:vmsplice 2", "P:get 3", "pin1:read", "pin1:unpin", "pipe1:read", "pipe1:close",
    "ref1:put", "C:munmap 0 4", "P:munmap 4 4", "P:memset 0 4 M",
]  # fmt: skip
CHOICES = st.lists(st.integers(0, len(MOVES) - 1), min_size=1, max_size=14)
EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(policy, choices):
    k = Kernel(policy, pmd_order=2)
    for action in SETUP:
        apply(k, action)
    for choice in choices:
        before = k.snapshot()
        try:
            apply(k, MOVES[choice])
        except CowError:
            assert k.snapshot() == before  # refused: the state is as before
    return k


HUGETLB = range(0x18000, 0x1C000)  # where SETUP's hugetlb mapping lands


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
        for h in k.live_handles():
            if h.pfn is not None:
                h.release()
        for p in list(k.procs.values()):
            if p.alive:
                p.exit()
        assert accounting_problems(k.machine) == []

    return prop


for _preset in PRESETS:
    globals()[f"test_folio_sequences_{_preset.replace('-', '_').replace('.', '_')}"] = (
        make_property(_preset)
    )
