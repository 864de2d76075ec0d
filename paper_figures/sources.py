"""Where each artefact's numbers come from: this package's runs, the theory module, the paper's numbers.

Guarantees:
- `paper(name)` reads `paper_figures/data/<name>.yaml` (the paper's reported numbers), checks that it names
  its `source` and that table rows and grids have their declared shapes; a missing file, a missing field
  (on access) or a wrong shape raises `DataError` naming the file and the field.
- `ours(ctx, relpath, required)` returns a run's JSON result, or None when the file does not exist yet;
  a file that exists but lacks a field, or holds a value of the wrong kind, raises `DataError`
  (file, field, expectation). Rates in our JSON files are fractions in [0, 1], lists and grids may hold null for "not
  measured"; `percent` converts them (null -> NaN).
- `theory(module)` imports `theory.<module>` or raises `Skip` with one line saying what is missing
  (`optional=True` returns None instead, for artefacts whose theory part is an extra panel or column).
- `Skip` means "no data for this artefact yet" (printed as one line by the build, not an error).

Does not: run experiments or the theory; it only reads what exists.
"""
from __future__ import annotations

import importlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssd.config import ConfigError, load_yaml

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
DATA_DIR = PACKAGE_DIR / "data"


class DataError(ValueError):
    """A data or result file that cannot be used; the message names the file, field and expectation."""


class Skip(Exception):
    """The artefact's data do not exist yet; the message is the one line the build prints."""


@dataclass
class Context:
    out: Path = PACKAGE_DIR / "out"
    results: Path = REPO_ROOT / "results"
    experiments: Path = REPO_ROOT / "experiments"


@dataclass
class Built:
    """What a script made: its files and, for the gallery, the sources actually used."""
    paths: list[Path]
    sources: list[str]
    notes: list[str] = field(default_factory=list)


class Fields(dict):
    """A mapping read from a data file: a missing field raises DataError naming the file and the field."""

    def __init__(self, data: dict, path: str, where: str = ""):
        super().__init__({k: _wrap(v, path, f"{where}{k}/") for k, v in data.items()})
        self.path, self.where = path, where

    def __missing__(self, key):
        raise DataError(f"{self.path}: field '{self.where}{key}': missing")


def _wrap(value: Any, path: str, where: str) -> Any:
    if isinstance(value, dict):
        return Fields(value, path, where)
    if isinstance(value, list):
        return [_wrap(v, path, f"{where}{i}/") for i, v in enumerate(value)]
    return value


def _check_shapes(data: dict, path: str) -> None:
    """Rows of a table hold one value per column; a grid holds len(t_eval) values in each of len(t_train) rows."""
    for i, row in enumerate(data.get("models", [])):
        for key in ("base", "ssd", "delta"):
            if "columns" in data and key in row and len(row[key]) != len(data["columns"]):
                raise DataError(f"{path}: field 'models/{i}/{key}': expected {len(data['columns'])} values "
                                f"(one per column), got {len(row[key])}")
    if "t_train" in data and "t_eval" in data:
        for key in ("pass@1", "pass@5"):
            grid = data.get(key, [])
            if len(grid) != len(data["t_train"]) or any(len(r) != len(data["t_eval"]) for r in grid):
                raise DataError(f"{path}: field '{key}': expected {len(data['t_train'])} rows (t_train) of "
                                f"{len(data['t_eval'])} values (t_eval)")


def paper(name: str) -> dict[str, Any]:
    path = DATA_DIR / f"{name}.yaml"
    if not path.exists():
        raise DataError(f"{path}: transcribed data file not found")
    try:
        data = load_yaml(path)
    except ConfigError as e:
        raise DataError(str(e)) from None
    if not isinstance(data.get("source"), str):
        raise DataError(f"{path}: field 'source': expected a string naming the table/figure and paper version")
    relpath = str(path.relative_to(REPO_ROOT))
    _check_shapes(data, relpath)
    data = Fields(data, relpath)
    data["_path"] = relpath
    return data


