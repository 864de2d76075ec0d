"""The paper-scale study: Table 2 models and the sweeps, run by `ssd paper` (`make reproduce-paper MODEL=<name> [DRY_RUN=1]`).

    ssd paper --model qwen3-4b-instruct-2507 [--dry-run]    # one Table 2 model (experiments/paper/<name>.yaml)
    ssd paper --sweep fig10-no-truncation-grid [--dry-run]  # a sweep (experiments/paper/sweeps/<name>.yaml)
    ssd paper --config my_model.yaml [--set key=value ...]  # any experiment or sweep file

Guarantees:
- `--dry-run` loads weights for nothing: it validates the config(s), lists model and data sources, checks
  GPU memory and count, prints the compute estimate, writes it as JSON with `--json`, and exits 1 when a
  check fails (0 otherwise).
- Without `--dry-run` it runs each experiment through `ssd.experiment.run.run_experiment` (base evaluation, SSD
  synthesis, SFT, SSD evaluation; each stage reused when complete and resumed when interrupted), then
  refreshes the figures and tables with `python -m paper_figures.build` unless `--no-figures`. A sweep
  also writes `results/<sweep>/points.json` (one row per point: swept values, base and SSD pass@k, SSD best
  over checkpoints, labelled as the test-set selection it is).
- The dry run always precedes a real run: a config that fails it never starts a stage.

Does not: provision GPUs or launch on a cluster scheduler; run it on the machine (or the accelerate
launcher) that holds the GPUs. See docs/gpu.md.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ssd.cache import REPO_ROOT, atomic_write_json
from ssd.config import ConfigError, load_config, load_yaml, resolved
from ssd.experiment.config import ExperimentConfig, SweepConfig, expand_sweep, load_experiment
from ssd.experiment.estimate import dry_run, format_dry_run, sweep_dry_run

PAPER_DIR = REPO_ROOT / "experiments" / "paper"
SWEEP_DIR = PAPER_DIR / "sweeps"


def available(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.yaml"))


def is_sweep(path: Path) -> bool:
    return "bases" in load_yaml(path)


def load_all(path: Path, overrides: list[str]) -> list[ExperimentConfig]:
    if is_sweep(path):
        if overrides:
            raise ConfigError(f"{path}: --set applies to experiment files; edit the sweep's 'set' instead")
        return expand_sweep(path)
    return [load_experiment(path, overrides)]


def check(configs: list[ExperimentConfig], base_dir: Path, json_path: Path | None) -> dict:
    report = dry_run(configs[0], base_dir) if len(configs) == 1 else sweep_dry_run(configs, base_dir)
    print(format_dry_run(report))
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return report


def best_over_checkpoints(entry: dict) -> dict:
    """Per k, the best SSD value over the final and the intermediate checkpoints, and where it was (the
    paper's "best across iterations": a selection on the test set, reported as such)."""
    candidates = {"final": entry["ssd"]["summary"]["pass_at_k"]}
    candidates.update({step: arm["summary"]["pass_at_k"] for step, arm in entry.get("ssd_by_step", {}).items()})
    best = {}
    for k in candidates["final"]:
        step = max(candidates, key=lambda s: candidates[s][k]["value"])
        best[k] = {"value": candidates[step][k]["value"], "checkpoint": step}
    return best


def sweep_points(path: Path, configs: list[ExperimentConfig], results: Path) -> Path:
    """`results/<sweep>/points.json`: one row per point (the swept values, base and SSD pass@k of the primary
    benchmark, SSD best over checkpoints), the table the sweep's figure is drawn from."""
    sweep = load_config(path, SweepConfig)
    rows = []
    for cfg in configs:
        summary = json.loads((results / cfg.name / "summary.json").read_text(encoding="utf-8"))
        entry = summary["benchmarks"][summary["primary_benchmark"]]
        row = {"experiment": cfg.name, "model": cfg.model.source,
               **{key: _dotted(resolved(cfg), key) for key in sweep.grid}}
        row.update({arm: summary[arm] for arm in ("base", "ssd") if arm in summary})
        if "ssd" in entry:
            row["ssd_best_over_checkpoints"] = best_over_checkpoints(entry)
        rows.append(row)
    out = results / sweep.name / "points.json"
    atomic_write_json(out, {"sweep": sweep.name, "artefact": sweep.artefact, "grid": list(sweep.grid),
                            "points": rows})
    return out


def _dotted(data: dict, key: str):
    for part in key.split("."):
        data = data[part]
    return data


def refresh_figures(results: Path) -> int:
    status = 0
    for kind in ("tables", "figures"):
        cmd = [sys.executable, "-m", "paper_figures.build", kind, "--results", str(results.resolve())]
        status |= subprocess.run(cmd, cwd=REPO_ROOT).returncode
    return status
