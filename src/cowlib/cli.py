"""The cowlib command, OSTEP style: list, run, quiz, selftest, explore, lab.

Every run echoes its parameters first; usage errors exit with status 2 and print nothing
on standard output (a run is computed whole before anything is printed).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .actions import run_actions
from .errors import CowError
from .grammar import USAGE, parse, split_actions
from .moves import random_actions
from .policy import NEWEST, PRESETS, RULES, Policy, get_policy
from .scenarios import SCENARIOS, Outcome, scenario
from .trace import trace_to_json
from .view.text import render_trace


def _policies(name: str, without: list[str]) -> list[Policy]:
    base = list(PRESETS.values()) if name == "all" else [get_policy(name)]
    return [p.without(*without) if without else p for p in base]


def cmd_list(args: argparse.Namespace) -> int:
    print("scenarios:")
    for s in SCENARIOS.values():
        print(f"  {s.name:<4} {s.title}")
    print("presets:")
    for name in PRESETS:
        print(f"  {name}")
    print("rules (for --without):")
    for key, rule in RULES.items():
        print(f"  {key}  {rule.summary}")
    return 0


def _actions(args: argparse.Namespace) -> tuple[str | None, list[str]]:
    """The scenario (if one was named) and the checked action list of a run."""
    if args.scenario and args.actions is not None:
        raise CowError("give a SCENARIO name or -A ACTIONS, not both")
    if args.scenario:
        s = scenario(args.scenario)
        return s.name, split_actions(s.actions)
    if args.actions is None:
        raise CowError(
            "nothing to run: name a scenario (cowlib list shows them) or give -A ACTIONS, "
            'e.g. -A "P:mmap 1; P:write 0 X; P:fork C"'
        )
    actions = split_actions(args.actions)
    if not actions:
        raise CowError('-A got no actions: write them separated by ";", e.g. -A "P:mmap 1"')
    for action in actions:
        parse(action)
    return None, actions


def cmd_run(args: argparse.Namespace) -> int:
    name, actions = _actions(args)
    policies = _policies(args.policy, args.without)
    runs = [(policy, run_actions(actions, policy)) for policy in policies]
    head = "scenario=" + name if name else "actions"
    out = [
        f"cowlib run: {head} policy={args.policy}"
        + (f" without={','.join(args.without)}" if args.without else "")
        + f'\n  -A "{"; ".join(actions)}"'
    ]
    worst, summary = 0, []
    width = max(len(p.name) for p in policies)
    for policy, k in runs:
        outcome = Outcome.of(k)
        if args.json:
            out.append(trace_to_json(k.trace, policy=policy.name))
            continue
        line = (
            f"violations: {', '.join(sorted(outcome.violations)) or 'none'}; COW decisions: "
            f"{', '.join(outcome.decisions) or 'none'}"
        )
        out += [f"\n=== {policy.name} ===", render_trace(k.trace, full=not args.brief)]
        out.append(f"--- {policy.name}: {line}")
        verdict = ""
        if name and (expect := scenario(name).expected(policy)):
            problems = outcome.mismatches(expect)
            out.append(
                "--- matches the expected outcome"
                if not problems
                else "--- DIFFERS from the expected outcome: " + "; ".join(problems)
            )
            verdict = "  (as expected)" if not problems else "  (DIFFERS from expected)"
            worst = max(worst, bool(problems))
        summary.append(f"  {policy.name:<{width}}  {line}{verdict}")
    if not args.json:
        out += [f"\nsummary ({len(runs)} kernel{'s' * (len(runs) > 1)}):", *summary]
    print("\n".join(out))
    return worst


def quiz_actions(seed: int, length: int, pages: int) -> list[str]:
    """The first random sequence from seed on whose outcome the presets disagree."""
    for attempt in range(200):
        actions = random_actions(seed * 1000 + attempt, length, pages)
        outcomes = {Outcome.of(run_actions(actions, p)).violations for p in PRESETS.values()}
        if len(outcomes) > 1:
            return actions
    return actions


def cmd_quiz(args: argparse.Namespace) -> int:
    if args.length < 4:
        raise CowError(
            f"--length must be at least 4 (the fixed start is 3 actions), not {args.length}"
        )
    actions = quiz_actions(args.seed, args.length, args.pages)
    print(f"cowlib quiz: seed={args.seed} length={args.length} pages={args.pages}")
    print(f'  -A "{"; ".join(actions)}"\n')
    for a in actions:
        print(f"  {a}")
    print("\nUnder which presets does this leak, lose a write or break a pin?")
    if not args.compute:
        print("(run again with -c to see the answers)")
        return 0
    for policy in PRESETS.values():
        o = Outcome.of(run_actions(actions, policy))
        print(
            f"  {policy.name:<14} {', '.join(sorted(o.violations)) or 'correct':<28} "
            f"COW: {', '.join(o.decisions) or '-'}"
        )
    return 0


def cmd_selftest(args: argparse.Namespace) -> int:
    """The kernel's COW selftest (cow.c) on the model: TAP, or --json."""
    from . import selftest

    policies = list(PRESETS) if args.policy == "all" else [get_policy(args.policy).name]
    results = [r for name in policies for r in selftest.run(name, gup_test=args.gup_test)]
    if args.json:
        print(selftest.to_json(results))
        return 0
    print("\n".join(selftest.tap([r for r in results if r.preset == name]) for name in policies))
    return 0


