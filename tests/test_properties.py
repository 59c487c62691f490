"""Random operation sequences: accounting always holds; linux-6.x never leaks or breaks a pin.

Hypothesis draws a list of numbers; each picks one of the moves of the random universe
(cowlib.moves, the table the explorer and random_actions() use) in the current state.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cowlib import PRESETS, CowError, Kernel
from cowlib.actions import apply
from cowlib.moves import moves, random_universe
from cowlib.oracle import accounting_problems

CHOICES = st.lists(st.integers(0, 10_000), min_size=1, max_size=18)
EXAMPLES = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UNIVERSE = random_universe(pages=2)


def run(policy, choices):
    k = Kernel(policy)
    apply(k, "P:mmap 2")
    apply(k, "P:write 0 X")
    for n, choice in enumerate(choices, 1):
        options = moves(k, UNIVERSE, n)
        try:
            apply(k, options[choice % len(options)])
        except CowError:
            pass  # refused: the state is as before (the CowError contract)
    return k


def release_everything(k):
    for h in k.live_handles():
        if h.pfn is not None:
            h.release()
    for p in list(k.procs.values()):
        if p.alive:
            p.exit()
    k.lru_drain()


def assert_clean_teardown(k):
    release_everything(k)
    assert accounting_problems(k.machine) == []
    snap = k.snapshot()
    # Only swap-cache orphans may remain: reclaimable, held by nothing else.
    for page in snap.pages:
        if not page.zero:
            assert page.swapcache is not None and page.refcount == 1, page
    assert all(slot.count == 0 and slot.cache is not None for slot in snap.swap), snap.swap


def make_property(preset):
    @EXAMPLES
    @given(CHOICES)
    def prop(choices):
        k = run(preset, choices)
        kinds = {v.kind for v in k.violations}
        assert "accounting" not in kinds, [str(v) for v in k.violations]
        if preset == "linux-6.x":
            assert not kinds, [str(v) for v in k.violations] + [s.action for s in k.trace]
        assert_clean_teardown(k)

    prop.__name__ = f"test_random_sequences_{preset.replace('-', '_').replace('.', '_')}"
    return prop


for _preset in PRESETS:
    globals()[f"test_random_sequences_{_preset.replace('-', '_').replace('.', '_')}"] = (
        make_property(_preset)
    )
