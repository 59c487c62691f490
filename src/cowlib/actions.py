"""A one-line language for operation sequences, shared by scenarios, the CLI and the explorer.

    P:mmap 1; P:write 0 X; P:fork C; C:vmsplice 0; C:munmap 0; P:write 0 Y; pipe1:read

An action is SUBJECT:VERB ARGS. SUBJECT is a process (capitalised; `mmap` on an unknown
name spawns it), a handle (pipe1, pin1, ref1, ...) or K for the kernel. Addresses are
page indexes from the mmap base (0, 1, ...) or hex addresses (0x10000). Values are
shell-quoted when they contain spaces or semicolons.

  process verbs: mmap N | write I V | read I | fork NAME | exit | munmap I [N]
                 mprotect I N r|rw | vmsplice I [NAME] | get I [NAME]
                 pin I [rw|ro] [long|short] [fast] [NAME]
                 fork_begin NAME | fork_check I | fork_share I | fork_end
                 gupf I [rw|ro] [NAME] | gupf_pin | gupf_check | gupf_slow
  handle verbs:  read | write V (pins) | unpin | put | close
  kernel verbs:  K:spawn NAME | K:pageout PROC I | K:drain
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from .errors import BadArgument, CowError
from .gup import RELEASE_VERBS
from .kernel import Kernel
from .mm import MMAP_BASE
from .page import PAGE_SIZE
from .policy import Policy

USAGE = __doc__.split("\n\n", 2)[2]


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


def address(arg: str) -> int:
    """'2' -> third page from the mmap base; '0x12000' -> that address."""
    try:
        return int(arg, 16) if arg.startswith("0x") else MMAP_BASE + int(arg) * PAGE_SIZE
    except ValueError:
        raise BadArgument(f"bad address {arg!r}: use a page index (0, 1, ...) or hex") from None


def run_actions(actions: str | Iterable[str], policy: str | Policy | None = None,
                kernel: Kernel | None = None) -> Kernel:
    """Run every action on a new Kernel(policy) (or on kernel) and return it."""
    k = kernel if kernel is not None else Kernel(policy)
    for action in split_actions(actions):
        apply(k, action)
    return k


def apply(k: Kernel, action: str) -> object:
    """Run one action; errors name the action and say what is valid."""
    subject, sep, rest = action.partition(":")
    words = shlex.split(rest)
    if not sep or not words:
        raise BadArgument(f"{action!r}: expected SUBJECT:VERB ARGS\n{USAGE}")
    verb, args = words[0], words[1:]
    try:
        if subject == "K":
            return _kernel(k, verb, args)
        if subject in k.handles:
            return _handle(k, subject, verb, args)
        return _process(k, subject, verb, args)
    except CowError as e:
        raise type(e)(f"{action!r}: {e}") from None
    except (IndexError, ValueError):
        raise BadArgument(f"{action!r}: wrong arguments\n{USAGE}") from None


def _kernel(k: Kernel, verb: str, args: list[str]) -> object:
    if verb == "spawn":
        return k.spawn(args[0])
    if verb == "pageout":
        return k.pageout(k.process(args[0]), address(args[1]))
    if verb == "drain":
        return k.lru_drain()
    raise BadArgument(f"unknown kernel verb {verb!r}")


def _handle(k: Kernel, name: str, verb: str, args: list[str]) -> object:
    h = k.handle(name)
    if verb == "write" and args:
        return h.write(" ".join(args))
    if verb == "read" and not args:
        return h.read()
    if verb == RELEASE_VERBS[h.kind] and not args:
        return h.release()
    raise BadArgument(f"{name} is a {h.kind}; it cannot {verb} {' '.join(args)}".rstrip())


def _flags(args: list[str], allowed: set[str]) -> tuple[set[str], str | None]:
    """Split trailing words into known flags and an optional handle name."""
    flags = {a for a in args if a in allowed}
    names = [a for a in args if a not in allowed]
    if len(names) > 1:
        raise BadArgument(f"unexpected words {names}; flags are {sorted(allowed)}")
    return flags, (names[0] if names else None)


def _process(k: Kernel, name: str, verb: str, args: list[str]) -> object:
    if name not in k.procs:
        if verb != "mmap":
            raise BadArgument(f"no process, pin, pipe or ref named {name!r}")
        k.spawn(name)
    p = k.process(name)
    if verb == "mmap":
        return p.mmap(int(args[0]) if args else 1)
    if verb == "write":
        return p.write(address(args[0]), " ".join(args[1:]))
    if verb in ("read", "fork_check", "fork_share"):
        return getattr(p, verb)(address(args[0]))
    if verb in ("fork", "fork_begin"):
        return getattr(p, verb)(args[0])
    if verb in ("exit", "fork_end", "gupf_pin", "gupf_check", "gupf_slow"):
        return getattr(p, verb)()
    if verb == "munmap":
        return p.munmap(address(args[0]), int(args[1]) if len(args) > 1 else 1)
    if verb == "mprotect":
        if args[2] not in ("r", "rw"):
            raise BadArgument("mprotect protection is r or rw")
        return p.mprotect(address(args[0]), int(args[1]), write=args[2] == "rw")
    if verb in ("vmsplice", "get"):
        return getattr(p, verb)(address(args[0]), *args[1:2])
    if verb == "pin":
        flags, handle = _flags(args[1:], {"rw", "ro", "long", "short", "fast"})
        return p.pin(address(args[0]), write="ro" not in flags, longterm="short" not in flags,
                      fast="fast" in flags, name=handle)
    if verb == "gupf":
        flags, handle = _flags(args[1:], {"rw", "ro"})
        return p.gupf(address(args[0]), write="ro" not in flags, name=handle)
    raise BadArgument(f"unknown process verb {verb!r}\n{USAGE}")


OPS = ("write", "read", "fork", "exit", "munmap", "mprotect", "vmsplice", "get", "pin",
       "pageout", "drain", "handle_read", "handle_write", "release")


def choose_action(k: Kernel, op: int, who: int, page: int, flag: int, pages: int = 2,
                  max_procs: int = 3) -> str | None:
    """Turn four small numbers into an action valid-looking in k's state (None if not).

    Used by random quizzes and by the hypothesis tests, so both explore the same
    universe: up to max_procs processes over one mapping of `pages` pages.
    """
    procs = [p for p in k.procs.values() if p.alive]
    if not procs:
        return None
    p = procs[who % len(procs)]
    i = page % pages
    value = f"{p.name.lower()}{len(k.trace)}"
    name = OPS[op % len(OPS)]
    handles = [h for h in k.live_handles() if h.pfn is not None]
    if name in ("handle_read", "handle_write", "release"):
        if not handles:
            return None
        h = handles[who % len(handles)]
        if name == "handle_read":
            return f"{h.name}:read"
        if name == "handle_write":
            return f"{h.name}:write dma{len(k.trace)}" if h.pin and h.writable else None
        return f"{h.name}:{RELEASE_VERBS[h.kind]}"
    if name == "fork":
        if len(k.procs) >= max_procs:
            return None
        return f"{p.name}:fork {'CDEFGH'[len(k.procs) - 1]}"
    if name == "exit":
        return f"{p.name}:exit" if len(procs) > 1 else None
    if name == "pageout":
        return f"K:pageout {p.name} {i}"
    if name == "drain":
        return "K:drain"
    return {
        "write": f"{p.name}:write {i} {value}",
        "read": f"{p.name}:read {i}",
        "munmap": f"{p.name}:munmap {i}",
        "mprotect": f"{p.name}:mprotect {i} 1 {'rw' if flag % 2 else 'r'}",
        "vmsplice": f"{p.name}:vmsplice {i}",
        "get": f"{p.name}:get {i}",
        "pin": f"{p.name}:pin {i} {'rw' if flag % 2 else 'ro'} "
               f"{'long' if flag % 4 < 2 else 'short'}",
    }[name]


def try_choice(k: Kernel, choice: tuple[int, int, int, int], pages: int) -> str | None:
    """Apply the action choose_action() makes of choice; None if none or refused."""
    action = choose_action(k, *choice, pages=pages)
    if action is None:
        return None
    try:
        apply(k, action)
    except CowError:
        return None
    return action


def random_actions(seed: int, length: int = 8, pages: int = 1, policy: str | Policy | None = None
                   ) -> list[str]:
    """A reproducible random operation sequence (valid under every preset)."""
    import random
    rng = random.Random(seed)
    k = Kernel(policy)
    actions = [f"P:mmap {pages}", "P:write 0 X", "P:fork C"]
    run_actions(actions, kernel=k)
    tries = 0
    while len(actions) < length and tries < 50 * length:
        tries += 1
        choice = (rng.randrange(len(OPS)), rng.randrange(6), rng.randrange(pages),
                  rng.randrange(4))
        action = try_choice(k, choice, pages)
        if action is not None:
            actions.append(action)
    return actions
