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
from .gup import Pin, Pipe, Ref
from .kernel import Kernel, Process
from .mm import MMAP_BASE
from .oracle import CLASSES, VIOLATION_KINDS
from .page import GUP_PIN_COUNTING_BIAS, PAGE_SIZE
from .policy import NEWEST, PRESETS, RULES, Policy
from .trace import Snapshot, Step, Violation, trace_to_json

__all__ = [
    "BadAddress", "BadArgument", "Busy", "CLASSES", "CowError", "GUP_PIN_COUNTING_BIAS",
    "HandleReleased", "Kernel", "MMAP_BASE", "NEWEST", "PAGE_SIZE", "PRESETS", "Pin", "Pipe",
    "Policy", "Process", "ProcessExited", "RULES", "Ref", "SegFault", "Snapshot", "Step",
    "UnknownPreset", "VIOLATION_KINDS", "Violation", "trace_to_json",
]
