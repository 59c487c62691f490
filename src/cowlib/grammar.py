"""The action language: one verb table, its parser and its formatter.

    P:mmap 1; P:write 0 X; P:fork C; C:vmsplice 0; C:munmap 0; P:write 0 Y; pipe1:read

An action is SUBJECT:VERB ARGS. SUBJECT is a process (capitalised; `mmap` on an unknown
name spawns it), a handle (pipe1, pin1, ref1, ...: lower case) or K for the kernel.
Addresses are page indexes from the mmap base (0, 1, ...) or hex addresses (0x10000).
Values are shell-quoted when they contain spaces or semicolons.

VERBS is the only description of the language: parse() checks an action against it,
format_action() writes one, and USAGE (for errors, the CLI and the book) is made from
it. The facade writes the action of every step it records with format_action(), so
every trace replays. This module sits below the facade: it knows the language, not the
kernel (cowlib.actions applies actions to a Kernel).
"""

from __future__ import annotations

import difflib
import functools
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import BadArgument
from .mm_types import MMAP_BASE, PAGE_SIZE

PROCESS, HANDLE, KERNEL = "process", "handle", "kernel"
KERNEL_SUBJECT = "K"


@dataclass(frozen=True)
class Verb:
    """One verb: who can do it, its arguments (in order) and what it means.

    Argument words: N (a count >= 1), I (a page index or hex address), V (a value: the
    rest of the action), NAME (a new process or handle name), PROC (a process name),
    K (a folio order), FILE (a file name), a|b (one of the words; a=K or a=F: the word
    a= followed by an order or a file name), and [..] for an optional one. Optional
    words may come in any order; format_action() writes them in this order.
    """

    subject: str
    name: str
    params: tuple[str, ...]
    help: str

    @property
    def form(self) -> str:
        return " ".join((self.name, *self.params))


VERBS: tuple[Verb, ...] = (
    Verb(
        PROCESS,
        "mmap",
        ("[N]", "[thp=K|hugetlb=K|file=F]", "[shared]", "[ro]"),
        "map N private anonymous pages (default 1); THP, hugetlb or a file's pages",
    ),
    Verb(PROCESS, "write", ("I", "V"), "store V in page I (may fault)"),
    Verb(PROCESS, "read", ("I",), "load page I (may fault)"),
    Verb(PROCESS, "fork", ("NAME",), "fork a child called NAME"),
    Verb(PROCESS, "exit", (), "exit: unmap everything"),
    Verb(PROCESS, "munmap", ("I", "[N]"), "unmap N pages from I (default 1)"),
    Verb(PROCESS, "mprotect", ("I", "N", "r|rw"), "change the protection of N pages from I"),
    Verb(PROCESS, "vmsplice", ("I", "[NAME]"), "vmsplice page I into a pipe (FOLL_GET)"),
    Verb(PROCESS, "get", ("I", "[NAME]"), "get_user_pages(FOLL_GET) on page I"),
    Verb(
        PROCESS,
        "pin",
        ("I", "[rw|ro]", "[long|short]", "[fast]", "[NAME]"),
        "pin_user_pages(FOLL_PIN) on page I (default rw long)",
    ),
    Verb(PROCESS, "fork_begin", ("NAME",), "fork up to the PTE copy"),
    Verb(PROCESS, "fork_check", ("I",), "copy_present_pte() of I up to its decision"),
    Verb(PROCESS, "fork_share", ("I",), "the rest of copy_present_pte() of I"),
    Verb(PROCESS, "fork_end", (), "finish the fork"),
    Verb(PROCESS, "gupf", ("I", "[rw|ro]", "[NAME]"), "another thread starts GUP-fast on I"),
    Verb(PROCESS, "gupf_pin", (), "GUP-fast grabs the page"),
    Verb(PROCESS, "gupf_check", (), "GUP-fast re-checks PTE and seqcount"),
    Verb(PROCESS, "gupf_slow", (), "GUP-fast's slow-path fallback"),
    Verb(PROCESS, "memset", ("I", "N", "V"), "store V in N pages from I"),
    Verb(
        PROCESS,
        "madvise",
        ("I", "N", "hugepage|dontneed|dontfork|dofork|pageout|collapse", "[K]"),
        "madvise(MADV_...) of N pages from I (hugepage: THP order K)",
    ),
    Verb(PROCESS, "mremap", ("I", "N"), "move N pages from I to a new address"),
    Verb(HANDLE, "read", (), "what the pipe, ref or pin shows"),
    Verb(HANDLE, "write", ("V",), "the device writes V (write pins)"),
    Verb(HANDLE, "unpin", (), "release a pin"),
    Verb(HANDLE, "put", (), "release a ref"),
    Verb(HANDLE, "close", (), "close a pipe"),
    Verb(KERNEL, "spawn", ("NAME",), "a new process with an empty mm"),
    Verb(KERNEL, "pageout", ("PROC", "I", "[N]"), "madvise(MADV_PAGEOUT) of N pages of PROC"),
    Verb(KERNEL, "memfd", ("FILE", "N", "[K]"), "a memfd of N zeroed pages (K: hugetlb order)"),
    Verb(KERNEL, "drain", (), "lru_add_drain()"),
)
BY_SUBJECT: dict[str, dict[str, Verb]] = {
    kind: {v.name: v for v in VERBS if v.subject == kind} for kind in (PROCESS, HANDLE, KERNEL)
}
PROC_NAME = re.compile(r"[A-Z][A-Za-z0-9_]*\Z")
HANDLE_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


