"""What the book's in-page runner asks of cowlib: a player for actions, a preset, rules off.

The HTML book runs this module in the reader's browser (Pyodide in a Web Worker, from the
cowlib wheel built with the book; see book/_ext/cowrunner.py); it is plain Python and
runs the same under CPython::

    build("P:mmap 1; P:write 0 X; P:fork C", "linux-5.11", ["rule4"])
    # {'html': '<div class="cow-player" ...'}   or   {'error': "<the model's message>"}

With rules off, the player shows the preset itself beside the preset without them and
starts on the latter, so a reader sees what turning the rules off changed. An action the
parser or the kernel under the chosen policy refuses is an error, not a player: the
runner shows the message next to the input and keeps the player it had.
"""

from __future__ import annotations

from collections.abc import Iterable

from .actions import run_actions, split_actions
from .errors import CowError, UnknownPreset
from .policy import PRESETS, Policy
from .view.player import Player


def policy_for(preset: str, rules_off: Iterable[str] = ()) -> Policy:
    """PRESETS[preset] with the named rules ("rule1" .. "rule4") turned off."""
    if preset not in PRESETS:
        raise UnknownPreset(f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}")
    off = sorted(set(rules_off))
    return PRESETS[preset].without(*off) if off else PRESETS[preset]


def build(actions: str, preset: str, rules_off: Iterable[str] = ()) -> dict[str, str]:
    """{"html": the player's HTML} or {"error": why the actions cannot run}."""
    try:
        policy = policy_for(preset, rules_off)
        steps = split_actions(actions)
        run_actions(steps, policy)
        presets = [policy] if policy.name == preset else [PRESETS[preset], policy]
        return {"html": Player(steps, presets=presets, start_preset=policy).html()}
    except CowError as e:
        return {"error": str(e)}
