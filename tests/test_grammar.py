"""The action language: one verb table; format -> parse -> the same call, and clear errors."""

import pytest

from cowlib import BadArgument, Kernel
from cowlib.actions import apply, run_actions
from cowlib.grammar import BY_SUBJECT, USAGE, VERBS, Action, format_action, parse, split_actions

# For every verb: (setup actions, subject, arguments) so that the action is valid.
SETUP = "P:mmap 2; P:write 0 X"
EXAMPLES = {
    ("process", "mmap"): ("", "Q", (3,)),
    ("process", "write"): (SETUP, "P", (1, "two words; and a semicolon")),
    ("process", "read"): (SETUP, "P", (0,)),
    ("process", "fork"): (SETUP, "P", ("C",)),
    ("process", "exit"): (SETUP + "; P:fork C", "C", ()),
    ("process", "munmap"): (SETUP, "P", (0, 2)),
    ("process", "mprotect"): (SETUP, "P", (0, 1, "r")),
    ("process", "vmsplice"): (SETUP, "P", (0, "mypipe")),
    ("process", "get"): (SETUP, "P", (0, "myref")),
    ("process", "pin"): (SETUP, "P", (0, "ro", "short", "fast", "mypin")),
    ("process", "fork_begin"): (SETUP, "P", ("C",)),
    ("process", "fork_check"): (SETUP + "; P:fork_begin C", "P", (0,)),
    ("process", "fork_share"): (SETUP + "; P:fork_begin C; P:fork_check 0", "P", (0,)),
    ("process", "fork_end"): (SETUP + "; P:fork_begin C", "P", ()),
    ("process", "gupf"): (SETUP, "P", (0, "rw", "fastpin")),
    ("process", "gupf_pin"): (SETUP + "; P:gupf 0 rw", "P", ()),
    ("process", "gupf_check"): (SETUP + "; P:gupf 0 rw; P:gupf_pin", "P", ()),
    ("process", "gupf_slow"): (SETUP + "; P:gupf 0 rw; P:gupf_pin; P:gupf_check", "P", ()),
    ("handle", "read"): (SETUP + "; P:vmsplice 0", "pipe1", ()),
    ("handle", "write"): (SETUP + "; P:pin 0", "pin1", ("dma data",)),
    ("handle", "unpin"): (SETUP + "; P:pin 0", "pin1", ()),
    ("handle", "put"): (SETUP + "; P:get 0", "ref1", ()),
    ("handle", "close"): (SETUP + "; P:vmsplice 0", "pipe1", ()),
    ("kernel", "spawn"): ("", "K", ("Q",)),
    ("kernel", "pageout"): (SETUP, "K", ("P", 0)),
    ("kernel", "drain"): (SETUP, "K", ()),
    ("process", "memset"): (SETUP, "P", (0, 2, "all of it")),
    ("process", "madvise"): (SETUP, "P", (0, 2, "dontneed")),
    ("process", "mremap"): (SETUP, "P", (1, 1)),
    ("kernel", "memfd"): ("", "K", ("mfd", 4, 2)),
}


def test_every_verb_has_an_example():
    assert set(EXAMPLES) == {(v.subject, v.name) for v in VERBS}


@pytest.mark.parametrize("key", sorted(EXAMPLES), ids=lambda k: f"{k[0]}-{k[1]}")
def test_format_parse_round_trip_and_the_trace_records_the_same_action(key):
    kind, verb = key
    setup, subject, args = EXAMPLES[key]
    text = format_action(subject, verb, *args)
    action = parse(text)
    assert action == Action(subject, verb, tuple(str(a) for a in args))
    assert str(action) == text and split_actions(text) == [text]
    k = run_actions(setup) if setup else Kernel()
    apply(k, text)
    assert k.trace[-1].action == text  # the facade writes its actions with format_action


def test_optional_words_may_come_in_any_order():
    assert parse("P:pin 0 fast mypin ro long") == Action(
        "P", "pin", ("0", "ro", "long", "fast", "mypin")
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("P:mmap one", r"'P:mmap one': expected a number >= 1, not 'one'"),
        ("P:mprotect 0 1 x", r"expected mprotect I N r\|rw"),
        (
            "P:wrte 0 X",
            r"unknown process verb 'wrte'; did you mean 'write'\?\nprocess verbs: mmap,",
        ),
        ("pin1:wrte X", r"unknown handle verb 'wrte'; did you mean 'write'\?"),
        ("K:pageout P", r"expected K:pageout PROC I"),
        ("P:read", r"expected read I \(load page I"),
        ("no colon", r"expected SUBJECT:VERB ARGS"),
        ("1x:read 0", r"'1x' is not a subject"),
        ("P:write 0 'open", r"cannot parse"),
    ],
)
def test_errors_name_the_expected_form(text, message):
    with pytest.raises(BadArgument, match=message):
        run_actions(text if text.startswith("P:mmap") else "P:mmap 1; " + text)


def test_usage_lists_every_verb_once():
    for kind, verbs in BY_SUBJECT.items():
        for verb in verbs.values():
            assert (("K:" if kind == "kernel" else "") + verb.form) in USAGE
