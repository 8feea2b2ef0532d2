"""Every docstring example in the package runs and gives what it shows (``>>>`` lines)."""

from __future__ import annotations

import doctest
import importlib

import pytest

from conftest import REPO

PACKAGE = REPO / "optimizer"
WITH_EXAMPLES = sorted(".".join(p.relative_to(REPO).with_suffix("").parts)
                       for p in PACKAGE.rglob("*.py") if ">>> " in p.read_text(encoding="utf-8"))


def test_some_modules_have_examples():
    assert "optimizer.io.options" in WITH_EXAMPLES


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
