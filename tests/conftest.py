"""Shared paths, helpers and layers of the test suite.

Layers (pytest markers, registered in pyproject.toml): ``slow``, ``notebook``,
``browser``, ``distributed`` and ``conformance`` are set on the tests; every test
with none of them is also marked ``quick`` (``pytest -m quick``: the inner loop).

Known-optimum campaigns: the repository's own hand-derived micro campaigns
(tests/campaigns/, each with a README.md deriving its optimum) and the shared
conformance cases, read in place from ../shared/conformance, ../shared/conformance-v2
and ../shared/conformance-v3 (never copied into the repo).  Without ../shared the
shared cases show as skipped; a v2 or v3 case runs once the SPEC section it pins is
implemented (:data:`IMPLEMENTED_SPEC_SECTIONS`).
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SHARED = REPO.parent / "shared"
SHARED_CONFORMANCE = SHARED / "conformance"
SHARED_CONFORMANCE_V2 = SHARED / "conformance-v2"
SHARED_CONFORMANCE_V3 = SHARED / "conformance-v3"
OWN_CAMPAIGNS = TESTS / "campaigns"

# The SPEC sections the conformance-v2 cases pin, by case-name prefix.
V2_SECTION = {"c13": "§6", "c14": "§6", "c15": "§6", "c16": "§6", "c17": "§6", "c18": "§7", "c19": "§7"}
# ... and the conformance-v3 cases: c20–c22 the two-stage plan, c23 §6's PO cycle.
V3_SECTION = {"c20": "§8", "c21": "§8", "c22": "§8", "c23": "§6"}
SECTION_NAME = {"§6": "seller economics", "§7": "demand distributions", "§8": "two-stage plan"}
# Sections the engine implements: their v2 cases run with the others.
IMPLEMENTED_SPEC_SECTIONS: frozenset[str] = frozenset({"§6", "§7", "§8"})

LAYERS = ("slow", "notebook", "browser", "distributed", "conformance")

# `from checker import ...` in the test modules (tests/ is not a package).
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

CLI_TIMEOUT_S = 600


def pytest_collection_modifyitems(config, items):
    """Mark every test outside the heavier layers ``quick``."""
    for item in items:
        if not any(item.get_closest_marker(layer) for layer in LAYERS):
            item.add_marker(pytest.mark.quick)


def case_folders(root: Path) -> list[Path]:
    """Every case folder under ``root`` that carries an expected.json."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "expected.json").exists())


def conformance_cases() -> list[Path]:
    """The shared conformance cases (../shared/conformance); empty without ../shared."""
    return case_folders(SHARED_CONFORMANCE)


def known_optimum_cases() -> list:
    """``pytest.param`` per known-optimum campaign: own, shared, shared v2 and v3.

    A missing ../shared folder, or a v2 / v3 case whose SPEC section is not implemented,
    is one visible skip with its reason rather than silently no test.
    """
    params = [pytest.param(p, id=f"own/{p.name}") for p in case_folders(OWN_CAMPAIGNS)]
    for root, label, sections in ((SHARED_CONFORMANCE, "shared", {}),
                                  (SHARED_CONFORMANCE_V2, "shared-v2", V2_SECTION),
                                  (SHARED_CONFORMANCE_V3, "shared-v3", V3_SECTION)):
        cases = case_folders(root)
        if not cases:
            params.append(pytest.param(None, id=label, marks=pytest.mark.skip(
                reason=f"no conformance cases at {root} (clone ../shared beside the repo to run them)")))
        for p in cases:
            section = sections.get(p.name[:3])
            marks = []
            if section is not None and section not in IMPLEMENTED_SPEC_SECTIONS:
                marks.append(pytest.mark.skip(
                    reason=f"pins SPEC {section} ({SECTION_NAME[section]}), not implemented yet"))
            params.append(pytest.param(p, id=f"{label}/{p.name}", marks=marks))
    return params


def load_expected(case: Path) -> dict:
    return json.loads((case / "expected.json").read_text(encoding="utf-8"))


def plan_args(campaign_dir: Path, out_dir: Path, budget: float | None = None,
              delays: dict[str, int] | None = None) -> list[str]:
    """argv for `python -m optimizer plan ...` (without the interpreter)."""
    args = ["plan", str(campaign_dir), "--out", str(out_dir)]
    if budget is not None:
        args += ["--budget", repr(float(budget))]
    for mode, days in (delays or {}).items():
        args += ["--delay", f"{mode}={int(days)}"]
    return args


