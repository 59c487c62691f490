"""The package's layers: each module imports only from the layers below it.

Nothing below the facade (kernel.py) may name Kernel or Process, not even for typing; the
kernel paths are functions over (machine, mm). The table is the one in the API appendix.
"""

import ast
from pathlib import Path

import cowlib

SRC = Path(cowlib.__file__).parent
# kernel paths may call each other only downwards in this order (mm/ files call each other)
PATHS = [
    "swap",
    "swapfile",
    "huge_memory",
    "hugetlb",
    "rmap",
    "memory",
    "gup",
    "vmscan",
    "khugepaged",
    "madvise",
    "mmap",
    "mremap",
    "mprotect",
    "fork",
]
LAYERS = [
    {"errors"},
    {"mm_types", "history", "kernel_names"},
    {"policy"},
    {"trace"},
    {"machine"},
    set(PATHS),
    {"oracle"},
    {"grammar"},
    {"kernel"},
    {"actions"},
    {"scenarios", "selftest"},
    {"replay", "moves"},
    {"explore"},
    {"lab"},
    {"view"},
    {"cli", "web"},
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def module_of(path: Path) -> str:
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def imported(path: Path) -> set[str]:
    """The cowlib modules a file imports (top-level names under cowlib)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and path.parent == SRC:
                names = [node.module] if node.module else [a.name for a in node.names]
            elif node.level == 2 or (node.level == 1 and path.parent != SRC):
                if node.level == 1:
                    continue  # inside a subpackage (view/, lab/): its own modules
                names = [node.module] if node.module else [a.name for a in node.names]
            elif node.module and node.module.startswith("cowlib"):
                names = [node.module.split(".")[1]] if "." in node.module else []
            else:
                continue
            found |= {n.split(".")[0] for n in names if n}
    return found - {"__init__"}


def files():
    return [p for p in SRC.rglob("*.py") if p.name != "__init__.py" or p.parent != SRC]


def test_every_module_has_a_layer():
    assert {module_of(p) for p in files()} <= set(RANK)


def test_modules_import_only_from_lower_layers():
    for path in files():
        me = module_of(path)
        for other in imported(path):
            if other == me:
                continue
            ok = RANK[other] < RANK[me] or (
                me in PATHS and other in PATHS and PATHS.index(other) < PATHS.index(me)
            )
            assert ok, f"{path.relative_to(SRC)} imports {other}"


def test_nothing_below_the_facade_names_kernel_or_process():
    for path in files():
        if RANK[module_of(path)] >= RANK["kernel"]:
            continue
        tree = ast.parse(path.read_text())
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not {"Kernel", "Process"} & names, path
        assert "kernel" not in imported(path), path
