"""The lab's pure parts: fault classification, relabelling, comparison, encodings."""

import json
import struct
from dataclasses import replace

from IPython.lib.pretty import pretty

from cowlib.lab import pagemap, swapfile, twin
from cowlib.lab.experiments import EXPERIMENTS
from cowlib.lab.script import (
    ABSENT,
    HIDDEN,
    SWAPPED,
    Experiment,
    Folio,
    Fork,
    Look,
    Mprotect,
    Observation,
    ScriptStep,
    Unmap,
    Write,
    classify,
    shared_summary,
    summarize,
)
from cowlib.lab.verdicts import compare, relabel

VMSPLICE = EXPERIMENTS["vmsplice"]


def test_classify_names_write_faults_by_page_identity():
    assert classify(ABSENT, None, 7) == "fault-in"
    assert classify(SWAPPED, None, 7) == "fault-in"
    assert classify(7, False, 9) == "copy"
    assert classify(7, False, 7) == "reuse"
    assert classify(7, True, 7) == "in place"
    assert classify(HIDDEN, HIDDEN, HIDDEN) == HIDDEN


def test_summaries_are_independent_of_the_page_count():
    assert summarize(["copy"] * 3) == summarize(["copy"] * 10_000) == "copy (all pages)"
    assert summarize(["copy", "reuse", "copy"]) == "mixed: 2 copy, 1 reuse"
    assert summarize(["copy", "hidden", "copy"]) == "hidden"  # no root: compared as hidden
    assert shared_summary([1, 2], [1, 2]) == "all shared"
    assert shared_summary([1, 2], [3, 4]) == "none shared"
    assert shared_summary([1, 2], [1, 4]) == "shared except page 1"
    assert shared_summary([1, 2, 3], [1, 4, 5]) == "shared except pages 1, 2"
    assert shared_summary(list(range(6)), [0, 1, 9, 9, 9, 9]) == "2 of 6 shared"
    assert shared_summary([SWAPPED], [SWAPPED]) == "none shared"


def test_relabel_numbers_frames_in_order_of_first_appearance():
    obs = [Observation("s", "P", 0, "page", pfn) for pfn in (0x1595B2, 0x1A462C, 0x1595B2)]
    obs.append(Observation("s", "P", 0, "page", SWAPPED))
    assert [o.value for o in relabel(obs)] == ["#1", "#2", "#1", SWAPPED]


def test_relabel_names_subpages_of_a_large_folio_after_its_head():
    head = 0x1D0400
    observations = [
        Observation("s", "P", 0, "page", [head, 0]),
        Observation("s", "P", 7, "page", [head, 7]),
        Observation("s", "C", 5, "page", 0x1E3CA0),
        Observation("s", "C", 7, "page", (head, 7)),  # the model side may use tuples
    ]
    assert [o.value for o in relabel(observations)] == ["#1", "#1+7", "#2", "#1+7"]


def test_table_marks_a_folio_new_once_not_each_of_its_subpages():
    model = [obs("p-writes", "page", [9, 0]), obs("p-reads", "page", [9, 7], page=7)]
    table = compare(VMSPLICE, model, model, preset="linux-6.x").table()
    assert "#1 new" in table and "#1+7 new" not in table and "#1+7" in table


def test_compare_without_a_model_of_the_memory_is_kernel_only_not_a_failure():
    kernel = [obs("p-writes", "fault", "fault-in"), obs("pipe-read", "pipe", "X", page=None)]
    result = compare(VMSPLICE, [], kernel, preset="linux-6.x", no_model="no THP yet")
    assert {r.verdict for r in result.rows} == {"no model"}
    assert not result.agrees and not result.disagreements and result.error is None
    assert result.verdict() == "kernel only (2 rows): no THP yet"
    assert "kernel only: no THP yet" in result.table()
    assert result.to_dict()["no_model"] == "no THP yet"


def obs(step: str, what: str, value, who: str = "P", page=0) -> Observation:
    return Observation(step, who, page, what, value)