def run_cli(args: list[str], timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run the real command line, `python -m optimizer ARGS`, from the repo root."""
    return subprocess.run([sys.executable, "-m", "optimizer", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def run_plan_in_process(campaign_dir: Path, out_dir: Path, budget: float | None = None,
                        delays: dict[str, int] | None = None) -> tuple[int, str]:
    """`optimizer.cli.main(["plan", ...])` in this process; returns (exit code, output).

    Much faster than a subprocess (no interpreter / Pyomo import per run), for the
    property tests. A SystemExit raised instead of returned is turned into its code.
    """
    from optimizer.cli import main  # imported lazily: the engine may not exist yet

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            code = main(plan_args(campaign_dir, out_dir, budget, delays))
        except SystemExit as exc:  # argparse errors, sys.exit(...) in main
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return (0 if code is None else int(code)), buf.getvalue()


# --------------------------------------------------------------------------
# Writing small campaigns (newsvendor and property tests)
# --------------------------------------------------------------------------

SKU_COLUMNS = ["sku", "supplier", "unit_cost", "price", "weight_kg", "volume_m3",
               "case_pack", "moq", "production_days", "duty_rate", "salvage_value",
               "return_rate"]
LANE_COLUMNS = ["warehouse", "mode", "transit_days", "cost_per_kg", "cost_per_m3",
                "volumetric_kg_per_m3", "shipment_cost", "shipment_m3", "capacity_m3"]


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, date):
        return v.isoformat()       # a bare TOML local date
    return json.dumps(str(v))


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    def cell(v):
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():
            return repr(v)
        return str(v)
    lines = [",".join(columns)]
    lines += [",".join(cell(r.get(c)) for c in columns) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_campaign(directory: Path, config: dict, skus: list[dict], warehouses: list[dict],
                   lanes: list[dict], demand: list[dict], suppliers: list[dict] | None = None,
                   inventory: list[dict] | None = None, fees: list[dict] | None = None) -> Path:
    """Write a campaign folder (SPEC §1, §6). Rows are dicts; None / missing cells are empty.

    Optional columns (e.g. stockout_penalty, referral_fee_rate, bonded, deposit_share)
    are written when any row has them; a config value that is a dict is a TOML table,
    a list of dicts an array of tables (``[[cash_limits]]``).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    toml = "\n".join(f"{k} = {_toml_value(v)}" for k, v in config.items()
                     if v is not None and not isinstance(v, (dict, list)))
    for table, body in config.items():
        if isinstance(body, dict):
            toml += f"\n\n[{table}]\n" + "\n".join(f"{k} = {_toml_value(v)}"
                                                   for k, v in body.items())
        elif isinstance(body, list):
            for entry in body:
                toml += f"\n\n[[{table}]]\n" + "\n".join(f"{k} = {_toml_value(v)}"
                                                         for k, v in entry.items())
    (directory / "campaign.toml").write_text(toml + "\n", encoding="utf-8")

    def columns(base: list[str], optional: tuple[str, ...], rows: list[dict]) -> list[str]:
        return base + [c for c in optional if any(c in r for r in rows)]

    _write_csv(directory / "skus.csv", columns(SKU_COLUMNS, (
        "stockout_penalty", "category", "name", "referral_fee_rate", "fulfilment_fee",
        "cost_currency"), skus), skus)
    _write_csv(directory / "warehouses.csv", columns(
        ["warehouse", "market", "capacity_m3", "cutoff"], ("storage_cost_per_m3_month", "bonded"),
        warehouses), warehouses)
    _write_csv(directory / "lanes.csv", LANE_COLUMNS, lanes)
    _write_csv(directory / "demand.csv", columns(["sku", "warehouse", "mean", "sd"], ("distribution",), demand),
               demand)
    if suppliers is not None:
        _write_csv(directory / "suppliers.csv", columns(
            ["supplier", "min_order_value", "capacity_units"], ("deposit_share",), suppliers), suppliers)
    if inventory is not None:
        _write_csv(directory / "inventory.csv",
                   ["sku", "warehouse", "on_hand", "in_transit", "in_transit_eta"], inventory)
    if fees is not None:
        _write_csv(directory / "fees.csv", ["sku", "warehouse", "fulfilment_fee"], fees)
    return directory


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def one_stage_sample(tmp_path_factory) -> Path:
    """data/sample without its ``[recourse]`` table: the campaign planned in one stage (SPEC
    §2/§6), in seconds rather than the two-stage plan's minute."""
    import shutil

    from samples.recourse import set_recourse

    folder = tmp_path_factory.mktemp("one_stage") / "sample"
    shutil.copytree(REPO / "data" / "sample", folder)
    return set_recourse(folder, None)


@pytest.fixture(scope="session")
def sample_history(tmp_path_factory) -> Path:
    """data/sample plus its generated sales history (what scripts/generate_sample.py writes
    to data/sample_history, which is not committed), in a temporary folder."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate_sample", REPO / "scripts" / "generate_sample.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script.generate_history_sample(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def shared_conformance() -> Path:
    if not SHARED_CONFORMANCE.is_dir():
        pytest.skip(f"no conformance cases at {SHARED_CONFORMANCE}")
    return SHARED_CONFORMANCE


def execute_notebook(name: str, out, parameters: dict, timeout: int = 120):
    """Run notebooks/NAME with papermill on this interpreter's kernel (the venv's)."""
    import logging

    import papermill as pm

    from optimizer.report.notebook_runner import VenvKernelManager

    logging.getLogger("papermill").setLevel(logging.ERROR)  # `float | None` annotations
    return pm.execute_notebook(str(REPO / "notebooks" / name), str(out), parameters=parameters,
                               kernel_name="python3", cwd=str(REPO / "notebooks"),
                               progress_bar=False, kernel_manager_class=VenvKernelManager,
                               execution_timeout=timeout)
