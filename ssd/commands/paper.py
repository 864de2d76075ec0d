"""`ssd paper`: the paper-scale runs (`make reproduce-paper MODEL=<name> [DRY_RUN=1]`); see ssd.studies.paper.

    ssd paper --model qwen3-4b-instruct-2507 [--dry-run]    # one Table 2 model (experiments/paper/<name>.yaml)
    ssd paper --sweep fig10-no-truncation-grid [--dry-run]  # a sweep (experiments/paper/sweeps/<name>.yaml)
    ssd paper --config my_model.yaml [--set key=value ...]  # any experiment or sweep file
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ssd.config import ConfigError
from ssd.studies.paper import (
    PAPER_DIR, SWEEP_DIR, available, check, is_sweep, load_all, refresh_figures, run_paper, sweep_points,
)


def config_path(args: argparse.Namespace) -> Path:
    if args.config:
        return Path(args.config)
    folder, name = (PAPER_DIR, args.model) if args.model else (SWEEP_DIR, args.sweep)
    path = folder / f"{name}.yaml"
    if not path.exists():
        kind = "model" if args.model else "sweep"
        raise ConfigError(f"{kind} {name!r}: no {path} (known: {', '.join(available(folder))})")
    return path


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


def main(argv: list[str] | None = None) -> int:
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
        run_paper(cfg, root=args.root, results_root=args.results, base_dir=path.parent)
    if is_sweep(path):
        print(f"wrote {sweep_points(path, configs, args.results)}", flush=True)
    return 0 if args.no_figures else refresh_figures(args.results)
