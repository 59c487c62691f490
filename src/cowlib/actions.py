"""Applying actions (the language of cowlib.grammar) to a Kernel.

    run_actions("P:mmap 1; P:write 0 X; P:fork C", "linux-5.7")   # a Kernel
    apply(k, "P:write 0 Y")                                       # one action

cowlib.replay runs an action list under several policies; views render the traces
these produce and never replay anything themselves.
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import BadArgument, CowError
from .grammar import HANDLE, KERNEL, USAGE, Action, address, count, parse, split_actions
from .kernel import Kernel
from .policy import Policy

__all__ = ["USAGE", "apply", "perform", "run_actions", "split_actions"]


def run_actions(
    actions: str | Iterable[str], policy: str | Policy | None = None, kernel: Kernel | None = None
) -> Kernel:
    """Run every action on a new Kernel(policy) (or on kernel) and return it."""
    k = kernel if kernel is not None else Kernel(policy)
    for action in split_actions(actions):
        apply(k, action)
    return k


def apply(k: Kernel, text: str) -> object:
    """Run one action; errors name the action and say what is valid."""
    return perform(k, parse(text), text)


def perform(k: Kernel, action: Action, text: str) -> object:
    """Run one action already parsed from text (the explorer parses each text once)."""
    try:
        if action.kind == KERNEL:
            return _kernel(k, action)
        if action.kind == HANDLE:
            return _handle(k, action)
        return _process(k, action)
    except CowError as e:
        raise type(e)(f"{text!r}: {e}") from None


def _kernel(k: Kernel, a: Action) -> object:
    if a.verb == "spawn":
        return k.spawn(a.args[0])
    if a.verb == "pageout":
        pages = count(a.args[2]) if len(a.args) > 2 else 1
        return k.pageout(k.process(a.args[0]), address(a.args[1]), pages)
    if a.verb == "memfd":
        order = count(a.args[2]) if len(a.args) > 2 else 0
        return k.memfd(a.args[0], count(a.args[1]), hugetlb=order)
    return k.lru_drain()


def _handle(k: Kernel, a: Action) -> object:
    h = k.handle(a.subject)
    if a.verb == "read":
        return h.read()
    if a.verb == "write" and h.kind == "pin":
        return h.write(a.args[0])
    if a.verb == h.release_verb:
        return h.release()
    raise BadArgument(
        f"{h.name} is a {h.kind}; it cannot {a.verb} (it can read, "
        f"{'write V, ' if h.kind == 'pin' else ''}{h.release_verb})"
    )


def _process(k: Kernel, a: Action) -> object:
    name, verb, args = a.subject, a.verb, a.args
    if name not in k.procs:
        if verb != "mmap":
            raise BadArgument(
                f"no process, pin, pipe or ref named {name!r} (a process starts with mmap)"
            )
        k.spawn(name)
    p = k.process(name)
    if verb == "mmap":
        return _mmap(p, args)
    if verb == "memset":
        return p.memset(address(args[0]), count(args[1]), args[2])
    if verb == "madvise":
        order = count(args[3]) if len(args) > 3 else 0
        return p.madvise(address(args[0]), count(args[1]), args[2], order=order)
    if verb == "mremap":
        return p.mremap(address(args[0]), count(args[1]))
    if verb == "write":
        return p.write(address(args[0]), args[1])
    if verb in ("read", "fork_check", "fork_share"):
        return getattr(p, verb)(address(args[0]))
    if verb in ("fork", "fork_begin"):
        return getattr(p, verb)(args[0])
    if verb in ("exit", "fork_end", "gupf_pin", "gupf_check", "gupf_slow"):
        return getattr(p, verb)()
    if verb == "munmap":
        return p.munmap(address(args[0]), count(args[1]) if len(args) > 1 else 1)
    if verb == "mprotect":
        return p.mprotect(address(args[0]), count(args[1]), write=args[2] == "rw")
    if verb in ("vmsplice", "get"):
        return getattr(p, verb)(address(args[0]), *args[1:2])
    flags, names = set(args[1:]), [w for w in args[1:] if w not in PIN_FLAGS]
    handle = names[0] if names else None
    if verb == "pin":
        return p.pin(
            address(args[0]),
            write="ro" not in flags,
            longterm="short" not in flags,
            fast="fast" in flags,
            name=handle,
        )
    return p.gupf(address(args[0]), write="ro" not in flags, name=handle)


PIN_FLAGS = {"rw", "ro", "long", "short", "fast"}


def _mmap(p, args: tuple[str, ...]) -> object:
    """P:mmap [N] [thp=K|hugetlb=K|file=F] [shared] [ro]."""
    words = [w for w in args if "=" in w]
    kind = {}
    for word in words:
        key, _, value = word.partition("=")
        kind[key] = value if key == "file" else count(value)
    pages = [w for w in args if "=" not in w and w not in ("shared", "ro")]
    return p.mmap(
        count(pages[0]) if pages else 1, shared="shared" in args, write="ro" not in args, **kind
    )
