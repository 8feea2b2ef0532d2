"""The package's shape: dependencies point down the pipeline, HiGHS has one adapter.

Layers, lowest first (docs/architecture.md): ``io`` → ``prep`` → ``model`` →
``solve`` → ``evaluate`` → ``workflows`` → ``forecast`` / ``monitor`` → ``report``
→ ``cli``.  A module may import its own layer and the layers below, never above;
only :mod:`optimizer.solve.highs` imports highspy; the product never imports the
sample generators.
"""

from __future__ import annotations

import ast

import pytest

from conftest import REPO

PACKAGE = REPO / "optimizer"
LAYER = {"io": 0, "prep": 1, "model": 2, "solve": 3, "evaluate": 4, "workflows": 5,
         "forecast": 6, "monitor": 6, "report": 7, "cli": 8, "__main__": 9}


def _layer_of(module: str) -> int | None:
    """Layer of ``optimizer.<sub>...`` (None for the package's own ``__init__``)."""
    parts = module.split(".")
    return LAYER.get(parts[1]) if len(parts) > 1 and parts[0] == "optimizer" else None


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_the_pipeline(path):
    rel = path.relative_to(REPO).with_suffix("")
    own = _layer_of(".".join(rel.parts))
    wrong = []
    for module, line in _imports(path):
        if module.split(".")[0] == "samples":
            wrong.append(f"line {line}: {module} (the sample generators are not part of the product)")
        if module.split(".")[0] == "highspy" and rel.as_posix() != "optimizer/solve/highs":
            wrong.append(f"line {line}: {module} (only optimizer/solve/highs.py talks to HiGHS)")
        target = _layer_of(module)
        if own is not None and target is not None and target > own:
            wrong.append(f"line {line}: {module} is above {rel.parts[1]}")
    assert not wrong, f"{rel}: " + "; ".join(wrong)


def test_every_public_name_resolves():
    # the README's example reads `import optimizer as opt; opt.plan_campaign(...)`
    import optimizer

    for name in optimizer.__all__:
        assert getattr(optimizer, name) is not None, name
    assert optimizer.__version__ and "Planner" in dir(optimizer)