def test_compare_reports_a_disagreement_beside_the_agreements():
    model = [
        obs("p-writes-again", "fault", "reuse"),
        obs("pipe-read", "pipe", "SECRET-B", page=None),
    ]
    kernel = [
        obs("p-writes-again", "fault", "copy"),
        obs("pipe-read", "pipe", "SECRET-A", page=None),
    ]
    result = compare(VMSPLICE, model, kernel, preset="linux-5.7")
    assert [r.verdict for r in result.rows] == ["DISAGREE", "DISAGREE"]
    assert not result.agrees
    assert result.row("pipe-read", what="pipe", page=None).kernel == "SECRET-A"
    table = result.table()
    assert "2 rows DISAGREE" in table and "SECRET-B" in table
    assert "the pipe is drained\n  P    all   pipe   SECRET-B  SECRET-A  DISAGREE" in table


def test_table_merges_each_page_row_with_its_anon_exclusive_row():
    model = [obs("p-writes", "page", 7), obs("p-writes", "anon_exclusive", True)]
    kernel = [obs("p-writes", "page", 9), obs("p-writes", "anon_exclusive", False)]
    table = compare(VMSPLICE, model, kernel, preset="linux-6.x").table()
    (row,) = [line for line in table.splitlines() if line.split()[:3] == ["P", "0", "page"]]
    assert row.split() == ["P", "0", "page", "#1", "new", "AE=1", "#1", "new", "AE=0", "DISAGREE"]


def test_compare_marks_hidden_values_and_kernel_only_measurements():
    model = [obs("p-writes", "page", 3)]
    kernel = [obs("p-writes", "page", HIDDEN), obs("median", "copy fault", 2500, page=None)]
    result = compare(VMSPLICE, model, kernel, preset="linux-6.x")
    assert [r.verdict for r in result.rows] == ["hidden", "kernel only"]
    assert result.agrees


def test_compare_without_model_observations_says_no_model():
    kernel = [obs("p-writes", "fault", "fault-in")]
    result = compare(VMSPLICE, [], kernel, preset="linux-6.x", model_error="ImportError: x")
    assert result.rows[0].verdict == "no model"
    assert not result.agrees and "model: ImportError" in result.error


def test_skipped_result_keeps_the_model_prediction_and_serializes():
    model, error = twin.run_model(VMSPLICE)
    assert error is None
    result = compare(VMSPLICE, model, None, preset=twin.PRESET, skipped="linux: not Linux")
    assert result.skipped == "linux: not Linux" and not result.agrees and not result.disagreements
    assert result.row("pipe-read", what="pipe", page=None).model == "SECRET-A"
    assert {r.verdict for r in result.rows} == {"skipped"}
    assert json.loads(json.dumps(result.to_dict()))["skipped"] == "linux: not Linux"
    assert "SKIPPED: linux: not Linux" in result.table()
    assert pretty(result) == str(result) == result.table()  # what a notebook shows


def test_model_twin_predicts_every_experiment_it_models_without_error():
    for experiment in EXPERIMENTS.values():
        observations, error = twin.run_model(experiment)
        if twin.model_gap(experiment):
            assert observations == [] and "no model" in error
            continue
        assert error is None, (experiment.name, error)
        assert len(observations) == len({o.key for o in observations})


def test_model_twin_runs_mprotect_unmap_and_folio_probes_on_small_pages():
    experiment = Experiment(
        "small-ops",
        "mprotect and munmap in the child",
        "",
        ("linux",),
        2,
        steps=(
            ScriptStep("p-writes", "P writes", Write("P", 0, "A"), (Folio("P", 0),)),
            ScriptStep("fork", "P forks C", Fork("P", "C")),
            ScriptStep("c-protects", "C maps page 0 read-only", Mprotect("C", (0,), write=False)),
            ScriptStep("c-unprotects", "C maps all writable", Mprotect("C", None, write=True)),
            ScriptStep("c-unmaps", "C unmaps", Unmap("C"), (Look("C", 0), Folio("C", 0))),
            ScriptStep("p-writes-again", "P writes", Write("P", 0, "B")),
        ),
    )
    observations, error = twin.run_model(experiment)
    assert error is None
    seen = {o.key: o.value for o in observations}
    assert seen[("p-writes", "P", 0, "folio")] == "small"
    assert seen[("p-writes", "P", 0, "mapped")] == "PTE"
    assert seen[("c-unmaps", "C", 0, "page")] == ABSENT
    assert seen[("c-unmaps", "C", 0, "folio")] == ABSENT
    assert seen[("p-writes-again", "P", 0, "fault")] == "reuse"  # C's mapping is gone


