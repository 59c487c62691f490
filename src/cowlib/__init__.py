"""cowlib: a model of Linux anonymous copy-on-write, GUP pinning and swap, by kernel era.

    from cowlib import Kernel
    k = Kernel("linux-5.7")
    p = k.spawn("P"); a = p.mmap(); p.write(a, "X")
    c = p.fork("C"); pipe = c.vmsplice(a); c.munmap(a); p.write(a, "Y")
    pipe.read()          # 'Y' under linux-5.7: CVE-2020-29374
    k.violations         # [Violation('leak', ...)]

Views (text, svg, player, widgets, plots) live in cowlib.view and import their heavy
dependencies lazily, so importing cowlib stays light.
"""

from .errors import (
    BadAddress,
    BadArgument,
    Busy,
    CowError,
    HandleReleased,
    ProcessExited,
    SegFault,
    UnknownPreset,
)
from .kernel import Handle, Kernel, Pin, Pipe, Process, Ref
from .mm_types import GUP_PIN_COUNTING_BIAS, MMAP_BASE, PAGE_SIZE
from .policy import NEWEST, PRESETS, RULES, SWITCHES, Policy
from .trace import CLASSES, VIOLATION_KINDS, Snapshot, Step, Violation, trace_to_json

__all__ = [
    "CLASSES",
    "GUP_PIN_COUNTING_BIAS",
    "MMAP_BASE",
    "NEWEST",
    "PAGE_SIZE",
    "PRESETS",
    "RULES",
    "SWITCHES",
    "VIOLATION_KINDS",
    "BadAddress",
    "BadArgument",
    "Busy",
    "CowError",
    "Handle",
    "HandleReleased",
    "Kernel",
    "Pin",
    "Pipe",
    "Policy",
    "Process",
    "ProcessExited",
    "Ref",
    "SegFault",
    "Snapshot",
    "Step",
    "UnknownPreset",
    "Violation",
    "trace_to_json",
]
