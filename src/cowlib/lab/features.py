"""What this machine lets the lab observe, each answer with its reason.

Experiments declare the features they need; a missing one turns the
experiment into a skipped result that carries the reason, never a crash.
Detection only reads and probes: it changes no setting.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from . import guardian, pagemap, syscalls

SCRATCH_DIR = guardian.BASE  # O_DIRECT test files (unnamed) and the guardian's state directories
THP_SYSFS = "/sys/kernel/mm/transparent_hugepage"
NR_HUGEPAGES = guardian.NR_HUGEPAGES
HUGE_PAGE_BYTES = 2 << 20  # the large experiments map 512 pages of 4 KiB (x86-64)
BASE_PAGE_BYTES = 4096
NO_DIRECT_IO_FS = {"tmpfs", "ramfs", "proc", "sysfs"}


@dataclass(frozen=True)
class Feature:
    name: str
    ok: bool
    reason: str

    def __str__(self) -> str:
        return f"{self.name:8} {'yes' if self.ok else 'no ':3}  {self.reason}"


def detect_linux() -> Feature:
    if not sys.platform.startswith("linux"):
        return Feature("linux", False, f"not Linux (platform {sys.platform})")
    if not os.access("/proc/self/pagemap", os.R_OK):
        return Feature("linux", False, "/proc/self/pagemap unreadable (CONFIG_PROC_PAGE_MONITOR?)")
    return Feature("linux", True, f"Linux {os.uname().release}, /proc/self/pagemap readable")


def detect_root() -> Feature:
    """PFNs in pagemap and /proc/kpageflags both need CAP_SYS_ADMIN."""
    region = syscalls.Region(1)
    try:
        region.write(0, "probe")
        (entry,) = pagemap.read_pagemap(os.getpid(), region.addr)
    finally:
        region.close()
    if entry.pfn is None:
        return Feature("root", False, "pagemap hides PFNs (needs CAP_SYS_ADMIN): no page identity")
    if not pagemap.frames_readable():
        return Feature("root", False, "/proc/kpageflags unreadable: no AnonExclusive or mapcount")
    return Feature("root", True, "PFNs, kpageflags (AnonExclusive = bit 34) and kpagecount")


def detect_io_uring() -> Feature:
    try:
        with open("/proc/sys/kernel/io_uring_disabled") as f:
            disabled = f.read().strip()
    except FileNotFoundError:
        disabled = "0"
    if disabled == "2":
        return Feature("io_uring", False, "kernel.io_uring_disabled = 2")
    try:
        os.close(syscalls.io_uring_setup(1))
    except OSError as e:
        return Feature("io_uring", False, f"io_uring_setup refused: {e.strerror}")
    return Feature("io_uring", True, f"io_uring_setup works (io_uring_disabled = {disabled})")


def detect_swap() -> Feature:
    """swapon needs CAP_SYS_ADMIN, CONFIG_SWAP and a scratch filesystem for the swapfile."""
    if not os.path.exists("/proc/swaps"):
        return Feature("swap", False, "no /proc/swaps: kernel built without CONFIG_SWAP")
    if os.geteuid() != 0:
        return Feature("swap", False, "swapon needs root")
    if not os.access(SCRATCH_DIR, os.W_OK):
        return Feature("swap", False, f"{SCRATCH_DIR} not writable for a temporary swapfile")
    return Feature("swap", True, f"root; temporary swapfile in {SCRATCH_DIR}, removed after use")


def filesystem_type(path: str) -> str:
    """The type of the filesystem mounted at the longest prefix of ``path``."""
    path = os.path.realpath(path)
    best, kind = "", "unknown"
    with open("/proc/self/mounts") as f:
        for line in f:
            _, mount, fstype, *_ = line.split()
            inside = path == mount or path.startswith(mount.rstrip("/") + "/")
            if inside and len(mount) >= len(best):
                best, kind = mount, fstype
    return kind


def detect_odirect() -> Feature:
    """A real O_DIRECT write pins the user page; tmpfs only pretends to do direct I/O."""
    kind = filesystem_type(SCRATCH_DIR)
    if kind in NO_DIRECT_IO_FS:
        return Feature("odirect", False, f"{SCRATCH_DIR} is {kind}: no direct I/O")
    region = syscalls.Region(1)
    try:
        region.write(0, "probe")
        syscalls.direct_write(SCRATCH_DIR, region.addr)
    except OSError as e:
        return Feature("odirect", False, f"O_DIRECT write on {SCRATCH_DIR} ({kind}): {e.strerror}")
    finally:
        region.close()
    return Feature("odirect", True, f"O_DIRECT works on {SCRATCH_DIR} ({kind}), unnamed files")


def read_sysfs(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def detect_thp() -> Feature:
    """MADV_HUGEPAGE gets a PMD-sized THP unless THP is off or the PMD is not 2 MiB."""
    enabled = read_sysfs(f"{THP_SYSFS}/enabled")
    if enabled is None:
        return Feature("thp", False, "no transparent hugepages (CONFIG_TRANSPARENT_HUGEPAGE)")
    if "[never]" in enabled:
        return Feature("thp", False, f"transparent_hugepage/enabled is {enabled}")
    if pagemap.PAGE_SIZE != BASE_PAGE_BYTES:
        return Feature("thp", False, f"{pagemap.PAGE_SIZE}-byte pages: written for 4 KiB pages")
    pmd = read_sysfs(f"{THP_SYSFS}/hpage_pmd_size")
    if pmd != str(HUGE_PAGE_BYTES):
        return Feature("thp", False, f"PMD size {pmd} bytes: the experiments map 2 MiB THPs")
    mode = enabled.split("[")[1].split("]")[0]
    return Feature("thp", True, f"THP {mode}, 2 MiB PMD; MADV_HUGEPAGE asks for one")


def detect_hugetlb() -> Feature:
    """Reserving huge pages needs hugetlbfs, a 2 MiB default size and root."""
    if read_sysfs(NR_HUGEPAGES) is None:
        return Feature("hugetlb", False, f"no {NR_HUGEPAGES} (CONFIG_HUGETLB_PAGE)")
    if pagemap.PAGE_SIZE != BASE_PAGE_BYTES:
        return Feature("hugetlb", False, f"{pagemap.PAGE_SIZE}-byte pages: written for 4 KiB pages")
    size = default_huge_page_kb()
    if size != HUGE_PAGE_BYTES // 1024:
        return Feature("hugetlb", False, f"default huge page size {size} kB, not 2048 kB")
    if not os.access(NR_HUGEPAGES, os.W_OK):
        return Feature("hugetlb", False, f"{NR_HUGEPAGES} not writable (needs root)")
    if not os.access(SCRATCH_DIR, os.W_OK):
        return Feature("hugetlb", False, f"{SCRATCH_DIR} not writable for the guardian's records")
    return Feature(
        "hugetlb",
        True,
        f"root; 2 huge pages of 2048 kB reserved through {NR_HUGEPAGES}, then freed",
    )


def default_huge_page_kb() -> int | None:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("Hugepagesize:"):
                return int(line.split()[1])
    return None


DETECTORS = {
    "linux": detect_linux,
    "root": detect_root,
    "io_uring": detect_io_uring,
    "swap": detect_swap,
    "odirect": detect_odirect,
    "thp": detect_thp,
    "hugetlb": detect_hugetlb,
}


def available() -> dict[str, Feature]:
    """Detect every feature; without Linux nothing else is probed."""
    linux = DETECTORS["linux"]()
    if not linux.ok:
        return {
            name: linux if name == "linux" else Feature(name, False, "not Linux")
            for name in DETECTORS
        }
    return {name: detect() for name, detect in DETECTORS.items()}
