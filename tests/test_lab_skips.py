"""The lab's other paths: missing features, refusals, timeouts, reduced privileges, CLI."""

import functools
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from cowlib import lab
from cowlib.lab import api, features, guardian, sandbox, swapfile, syscalls, twin
from cowlib.lab.experiments import EXPERIMENTS
from cowlib.lab.features import SCRATCH_DIR, Feature
from cowlib.lab.script import Experiment, Observation
from cowlib.lab.verdicts import compare

linux = pytest.mark.skipif(not os.path.exists("/proc/self/pagemap"), reason="needs Linux")
root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def without(name: str, reason: str) -> dict[str, Feature]:
    found = features.available()
    return found | {name: Feature(name, False, reason)}


@linux
@pytest.mark.parametrize(
    "experiment, feature",
    [
        ("iouring-fork", "io_uring"),
        ("swap-pin", "swap"),
        ("odirect-unshare", "odirect"),
        ("thp-cow", "thp"),
        ("hugetlb-vmsplice", "hugetlb"),
    ],
)
def test_experiment_without_its_feature_is_skipped_with_the_reason(experiment, feature):
    result = lab.run(experiment, features=without(feature, "simulated: refused"))
    assert result.skipped == f"{feature}: simulated: refused"
    assert not result.agrees and result.disagreements == []
    if result.no_model:  # neither side has anything to show
        assert result.rows == ()
        return
    assert result.rows and {r.verdict for r in result.rows} == {"skipped"}
    assert all(r.kernel is None and r.model is not None for r in result.rows)


def test_without_linux_every_experiment_is_skipped(monkeypatch):
    monkeypatch.setitem(
        features.DETECTORS, "linux", lambda: Feature("linux", False, "not Linux (simulated)")
    )
    results = lab.run_all()
    assert len(results) == len(EXPERIMENTS)
    assert all(r.skipped and "not Linux" in r.skipped for r in results)


@linux
def test_detector_monkeypatched_unavailable_skips_through_run_all(monkeypatch):
    monkeypatch.setitem(
        features.DETECTORS, "io_uring", lambda: Feature("io_uring", False, "disabled (simulated)")
    )
    skipped = {r.name: r.skipped for r in lab.run_all(["iouring-fork", "pin-after-fork"])}
    assert skipped == {
        "iouring-fork": "io_uring: disabled (simulated)",
        "pin-after-fork": "io_uring: disabled (simulated)",
    }


@linux
def test_available_reports_every_feature_with_a_reason():
    found = lab.available()
    assert set(found) == {"linux", "root", "io_uring", "swap", "odirect", "thp", "hugetlb"}
    assert all(f.reason for f in found.values())
    if os.geteuid() == 0:
        assert all(f.ok for f in found.values()), found


@linux
@root
def test_refused_swapon_skips_and_leaves_no_swapfile(monkeypatch):
    def refuse(path: str) -> None:
        raise OSError(1, "Operation not permitted (simulated)")

    monkeypatch.setattr(swapfile.syscalls, "swapon", refuse)
    result = lab.run("swap-pin")
    assert result.skipped == "swapon refused: Operation not permitted (simulated)"
    ours = f"{guardian.PREFIX}{os.getpid()}-"  # other sessions may run the lab meanwhile
    assert not [d for d in os.listdir(SCRATCH_DIR) if d.startswith(ours)]


@linux
@root
def test_refused_huge_page_allocation_skips_and_returns_what_was_added(monkeypatch):
    if not lab.available()["hugetlb"].ok:
        pytest.skip(lab.available()["hugetlb"].reason)
    before = guardian.read_count(guardian.NR_HUGEPAGES)
    reserve = guardian.Guardian.reserve_hugepages

    def short_by_one(self: guardian.Guardian, count: int) -> int:
        return reserve(self, count - 1)  # the kernel found one page fewer than asked

    monkeypatch.setattr(guardian.Guardian, "reserve_hugepages", short_by_one)
    result = lab.run("hugetlb-vmsplice")
    assert result.skipped == "huge page allocation refused: the kernel added 1 of 2"
    assert guardian.read_count(guardian.NR_HUGEPAGES) == before


@linux
@root
def test_a_failing_runner_still_returns_the_huge_pages(monkeypatch):
    if not lab.available()["hugetlb"].ok:
        pytest.skip(lab.available()["hugetlb"].reason)
    before = guardian.read_count(guardian.NR_HUGEPAGES)
    during = []

    def fail(request: dict, timeout: float) -> dict:
        during.append(guardian.read_count(guardian.NR_HUGEPAGES))
        raise lab.RunnerError("lab runner exited with 1 (simulated)")

    monkeypatch.setattr(sandbox, "launch", fail)
    result = lab.run("hugetlb-vmsplice")
    assert result.error and "simulated" in result.error
    assert during == [before + api.HUGETLB_PAGES]
    assert guardian.read_count(guardian.NR_HUGEPAGES) == before