def _usage() -> str:
    lines = []
    for kind, label in (
        (PROCESS, "process verbs"),
        (HANDLE, "handle verbs"),
        (KERNEL, "kernel verbs"),
    ):
        prefix = "K:" if kind == KERNEL else ""
        forms = [prefix + v.form for v in BY_SUBJECT[kind].values()]
        text, line = [], ""
        for form in forms:
            if line and len(line) + 3 + len(form) > 64:
                text.append(line)
                line = form
            else:
                line = f"{line} | {form}" if line else form
        text.append(line)
        lines.append(f"  {label + ':':<15}{text[0]}")
        lines += [f"{'':17}{t}" for t in text[1:]]
    return "\n".join(lines)


USAGE = _usage()
"""The verbs, one form each, as errors and `cowlib --help` print them."""


@dataclass(frozen=True)
class Action:
    """A parsed action: its subject, verb and argument words (a value is one word)."""

    subject: str
    verb: str
    args: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return subject_kind(self.subject)

    def __str__(self) -> str:
        return format_action(self.subject, self.verb, *self.args)


def subject_kind(subject: str) -> str:
    """K is the kernel; a capitalised name a process; a lower-case one a handle."""
    if subject == KERNEL_SUBJECT:
        return KERNEL
    if PROC_NAME.match(subject):
        return PROCESS
    if HANDLE_NAME.match(subject):
        return HANDLE
    raise BadArgument(
        f"{subject!r} is not a subject: use a process (P, C, ...), a handle (pipe1, pin1, "
        "ref1, ...) or K for the kernel"
    )


@functools.lru_cache(maxsize=8192, typed=True)  # the explorer writes the same moves often
def format_action(subject: str, verb: str, *args: object) -> str:
    """The action text for subject:verb args (values quoted so that parse() splits them back);
    args are strings and numbers (cached: True and 1 are kept apart)."""
    words = [shlex.quote(str(a)) for a in args]
    return f"{subject}:{' '.join([verb, *words])}"


