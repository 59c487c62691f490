"""The cowlib command: parameters echoed first, traces printed, usage errors exit 2."""

import subprocess
import sys

import pytest

from cowlib.cli import main


def test_list_names_scenarios_presets_and_rules(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "S2   CVE-2020-29374" in out and "linux-5.9-rc4" in out and "rule4" in out


def test_run_scenario_echoes_parameters_and_checks_expectation(capsys):
    assert main(["run", "S2", "--policy", "linux-5.7", "--brief"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "cowlib run: scenario=S2 policy=linux-5.7"
    assert "!! LEAK: pipe1 (taken by C) shows 'Y'" in out
    assert "--- matches the expected outcome" in out


def test_run_actions_under_all_presets_with_a_rule_off(capsys):
    assert (
        main(
            [
                "run",
                "-A",
                "P:mmap 1; P:write 0 X; P:pin 0; K:pageout P 0; P:read 0; P:write 0 Y",
                "-p",
                "all",
                "-w",
                "rule4",
                "-b",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "=== linux-5.11 without rule4 ===" in out
    assert "linux-5.11 without rule4: violations: stale-pin" in out


def test_quiz_answers_only_with_c(capsys):
    assert main(["quiz", "-s", "1"]) == 0
    first = capsys.readouterr().out
    assert "run again with -c" in first
    assert main(["quiz", "-s", "1", "-c"]) == 0
    answers = capsys.readouterr().out
    assert first.splitlines()[1] == answers.splitlines()[1]  # same scenario for the seed
    assert sum(line.startswith("  linux-") for line in answers.splitlines()) == 6


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "S99"],
        ["run", "S2", "-p", "linux-9"],
        ["run", "-A", "P:mmap 1; P:write 4 X"],
        ["run"],
    ],
)
def test_bad_input_exits_2_with_a_message(argv, capsys):
    assert main(argv) == 2
    assert "error:" in capsys.readouterr().err


def test_usage_error_exits_2():
    proc = subprocess.run(
        [sys.executable, "-m", "cowlib.cli", "run", "--nope"], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "usage: cowlib" in proc.stderr


def test_json_trace(capsys):
    assert main(["run", "S1", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"action": "P:fork C"' in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "-A", "P:mmap one"], "expected a number >= 1, not 'one'"),
        (["run", "-A", "P:mmap 1; P:wrte 0 X"], "did you mean 'write'?"),
        (["run", "-A", "P:mmap 1; P:wrte 0 X"], "process verbs: mmap, write, read"),
        (["run", "-A", ""], "-A got no actions"),
        (["run"], "nothing to run: name a scenario"),
        (["run", "S2", "-A", "P:mmap 1"], "not both"),
        (["run", "S2", "-p", "5.1"], "ambiguous: linux-5.11, linux-5.18"),
        (["run", "-A", "P:mmap 1; P:write 4 X"], "SIGSEGV"),
    ],
)
def test_errors_exit_2_say_what_is_expected_and_print_nothing_on_stdout(argv, message, capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err


def test_short_and_lower_case_names_are_accepted(capsys):
    assert main(["run", "s2", "-p", "5.7", "-b"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "cowlib run: scenario=S2 policy=5.7"


def test_run_ends_with_a_one_line_summary_per_kernel(capsys):
    assert main(["run", "S2", "--policy", "all", "--brief"]) == 0
    lines = capsys.readouterr().out.splitlines()
    start = lines.index("summary (6 kernels):")
    assert len(lines) == start + 7
    first = "linux-5.7 violations: leak; COW decisions: missed copy (as expected)"
    assert lines[start + 1].split() == first.split()


def test_every_option_has_help_text():
    from cowlib.cli import parser

    sub = parser()._subparsers._group_actions[0].choices
    for name in ("run", "quiz"):
        for action in sub[name]._actions:
            if action.dest != "help":
                assert action.help, (name, action.dest)


def test_a_reader_closing_the_pipe_early_is_not_an_error():
    """`cowlib selftest | head -1`: no traceback, exit status 0 (its TAP is over 64 KB)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cowlib.cli", "selftest"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout.readline().startswith(b"TAP version")
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    assert b"Traceback" not in proc.stderr.read()