def cmd_lab(args: argparse.Namespace) -> int:
    from . import lab

    return lab.main(args.rest)


def cmd_explore(args: argparse.Namespace) -> int:
    from . import explore

    return explore.main(args.rest)


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="cowlib",
        description="Linux COW and pinned pages, modelled by kernel era.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="actions language:\n" + USAGE,
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="scenarios, presets and rules").set_defaults(fn=cmd_list)
    run = sub.add_parser(
        "run",
        help="run a scenario or an action list and print the trace",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="actions language:\n" + USAGE,
    )
    run.add_argument(
        "scenario", nargs="?", help=f"a scenario name ({', '.join(SCENARIOS)}; any case)"
    )
    run.add_argument("-A", "--actions", help='your own actions, e.g. "P:mmap 1; P:write 0 X"')
    run.add_argument(
        "-p",
        "--policy",
        default=NEWEST,
        help=f"a preset ({', '.join(PRESETS)}; '5.7' is enough), or 'all' (default {NEWEST})",
    )
    run.add_argument(
        "-w",
        "--without",
        action="append",
        default=[],
        choices=list(RULES),
        help="turn one of Linus's rules off (repeatable)",
    )
    run.add_argument("-b", "--brief", action="store_true", help="steps only, no state tables")
    run.add_argument("--json", action="store_true", help="the trace as JSON, one line per kernel")
    run.set_defaults(fn=cmd_run)
    quiz = sub.add_parser("quiz", help="a random scenario: predict, then check with -c")
    quiz.add_argument("-s", "--seed", type=int, default=0, help="picks the scenario (default 0)")
    quiz.add_argument(
        "-n", "--length", type=int, default=8, help="actions in the scenario (default 8)"
    )
    quiz.add_argument(
        "--pages", type=int, default=1, choices=(1, 2), help="pages in the mapping (default 1)"
    )
    quiz.add_argument("-c", "--compute", action="store_true", help="print the answers")
    quiz.set_defaults(fn=cmd_quiz)
    st = sub.add_parser(
        "selftest", help="the kernel's COW selftest (tools/testing/selftests/mm/cow.c) on the model"
    )
    st.add_argument("-p", "--policy", default=NEWEST, help=f"a preset, or 'all' (default {NEWEST})")
    st.add_argument(
        "--json", action="store_true", help="a list of {case, variant, preset, result, why}"
    )
    st.add_argument(
        "--gup-test",
        action="store_true",
        help="run the R/O pin cases as with CONFIG_GUP_TEST (this machine skips them)",
    )
    st.set_defaults(fn=cmd_selftest)
    for name, fn, text in (
        ("lab", cmd_lab, "run the experiments on this machine's kernel"),
        ("explore", cmd_explore, "search for minimal counterexamples"),
    ):
        p = sub.add_parser(name, help=text, add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(fn=fn)
    return ap


PASS_THROUGH = {"lab": cmd_lab, "explore": cmd_explore}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in PASS_THROUGH:
        # argparse.REMAINDER does not collect a leading option ("explore -p ..."), so these
        # commands get their arguments untouched and parse them themselves.
        args = argparse.Namespace(cmd=argv[0], rest=argv[1:], fn=PASS_THROUGH[argv[0]])
    else:
        args = parser().parse_args(argv)
    try:
        return args.fn(args)
    except CowError as e:
        print(f"cowlib {args.cmd}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader closed the pipe (cowlib selftest | head): not an error of ours.
        # Point stdout at devnull so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