def index_of(addr: int) -> str:
    """The page index the language writes for addr (0 for the mmap base)."""
    return str((addr - MMAP_BASE) // PAGE_SIZE)


def address(arg: str) -> int:
    """'2' -> third page from the mmap base; '0x12000' -> that address."""
    try:
        return int(arg, 16) if arg.startswith("0x") else MMAP_BASE + int(arg) * PAGE_SIZE
    except ValueError:
        raise BadArgument(f"bad address {arg!r}: use a page index (0, 1, ...) or hex") from None


def count(arg: str) -> int:
    """N: a whole number >= 1."""
    try:
        n = int(arg)
    except ValueError:
        n = 0
    if n < 1:
        raise BadArgument(f"expected a number >= 1, not {arg!r}")
    return n


def split_actions(actions: str | Iterable[str]) -> list[str]:
    """'a; b; c' (or a list) -> ['a', 'b', 'c'], honouring shell quotes."""
    if not isinstance(actions, str):
        return [a.strip() for a in actions if a.strip()]
    lex = shlex.shlex(actions, posix=True, punctuation_chars=";")
    lex.whitespace_split = True
    out, words = [], []
    try:
        for tok in lex:
            if tok == ";" * len(tok):
                if words:
                    out.append(shlex.join(words))
                words = []
            else:
                words.append(tok)
    except ValueError as e:
        raise BadArgument(f"cannot parse actions: {e}") from None
    if words:
        out.append(shlex.join(words))
    return out


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> Action:
    """One action, checked against VERBS; a BadArgument says what was expected.

    Cached: an Action is immutable, and replays and the explorer parse the same few
    strings over and over (errors are raised, never cached).
    """
    subject, sep, rest = text.strip().partition(":")
    try:
        # shlex only where quoting or escapes need it: without them, both split alike.
        words = shlex.split(rest) if _QUOTING.search(rest) else rest.split()
    except ValueError as e:
        raise BadArgument(f"{text!r}: cannot parse: {e}") from None
    if not sep or not subject or not words:
        raise BadArgument(f"{text!r}: expected SUBJECT:VERB ARGS, e.g. P:write 0 X\n{USAGE}")
    kind = subject_kind(subject)
    verbs = BY_SUBJECT[kind]
    name, args = words[0], words[1:]
    if name not in verbs:
        near = difflib.get_close_matches(name, verbs, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise BadArgument(
            f"{text!r}: unknown {kind} verb {name!r}{hint}\n{kind} verbs: {', '.join(verbs)}"
        )
    verb = verbs[name]
    matched = _match(verb, args)
    if matched is None:
        form = ("K:" if kind == KERNEL else "") + verb.form
        raise BadArgument(f"{text!r}: expected {form} ({verb.help})")
    return Action(subject, name, matched)


_QUOTING = re.compile(r"['\"\\]")
PLACEHOLDERS = ("N", "I", "V", "NAME", "PROC", "K", "FILE")


def _literal(param: str) -> tuple[str, ...]:
    """The words a literal parameter accepts (r|rw -> r, rw); () for a placeholder."""
    return () if param in PLACEHOLDERS else tuple(param.split("|"))


def _accepts(param: str, word: str) -> bool:
    """Does word fit the literal parameter (thp=K accepts thp=4, file=F accepts file=m)?"""
    return any(
        word.startswith(alt.split("=")[0] + "=") if "=" in alt else word == alt
        for alt in _literal(param)
    )


def _match(verb: Verb, words: list[str]) -> tuple[str, ...] | None:
    """The argument words in the verb's order (None if they do not fit its params)."""
    required = [p for p in verb.params if not p.startswith("[")]
    optional = [p[1:-1] for p in verb.params if p.startswith("[")]
    if len(words) < len(required):
        return None
    if required and required[-1] == "V":
        return (*words[: len(required) - 1], " ".join(words[len(required) - 1 :]))
    fixed, rest = words[: len(required)], words[len(required) :]
    for param, word in zip(required, fixed, strict=True):
        if _literal(param) and not _accepts(param, word):
            return None
    chosen: dict[str, str] = {}
    for word in rest:
        free = [p for p in optional if p not in chosen]
        slot = next((p for p in free if _accepts(p, word)), None) or next(
            (p for p in free if not _literal(p)), None
        )
        if slot is None:
            return None
        chosen[slot] = word
    return (*fixed, *(chosen[p] for p in optional if p in chosen))
