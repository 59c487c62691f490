"""Bad input raises a clear CowError subclass and leaves the model untouched."""

import pytest

import cowlib
from cowlib import (
    BadAddress,
    BadArgument,
    Busy,
    CowError,
    HandleReleased,
    Kernel,
    ProcessExited,
    SegFault,
    UnknownPreset,
)
from cowlib.actions import run_actions


@pytest.fixture
def k():
    k = Kernel("linux-5.11")
    p = k.spawn("P")
    a = p.mmap(pages=1)
    p.write(a, "X")
    return k


def unchanged(k, fn, error, match):
    before, steps = k.snapshot(), len(k.trace)
    with pytest.raises(error, match=match):
        fn()
    assert k.snapshot() == before and len(k.trace) == steps


def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(UnknownPreset, match="valid presets: linux-5.7, linux-5.8"):
        Kernel("linux-4.0")


def test_unknown_rule_and_switch():
    with pytest.raises(BadArgument, match="rules: rule1, rule2, rule3, rule4"):
        cowlib.PRESETS["linux-5.11"].without("rule9")
    with pytest.raises(BadArgument, match="unknown switch"):
        cowlib.PRESETS["linux-5.11"].replace(no_such_switch=True)


def test_unmapped_address(k):
    p = k.procs["P"]
    unchanged(k, lambda: p.read(0x90000), SegFault, "unmapped address 0x90000")
    unchanged(k, lambda: p.munmap(0x90000), BadAddress, "not mapped; mapped: 0x10000-0x11000")
    unchanged(k, lambda: p.pin(0x90000), BadAddress, "not mapped")
    unchanged(k, lambda: p.write(0x10001, "Y"), BadAddress, "page-aligned")


def test_write_to_read_only_mapping_is_a_segfault(k):
    p = k.procs["P"]
    p.mprotect(0x10000, write=False)
    unchanged(k, lambda: p.write(0x10000, "Y"), SegFault, "SIGSEGV")
    unchanged(k, lambda: p.pin(0x10000, write=True), BadAddress, "FOLL_WRITE")


def test_unpin_twice(k):
    pin = k.procs["P"].pin(0x10000)
    pin.unpin()
    unchanged(k, pin.unpin, HandleReleased, "already released")
    unchanged(k, pin.read, HandleReleased, "already released")


def test_read_only_pin_cannot_take_device_writes(k):
    pin = k.procs["P"].pin(0x10000, write=False)
    unchanged(k, lambda: pin.write("dma"), BadArgument, "read-only pin")


def test_use_of_an_exited_process(k):
    c = k.procs["P"].fork("C")
    c.exit()
    unchanged(k, lambda: c.read(0x10000), ProcessExited, "C has exited")
    unchanged(k, lambda: c.exit(), ProcessExited, "C has exited")


def test_pages_must_be_positive_and_names_unique(k):
    p = k.procs["P"]
    unchanged(k, lambda: p.mmap(pages=0), BadArgument, "pages >= 1")
    unchanged(k, lambda: p.munmap(0x10000, pages=-1), BadArgument, "pages must be >= 1")
    unchanged(k, lambda: p.fork("P"), BadArgument, "already a process")
    unchanged(k, lambda: k.spawn("lower"), BadArgument, "capital letter")
    unchanged(k, lambda: p.write(0x10000, 5), BadArgument, "str value")


def test_fork_holds_mmap_lock(k):
    p = k.procs["P"]
    c = p.fork_begin("C")
    unchanged(k, lambda: p.write(0x10000, "Y"), Busy, "in fork")
    unchanged(k, lambda: c.read(0x10000), Busy, "still being created")
    unchanged(k, lambda: p.fork_share(0x10000), Busy, "out of order")
    p.fork_end()
    assert c.read(0x10000) == "X"


def test_action_errors_name_the_action():
    with pytest.raises(BadArgument, match="'Q:read 0': no process, pin, pipe or ref"):
        run_actions("Q:read 0")
    with pytest.raises(BadArgument, match="unknown process verb 'jump'"):
        run_actions("P:mmap 1; P:jump")
    with pytest.raises(CowError):
        run_actions("P:mmap 1; pin9:read")


MISUSES = {  # error class -> (actions that set it up, the misuse)
    UnknownPreset: ("", lambda k: k.process("P").fork("C") and Kernel("linux-4.0")),
    BadArgument: ("", lambda k: k.process("P").mmap(pages=0)),
    BadAddress: ("", lambda k: k.process("P").munmap(0x90000)),
    SegFault: ("", lambda k: k.process("P").read(0x90000)),
    ProcessExited: ("P:fork C; C:exit", lambda k: k.process("C").read(0x10000)),
    HandleReleased: ("P:get 0; ref1:put", lambda k: k.handle("ref1").put()),
    Busy: ("", lambda k: k.process("P").gupf_pin()),
}


def test_every_error_class_is_what_its_misuse_raises_and_nothing_changes():
    """Each CowError subclass cowlib exports is raised for its misuse, leaving no trace.

    A new error class without a misuse here, or a misuse raising another class, fails."""
    exported = {
        obj
        for obj in vars(cowlib).values()
        if isinstance(obj, type) and issubclass(obj, CowError) and obj is not CowError
    }
    assert exported == set(MISUSES)
    for cls, (setup, misuse) in MISUSES.items():
        k = run_actions("P:mmap 1; P:write 0 X; " + setup)
        before, steps = k.snapshot(), len(k.trace)
        with pytest.raises(CowError) as caught:
            misuse(k)
        assert type(caught.value) is cls, (cls, caught.value)
        if cls is not UnknownPreset:  # its misuse forks first, then asks for a bad preset
            assert k.snapshot() == before and len(k.trace) == steps, cls
