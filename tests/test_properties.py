"""Random operation sequences: accounting always holds; linux-6.x never leaks or breaks a pin."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cowlib import PRESETS, Kernel
from cowlib.actions import OPS, apply, try_choice
from cowlib.oracle import accounting_problems

CHOICES = st.lists(st.tuples(st.integers(0, len(OPS) - 1), st.integers(0, 5),
                             st.integers(0, 1), st.integers(0, 3)), min_size=1, max_size=18)
EXAMPLES = settings(max_examples=500, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def run(policy, choices, pages=2):
    k = Kernel(policy)
    apply(k, f"P:mmap {pages}")
    apply(k, "P:write 0 X")
    for choice in choices:
        try_choice(k, choice, pages)
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
    assert accounting_problems(k) == []
    # Only swap-cache orphans may remain: reclaimable, held by nothing else.
    for pfn, page in k.pages.items():
        if pfn:
            assert page.swapcache is not None and page.refcount == 1, page
            assert k.swap.slots[page.swapcache].count == 0


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
    globals()[f"test_random_sequences_{_preset.replace('-', '_').replace('.', '_')}"] = \
        make_property(_preset)