@linux
def test_timed_out_runner_is_killed_with_its_children(monkeypatch):
    started = []
    popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        proc = popen(*args, **kwargs)
        started.append(proc.pid)
        return proc

    monkeypatch.setattr(sandbox.subprocess, "Popen", recording_popen)
    result = lab.run("fault-cost", timeout=0.25)
    assert result.error and "timed out after 0.25 s" in result.error
    assert {r.verdict for r in result.rows} == {"kernel error"}
    (group,) = started
    deadline = time.monotonic() + 5
    while living_in_group(group) and time.monotonic() < deadline:
        time.sleep(0.01)  # SIGKILLed children may still be tearing down their memory
    assert living_in_group(group) == []


def living_in_group(group: int) -> list[str]:
    """Processes of process group ``group`` that are not zombies."""
    living = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                state, _, pgrp = f.read().rsplit(")", 1)[1].split()[:3]
        except OSError:
            continue
        if int(pgrp) == group and state != "Z":
            living.append(pid)
    return living


@linux
@root
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv")
def test_without_cap_sys_admin_contents_are_observed_and_identities_hidden():
    result = run_without_cap_sys_admin(EXPERIMENTS["vmsplice"])
    assert result.agrees, result.table()
    assert result.row("pipe-read", what="pipe", page=None).kernel == "SECRET-A"
    assert result.row("p-writes", what="fault").kernel == "fault-in"
    assert result.row("p-writes-again").verdict == "hidden"
    assert result.row("p-writes-again", what="fault").kernel == "hidden"
    assert result.row("p-reads", what="content").kernel == "SECRET-B"


@linux
@root
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv")
def test_without_cap_sys_admin_page_summaries_are_hidden_but_first_touch_is_seen():
    result = run_without_cap_sys_admin(EXPERIMENTS["iouring-fork"])
    assert result.agrees, result.table()
    assert result.row("p-writes", what="fault", page=None).kernel == "fault-in (all pages)"
    assert result.row("fork", "C", page=0).kernel == "hidden"
    assert result.row("c-reads", "C", "content").kernel == "FORK-TIME"


def run_without_cap_sys_admin(experiment: Experiment) -> lab.Result:
    """The runner with CAP_SYS_ADMIN dropped: PFNs read as zero, as for a normal user."""
    request = {"job": "experiment", "name": experiment.name, "scratch": None, "alarm": 30}
    request["parent"] = os.getpid()
    drop = ["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin"]
    env = os.environ | {"PYTHONPATH": sandbox.PACKAGE_ROOT}
    proc = subprocess.run(
        [*drop, sys.executable, "-c", sandbox.RUNNER_CODE],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=True,
    )
    kernel = [Observation(**o) for o in json.loads(proc.stdout)["observations"]]
    model, _ = twin.run_model(experiment)
    return compare(experiment, model, kernel, preset=twin.PRESET)


@linux
def test_cli_echoes_parameters_and_prints_the_comparison(capsys):
    assert lab.main(["reuse-after-exit"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "experiment=reuse-after-exit json=False preset=linux-6.x"
    assert "model and kernel agree" in out


@linux
def test_cli_json_is_one_document_with_parameters_first(capsys):
    assert lab.main(["vmsplice", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc)[0] == "parameters"
    assert doc["parameters"]["experiment"] == "vmsplice"
    (result,) = doc["results"]
    assert result["agrees"] is True


def test_cli_usage_error_exits_2(capsys):
    assert lab.main(["no-such-experiment"]) == 2
    assert "invalid choice" in capsys.readouterr().err


@linux
def test_cli_exits_nonzero_when_the_model_disagrees(monkeypatch, capsys):
    monkeypatch.setattr(api, "run", functools.partial(api.run, preset="linux-5.7"))
    assert lab.main(["vmsplice"]) == 1
    assert "DISAGREE" in capsys.readouterr().out


def test_timing_without_linux_raises_unavailable(monkeypatch):
    monkeypatch.setitem(
        features.DETECTORS, "linux", lambda: Feature("linux", False, "not Linux (simulated)")
    )
    with pytest.raises(lab.Unavailable, match="not Linux"):
        lab.fault_costs(pages=16, trials=1)
    with pytest.raises(lab.Unavailable, match="not Linux"):
        lab.fork_pin_cost(pages=16, trials=1)


@linux
def test_fault_costs_are_positive_per_page_medians():
    costs = lab.fault_costs(pages=1000, trials=3)
    assert len(costs.copy) == len(costs.reuse) == len(costs.first_touch) == 3
    assert costs.first_touch_ns > 0 and costs.copy_ns > 0 and costs.reuse_ns > 0
    assert costs.to_dict()["spurious_cow_ns"] == costs.copy_ns - costs.reuse_ns


@linux
def test_fork_pin_cost_reports_forks_with_and_without_pins():
    if not lab.available()["io_uring"].ok:
        with pytest.raises(lab.Unavailable):
            lab.fork_pin_cost(pages=256, trials=3)
        return
    cost = lab.fork_pin_cost(pages=1000, trials=3)
    assert len(cost.plain) == len(cost.pinned) == 3
    assert cost.plain_ns > 0 and cost.pinned_ns > 0


@linux
def test_fixed_buffers_registration_refusal_is_unavailable():
    region = syscalls.Region(1)
    try:
        with pytest.raises(lab.Unavailable, match="refused"):
            syscalls.FixedBuffers([(region.addr + 1, 0)])
    finally:
        region.close()