def test_model_gap_is_none_for_small_thp_and_hugetlb_memory_and_names_anything_else():
    assert {name: twin.model_gap(e) for name, e in EXPERIMENTS.items()} == dict.fromkeys(
        EXPERIMENTS
    )
    devdax = replace(EXPERIMENTS["thp-cow"], memory="devdax")
    assert twin.model_gap(devdax) == "no model: cowlib has no devdax pages"
    observations, error = twin.run_model(devdax)
    assert observations == [] and "no model" in error


def predicted(name: str, preset: str) -> dict:
    observations, error = twin.run_model(EXPERIMENTS[name], preset)
    assert error is None, error
    return {o.key: o.value for o in relabel(observations)}


def test_model_twin_maps_one_pmd_thp_splits_the_writers_pmd_and_names_subpages():
    seen = predicted("thp-cow", "linux-6.x")
    assert seen[("p-writes", "P", 0, "folio")] == "THP"
    assert seen[("p-writes", "P", 0, "mapped")] == "PMD"
    assert seen[("c-writes", "C", 5, "fault")] == "copy"
    assert seen[("c-writes", "C", 5, "folio")] == "small"
    assert seen[("c-writes", "C", 0, "mapped")] == "PTE"  # the writer's PMD was split
    assert seen[("c-writes", "P", 0, "mapped")] == "PMD"
    assert seen[("p-writes-again", "P", 7, "page")] == "#1+7"  # subpage 7 of folio #1


def test_model_twin_reuses_a_pte_mapped_thp_only_from_6_15_and_reports_the_heads_flag():
    seen = predicted("thp-pte-cow", "linux-6.x")
    assert seen[("p-writes-7", "P", 7, "fault")] == "reuse"
    # kpageflags shows the folio's (head page's) flag for a subpage: not yet exclusive
    assert seen[("p-writes-7", "P", 7, "anon_exclusive")] is False
    assert seen[("p-writes-0", "P", 7, "anon_exclusive")] is True
    assert predicted("thp-pte-cow", "linux-5.18")[("p-writes-7", "P", 7, "fault")] == "copy"


def test_model_twin_shows_the_hugetlb_vmsplice_leak_by_mapcount():
    seen = predicted("hugetlb-vmsplice", "linux-6.x")
    assert seen[("p-writes", "P", 0, "folio")] == "hugetlb"
    assert seen[("c-unmaps", "C", 0, "page")] == ABSENT
    assert seen[("p-writes-again", "P", 0, "fault")] == "reuse"
    assert seen[("pipe-read", "P", None, "pipe")] == "SECRET-B"


def test_pagemap_decode_reads_present_swapped_and_pfn_bits():
    entry = pagemap.decode(1 << 63 | 1 << 56 | 0x1595B2)
    assert entry == pagemap.PagemapEntry(True, False, True, 0x1595B2)
    assert pagemap.decode(1 << 62 | 0x20) == pagemap.PagemapEntry(False, True, False, None)
    assert pagemap.decode(1 << 63).pfn is None  # present, PFN hidden without CAP_SYS_ADMIN


def test_frame_flags_read_anon_exclusive_from_bit_34_and_swapcache_from_bit_13():
    frame = pagemap.Frame(1, 1 << 34 | 1 << 12, 1)
    assert frame.anon_exclusive and not frame.swapcache
    assert pagemap.Frame(1, 1 << 13, 0).swapcache


def test_frame_flags_name_large_folios_from_compound_thp_and_huge_bits():
    assert pagemap.Frame(1, 1 << 15 | 1 << 22, 1).compound == "head"
    assert pagemap.Frame(1, 1 << 16 | 1 << 22, 1).large_kind == "THP"
    assert pagemap.Frame(1, 1 << 16 | 1 << 17, 1).large_kind == "hugetlb"
    small = pagemap.Frame(1, 1 << 12, 1)
    assert (small.compound, small.large_kind) == ("", "")


def test_swap_header_is_what_mkswap_writes():
    header = swapfile.swap_header(16 << 20)
    assert len(header) == pagemap.PAGE_SIZE
    assert header.endswith(b"SWAPSPACE2")
    version, last_page, bad = struct.unpack_from("<III", header, 1024)
    assert (version, last_page, bad) == (1, (16 << 20) // pagemap.PAGE_SIZE - 1, 0)
