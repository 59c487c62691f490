"""Era-true explanations for large folios: the notes of cow.c's cases under each preset
name only what that preset's release had (cowlib.kernel_names)."""

import re

import pytest

from cowlib import PRESETS, selftest
from cowlib.kernel import Kernel
from cowlib.kernel_names import exists

KINDS = (
    "with base page",
    "with swapped out base page",
    "with THP (2048 kB)",
    "with swapped-out THP (2048 kB)",
    "with PTE-mapped THP (16 kB)",
    "with single PTE of swapped-out THP (16 kB)",
    "with partially mremap()'ed THP (16 kB)",
    "with partially shared THP (16 kB)",
    "with hugetlb (2048 kB)",
    "with memfd",
    "with huge zeropage",
    "with memfd hugetlb (2048 kB)",
    "",
)


def printed(preset: str) -> dict[str, str]:
    found = {}
    for _case, variant, body in selftest.instances():
        if variant not in KINDS:
            continue
        k = Kernel(preset, pmd_order=selftest.MODEL_PMD_ORDER)
        try:
            body(k, True)
        except selftest.Skip:
            pass
        for step in k.trace:
            for line in step.explain.splitlines():
                if not line.strip().startswith("oracle:"):
                    for name in re.findall(r"\b([A-Za-z_]\w*)\(", line):
                        found.setdefault(name + "()", line)
    return found


@pytest.mark.parametrize("preset", list(PRESETS))
def test_large_folio_notes_name_only_what_the_release_had(preset):
    era = PRESETS[preset].era
    wrong = {n: line for n, line in printed(preset).items() if not exists(n, era)}
    assert not wrong, f"{preset} ({era}): {wrong}"


def test_hugetlb_names_its_cow_handler_by_release():
    assert "hugetlb_cow()" in printed("linux-5.18")
    assert "hugetlb_wp()" in printed("linux-6.x")
