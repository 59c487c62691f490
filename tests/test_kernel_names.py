"""Era-true explanations: what the model prints under a preset names only what its release had.

Every scenario, the fork / GUP-fast race and a random workload run under every preset;
each kernel name a note prints (a call like copy_one_pte(...), or a known flag or field)
must have existed in the preset's release (cowlib.kernel_names).
"""

import re
from functools import cache

import pytest

from cowlib import PRESETS
from cowlib.grammar import split_actions
from cowlib.kernel_names import RENAMED, STABLE, era_name, exists, version_key
from cowlib.moves import random_workload
from cowlib.replay import run
from cowlib.scenarios import SCENARIOS

RACE = (
    "P:mmap 1; P:write 0 X; P:gupf 0 rw; P:fork_begin C; P:fork_check 0; P:gupf_pin; "
    "P:gupf_check; P:gupf_slow; P:fork_end; P:write 0 v8"
)
WORDS = {n for n in STABLE if not n.endswith("()")} | {
    n.text for chain in RENAMED.values() for n in chain if not n.text.endswith(")")
}
ORACLE_WORDS = {"oracle"}  # the oracle's verdict lines are the model's, not the kernel's


@cache
def printed(preset: str) -> dict[str, str]:
    """Every kernel name the notes print under preset, with one line that printed it."""
    work = [s.actions for s in SCENARIOS.values()] + [RACE]
    work += ["; ".join(a) for a in random_workload(60)]
    found = {}
    for actions in work:
        for step in run(split_actions(actions), PRESETS[preset]).trace:
            for line in step.explain.splitlines():
                if line.strip().startswith("oracle:"):
                    continue
                names = {m + "()" for m in re.findall(r"\b([A-Za-z_]\w*)\(", line)}
                names |= {w for w in WORDS if re.search(rf"(?<![\w>-]){re.escape(w)}\b", line)}
                for name in names:
                    found.setdefault(name, line)
    return found


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_name_a_note_prints_existed_in_that_release(preset):
    era = PRESETS[preset].era
    wrong = {n: line for n, line in printed(preset).items() if not exists(n, era)}
    assert not wrong, f"{preset} ({era}) prints names its kernel did not have: {wrong}"


@pytest.mark.parametrize(
    ("preset", "names"),
    [
        ("linux-5.7", {"copy_one_pte()", "down_write_killable()", "try_grab_compound_head()"}),
        ("linux-5.11", {"copy_present_pte()", "lockless_pages_from_mm()", "unpin_user_pages()"}),
        ("linux-5.18", {"page_count()", "try_grab_folio()", "shrink_page_list()"}),
        ("linux-6.x", {"gup_fast()", "folio_try_dup_anon_rmap_pte()", "shrink_folio_list()"}),
    ],
)
def test_each_era_prints_its_own_names(preset, names):
    assert names <= set(printed(preset))


def test_fork_in_5_11_checks_has_pinned_inside_copy_present_page():
    k = SCENARIOS["S6"].run("linux-5.11")
    fork = next(s for s in k.trace if s.action == "P:fork C")
    assert "copy_present_page(): mm->has_pinned && page_maybe_dma_pinned()" in fork.explain
    assert "MMF_HAS_PINNED" not in fork.explain


def test_renames_resolve_by_release_and_refuse_what_did_not_exist():
    assert era_name("copy_present_pte", "v5.9-rc4") == "copy_one_pte()"
    assert era_name("copy_present_pte", "v5.9-rc7") == "copy_present_pte()"
    assert era_name("gup_fast", "v6.18") == "gup_fast()"
    assert era_name("do_wp_page", "v5.7") == "do_wp_page"  # never renamed
    # a later behaviour switched on in an older release keeps the name it arrived with
    assert era_name("page_try_dup_anon_rmap", "v5.11") == "page_try_dup_anon_rmap()"
    assert version_key("v5.9-rc4") < version_key("v5.9") < version_key("v5.11-rc1")
    assert not exists("reuse_swap_page()", "v5.18") and exists("reuse_swap_page()", "v5.17")