def model_rows(table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The `models` list of a transcribed table, keyed by model key."""
    return {m["key"]: m for m in table["models"]}


def _get(data: Any, dotted: str, path: Path) -> Any:
    node = data
    for part in dotted.split("/"):
        if not isinstance(node, dict) or part not in node:
            raise DataError(f"{path}: field '{dotted}': missing")
        node = node[part]
    return node


def _check(value: Any, kind: str, dotted: str, path: Path) -> None:
    def is_rate(x: Any) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and 0 <= x <= 1 + 1e-9

    def is_rate_or_null(x: Any) -> bool:
        return x is None or is_rate(x)

    def is_number(x: Any) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)

    ok = {
        "rate": lambda v: is_rate(v),
        "rate_or_null": lambda v: is_rate_or_null(v),
        "number": lambda v: is_number(v),
        "rates": lambda v: isinstance(v, list) and len(v) > 0 and all(is_rate_or_null(x) for x in v),
        "numbers": lambda v: isinstance(v, list) and len(v) > 0 and all(is_number(x) for x in v),
        "rate_grid": lambda v: isinstance(v, list) and len(v) > 0
        and all(isinstance(r, list) and all(is_rate_or_null(x) for x in r) for r in v),
        "interval": lambda v: isinstance(v, list) and len(v) == 2 and all(is_rate(x) for x in v) and v[0] <= v[1],
    }[kind]
    if not ok(value):
        expect = {"rate": "a number in [0, 1]", "rate_or_null": "a number in [0, 1] or null",
                  "number": "a finite number",
                  "rates": "a non-empty list of numbers in [0, 1] (or null)", "numbers": "a non-empty list of numbers",
                  "rate_grid": "a list of rows of numbers in [0, 1] (or null)",
                  "interval": "[low, high] with 0 <= low <= high <= 1"}[kind]
        raise DataError(f"{path}: field '{dotted}': expected {expect}, got {value!r}")


def ours(ctx: Context, relpath: str, required: dict[str, str]) -> dict[str, Any] | None:
    """A result JSON under `ctx.results`, with `required` fields ('a/b' paths -> kind) checked; None if absent."""
    path = ctx.results / relpath
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: line {e.lineno}: not valid JSON ({e.msg})") from None
    for dotted, kind in required.items():
        _check(_get(data, dotted, path), kind, dotted, path)
    data["_path"] = str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)
    return data


def same_length(data: dict[str, Any], keys: list[str]) -> None:
    """Check that parallel lists (e.g. an x axis and its series) of a result file have equal lengths."""
    lengths = {k: len(_get(data, k, Path(data["_path"]))) for k in keys}
    if len(set(lengths.values())) != 1:
        raise DataError(f"{data['_path']}: fields {', '.join(keys)}: expected equal lengths, got {lengths}")


def run_summaries(ctx: Context) -> list[dict[str, Any]]:
    """Base and SSD pass@1/pass@5 of every `results/<run>/summary.json`, one entry per run and benchmark.

    Two layouts are read (a summary or benchmark without both a base and an SSD arm is not a comparison and
    is left out): the CPU headline (`base`/`ssd` -> `pass@k` -> {value, ci} at the top level) and
    the experiment layout (`benchmarks` -> <bench> -> `base`/`ssd` -> `summary` -> `overall` -> `pass@k`).
    Each entry is {"run", "benchmark", "path", "base": {k: {value, ci}}, "ssd": {...}, "by_difficulty":
    {difficulty: {"base": {k: {value, ci}}, "ssd": {...}}}}; per-difficulty numbers are optional (CPU layout:
    `table2/<arm>/by_difficulty`; experiment layout: `.../<arm>/summary/by_difficulty`).
    """
    entries = []
    for path in sorted(ctx.results.glob("*/summary.json")) if ctx.results.exists() else []:
        raw = ours(ctx, str(path.relative_to(ctx.results)), {})
        if "base" in raw or "ssd" in raw:
            arms = {arm: _pass_metrics(raw, arm, path) for arm in ("base", "ssd")}
            split = {arm: (raw.get("table2") or {}).get(arm, {}).get("by_difficulty", {}) for arm in arms}
            entries.append(_entry(raw, path, "headline", arms, split, "table2/{arm}/by_difficulty"))
            continue
        benchmarks = raw.get("benchmarks") if isinstance(raw.get("benchmarks"), dict) else {}
        for bench, result in sorted(benchmarks.items()):
            if not (isinstance(result, dict) and "base" in result and "ssd" in result):
                continue
            prefix = f"benchmarks/{bench}/{{arm}}/summary"
            arms = {arm: _pass_metrics(raw, prefix.format(arm=arm) + "/overall", path) for arm in ("base", "ssd")}
            split = {arm: _get(result, f"{arm}/summary", path).get("by_difficulty", {}) for arm in arms}
            entries.append(_entry(raw, path, bench, arms, split, prefix + "/by_difficulty"))
    return entries


def _pass_metrics(raw: dict, dotted: str, path: Path) -> dict:
    """`dotted` -> {pass@1, pass@5}, each checked to be {value: rate, ci: interval}."""
    for k in ("pass@1", "pass@5"):
        for f, kind in (("value", "rate"), ("ci", "interval")):
            _check(_get(raw, f"{dotted}/{k}/{f}", path), kind, f"{dotted}/{k}/{f}", path)
    return _get(raw, dotted, path)


def _entry(raw: dict, path: Path, bench: str, arms: dict, split: dict, split_path: str) -> dict[str, Any]:
    order = {"easy": 0, "medium": 1, "hard": 2}
    difficulties = sorted((d for d in split["base"] if d in split["ssd"]), key=lambda d: (order.get(d, 3), d))
    by_difficulty = {d: {arm: _pass_metrics(raw, f"{split_path.format(arm=arm)}/{d}", path) for arm in arms}
                     for d in difficulties}
    return {"run": path.parent.name, "benchmark": bench, "path": raw["_path"], **arms, "by_difficulty": by_difficulty}


def percent(x: float | list | None) -> Any:
    """Fractions to percent, elementwise; null (not measured) becomes NaN, which plots as a gap."""
    if isinstance(x, list):
        return [percent(v) for v in x]
    return float("nan") if x is None else 100.0 * x


def theory(module: str, optional: bool = False):
    """`theory.<module>`; if that part of the theory module has not landed: None when `optional`, else Skip."""
    try:
        return importlib.import_module(f"theory.{module}")
    except ModuleNotFoundError as e:
        if not (e.name and e.name.startswith("theory")):
            raise
        if optional:
            return None
        raise Skip(f"theory/{module}.py is not available yet") from None
