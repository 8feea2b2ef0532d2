"""The package's shape: every layering rule of docs/architecture.md ("Dependency direction").

Layers, lowest first: ``io`` (with the top-level ``progress`` and ``settings``) →
``prep`` → ``model`` → ``solve`` → ``evaluate`` → ``workflows`` → ``forecast`` /
``monitor`` → ``report`` → ``cli``.  A module may import its own layer and the layers
below, never above, and every part of the package has a layer.  Where the docs say a
part imports "only" some others, it does; ``forecast`` and ``monitor`` never import each
other; ``evaluate`` never imports the model or the solver; only
:mod:`optimizer.solve.highs` talks to the solver (highspy or a Pyomo solver interface);
the product never imports the sample generators, which import only ``optimizer.io``.
"""

from __future__ import annotations

import ast

import pytest

from conftest import REPO

PACKAGE = REPO / "optimizer"
SAMPLES = REPO / "samples"
LAYER = {"io": 0, "progress": 0, "settings": 0, "status": 0, "prep": 1, "model": 2, "solve": 3, "evaluate": 4,
         "workflows": 5, "forecast": 6, "monitor": 6, "report": 7, "cli": 8, "__main__": 9}
# The bottom utilities: every part above layer 0 may use them.
UTILITIES = {"progress", "settings", "status"}
# What a part imports from the package besides itself (and the utilities), where the docs say "only".
ONLY = {"io": {"status"}, "progress": set(), "settings": {"io"}, "status": set(), "prep": {"io"}, "model": {"prep"},
        "solve": {"model", "prep"}, "evaluate": {"prep", "io"},
        "workflows": {"io", "prep", "model", "solve", "evaluate"}, "forecast": {"io", "prep"}}
# Pyomo's and HiGHS's solver interfaces: only optimizer/solve/highs.py may use them.
SOLVER_MODULES = ("highspy", "pyomo.contrib.solver", "pyomo.contrib.appsi", "pyomo.solvers")
SOLVER_ADAPTER = "optimizer/solve/highs.py"


def _part(module: str) -> str | None:
    """``optimizer.<part>...`` → ``<part>`` (None outside the package or for the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "optimizer" else None


def _own_part(path) -> str:
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


def _imports(path):
    """(dotted name, line) of every import in ``path``: ``from a.b import c`` gives ``a.b.c``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno


def _solver_uses(path):
    """What in ``path`` reaches a solver: an import of a solver interface, or ``SolverFactory``."""
    for name, line in _imports(path):
        if any(name == m or name.startswith(m + ".") for m in SOLVER_MODULES) or name.endswith(".SolverFactory"):
            yield f"line {line}: {name}"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr == "SolverFactory":
            yield f"line {node.lineno}: {ast.unparse(node)}"


def _rel(path) -> str:
    return path.relative_to(REPO).as_posix()


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_part_of_the_package_has_a_layer():
    parts = {p.stem for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    parts |= {d.name for d in PACKAGE.iterdir() if d.is_dir() and any(d.glob("*.py"))}
    unplaced = sorted(parts - set(LAYER))
    assert not unplaced, (", ".join(f"optimizer/{p}" for p in unplaced) + " has no layer: place it in LAYER "
                          "(and in docs/architecture.md's dependency direction)")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_the_pipeline(path):
    own = _own_part(path)
    allowed = None
    if own in ONLY:
        allowed = ONLY[own] | {own} | (UTILITIES if LAYER[own] > 0 else set())
    wrong = []
    for module, line in _imports(path):
        if module.split(".")[0] == "samples":
            wrong.append(f"line {line}: {module} (the sample generators are not part of the product)")
        target = _part(module)
        if target is None:
            continue
        if LAYER.get(own, -1) < LAYER.get(target, -1):
            wrong.append(f"line {line}: {module} is above {own}")
        elif allowed is not None and target not in allowed:
            wrong.append(f"line {line}: {module} ({own} imports only {', '.join(sorted(ONLY[own])) or 'nothing'} "
                         "from the package)")
    assert not wrong, f"{_rel(path)}: " + "; ".join(wrong)


def _imports_of(parts: set[str], banned: set[str]) -> list[str]:
    return [f"{_rel(p)} line {line}: {module}" for p in MODULES if _own_part(p) in parts
            for module, line in _imports(p) if _part(module) in banned]


def test_forecast_and_monitor_never_import_each_other():
    assert not _imports_of({"forecast"}, {"monitor"}) + _imports_of({"monitor"}, {"forecast"})


def test_evaluate_never_imports_the_model_or_the_solver():
    # the reported numbers never depend on how the plan was found
    assert not _imports_of({"evaluate"}, {"model", "solve"})


def test_only_the_highs_adapter_talks_to_the_solver():
    wrong = [f"{_rel(p)} {use}" for p in MODULES if _rel(p) != SOLVER_ADAPTER for use in _solver_uses(p)]
    assert not wrong, f"only {SOLVER_ADAPTER} may import highspy or a Pyomo solver interface: " + "; ".join(wrong)


def test_the_sample_generators_import_only_io():
    wrong = [f"{_rel(p)} line {line}: {module}" for p in sorted(SAMPLES.rglob("*.py"))
             for module, line in _imports(p) if _part(module) not in (None, "io")]
    assert not wrong, "samples/ imports only optimizer.io: " + "; ".join(wrong)


def test_every_public_name_resolves():
    # the README's example reads `import optimizer as opt; opt.plan_campaign(...)`
    import optimizer

    for name in optimizer.__all__:
        assert getattr(optimizer, name) is not None, name
    assert optimizer.__version__ and "Planner" in dir(optimizer)


# The command line and the progress display print; the library logs (logging.getLogger(__name__)).
PRINTING = {"optimizer/cli/__init__.py", "optimizer/cli/commands.py", "optimizer/cli/parser.py",
            "optimizer/__main__.py", "optimizer/progress.py"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_library_logs_and_never_prints(path):
    if _rel(path) in PRINTING:
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [node.lineno for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"]
    assert not calls, f"{_rel(path)}: print() on line(s) {calls}: log through logging.getLogger(__name__)"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_statuses_are_the_status_enum_not_string_literals(path):
    """A status compared with, assigned or passed as a plain string is a typo waiting to happen."""
    from optimizer.status import Status

    if _rel(path) == "optimizer/status.py":
        return
    words = {s.value for s in Status}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for o in operands:  # a tuple of statuses; a tuple of column names that holds "error" is not one
                elts = o.elts if isinstance(o, ast.Tuple | ast.List | ast.Set) else []
                if elts and all(isinstance(e, ast.Constant) and e.value in words for e in elts):
                    found.append(o.lineno)
            found += [o.lineno for o in operands if isinstance(o, ast.Constant) and o.value in words]
        elif isinstance(node, ast.keyword) and node.arg in ("status", "failure"):
            found += [node.value.lineno] if isinstance(node.value, ast.Constant) and node.value.value in words else []
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and node.value.value in words:
            if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in node.targets):
                found.append(node.lineno)
    assert not found, f"{_rel(path)}: status literal on line(s) {found}: use optimizer.status.Status"
