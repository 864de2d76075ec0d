"""`ssd paper`: the paper-scale runs (`make reproduce-paper MODEL=<name> [DRY_RUN=1]`).

    ssd paper --model qwen3-4b-instruct-2507 [--dry-run]    # one Table 2 model (experiments/paper/<name>.yaml)
    ssd paper --sweep fig10-no-truncation-grid [--dry-run]  # a sweep (experiments/paper/sweeps/<name>.yaml)
    ssd paper --config my_model.yaml [--set key=value ...]  # any experiment or sweep file

Guarantees:
- `--dry-run` loads weights for nothing: it validates the config(s), lists model and data sources, checks
  GPU memory and count, prints the compute estimate, writes it as JSON with `--json`, and exits 1 when a
  check fails (0 otherwise).
- Without `--dry-run` it runs each experiment through `ssd.pipeline.run_experiment` (base evaluation, SSD
  synthesis, SFT, SSD evaluation; each stage reused when complete and resumed when interrupted), then
  refreshes the figures and tables with `python -m paper_figures.build` unless `--no-figures`. A sweep
  also writes `results/<sweep>/points.json` (one row per point: swept values, base and SSD pass@k, SSD best
  over checkpoints, labelled as the test-set selection it is).
- The dry run always precedes a real run: a config that fails it never starts a stage.

Does not: provision GPUs or launch on a cluster scheduler; run it on the machine (or the accelerate
launcher) that holds the GPUs. See docs/gpu.md.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from ssd.config import ConfigError, load_config, load_yaml, resolved
from ssd.experiment import (
    ExperimentConfig, SweepConfig, dry_run, expand_sweep, format_dry_run, load_experiment, sweep_dry_run,
)
from ssd.stages import REPO_ROOT, atomic_write_json

PAPER_DIR = REPO_ROOT / "experiments" / "paper"
SWEEP_DIR = PAPER_DIR / "sweeps"


def available(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.yaml"))


def config_path(args: argparse.Namespace) -> Path:
    if args.config:
        return Path(args.config)
    folder, name = (PAPER_DIR, args.model) if args.model else (SWEEP_DIR, args.sweep)
    path = folder / f"{name}.yaml"
    if not path.exists():
        kind = "model" if args.model else "sweep"
        raise ConfigError(f"{kind} {name!r}: no {path} (known: {', '.join(available(folder))})")
    return path


def is_sweep(path: Path) -> bool:
    return "bases" in load_yaml(path)


def load_all(path: Path, overrides: list[str]) -> list[ExperimentConfig]:
    if is_sweep(path):
        if overrides:
            raise ConfigError(f"{path}: --set applies to experiment files; edit the sweep's 'set' instead")
        return expand_sweep(path)
    return [load_experiment(path, overrides)]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ssd paper", description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", help=f"a Table 2 model: {', '.join(available(PAPER_DIR))}")
    which.add_argument("--sweep", help=f"a sweep: {', '.join(available(SWEEP_DIR))}")
    which.add_argument("--config", help="an experiment or sweep YAML file")
    parser.add_argument("--dry-run", action="store_true", help="check and estimate without weights")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value (dotted key), e.g. gpus.count=4")
    parser.add_argument("--json", type=Path, help="also write the dry-run report to this file")
    parser.add_argument("--root", type=Path, default=Path("runs"), help="stage cache folder")
    parser.add_argument("--results", type=Path, default=Path("results"), help="results folder")
    parser.add_argument("--no-figures", action="store_true", help="skip refreshing paper_figures/out")
    return parser.parse_args(argv)


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


def main(argv: list[str] | None = None) -> int:
    from ssd.pipeline import run_experiment  # noqa: PLC0415

    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    path = config_path(args)
    configs = load_all(path, args.set)
    report = check(configs, path.parent, args.json)
    if args.dry_run or not report["ok"]:
        return 0 if report["ok"] else 1
    if report["fetch"]:
        raise ConfigError("data missing: run the fetch command(s) above first (or point the config's paths "
                          "at local copies)")
    for cfg in configs:
        print(f"== {cfg.name}: {', '.join(cfg.plan())}", flush=True)
        run_experiment(cfg, root=args.root, results_root=args.results, base_dir=path.parent)
    if is_sweep(path):
        print(f"wrote {sweep_points(path, configs, args.results)}", flush=True)
    return 0 if args.no_figures else refresh_figures(args.results)
