"""Errors: every misuse of the model raises a CowError subclass naming the problem.

The model validates before it mutates, so after any CowError the kernel state is
exactly what it was before the call.
"""


class CowError(Exception):
    """Base class of every error cowlib raises on bad input."""


class UnknownPreset(CowError):
    """A policy name that is not one of the presets."""


class BadArgument(CowError):
    """A malformed argument: pages < 1, a duplicate name, a non-string value."""


class BadAddress(CowError):
    """A system call (munmap, mprotect, GUP, pageout) on an address that is not mapped."""


class SegFault(CowError):
    """A CPU access the kernel would answer with SIGSEGV (unmapped, or write to read-only)."""


class ProcessExited(CowError):
    """Use of a process after exit()."""


class HandleReleased(CowError):
    """Use of a pin, reference or pipe after it was released (unpin twice, put twice)."""


class Busy(CowError):
    """The operation would block: fork holds mmap_lock, or a GUP step is out of order."""
