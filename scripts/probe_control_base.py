"""Probe a positive-control base recipe: train base models with overrides of `experiments/cpu/control.yaml` and
append, per base seed, the calibration of its probabilities at the labelled positions (the fork's popular line,
correct forms and junk; each lock's dictated line) against the generator's, on the validation split and on 100
problems of the base's own pretraining split.

    python -m scripts.probe_control_base --name committed --seeds 0,1,2,3,4
    python -m scripts.probe_control_base --name old --seeds 0,1,2 counts.pretrain=4000 base_sft.min_lr=1.0e-3

Nothing here looks at the evaluation split. Each row records the overrides, the recipe, the seed, and the training
time and host from the base's stage manifest (a base already in `--root` is read, not retrained). The rows behind
the committed recipe are in `results/cpu/control_base_probe.jsonl`.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ssd.cache import read_manifest
from ssd.config import load_config
from ssd.studies.control import benchmark
from ssd.studies.control.diagnostics import calibration, generator_probabilities, position_probabilities
from ssd.studies.control.models import model_table, train_base
from ssd.studies.control.study import ControlConfig, token_ids

from scripts import probes

CONFIG = "experiments/cpu/control.yaml"
SEEN = 100  # pretraining problems checked, as the study's `seen_problems`
STATISTICS = ("mean_abs_diff", "mean_diff", "p90_abs_diff", "max_abs_diff")


def calibration_row(root: Path, model: Path, problems, cfg: ControlConfig) -> dict[str, dict[str, float]]:
    table = model_table(root, model, problems)
    per = calibration(position_probabilities(table, problems, token_ids()),
                      generator_probabilities(problems, cfg.design))["per_quantity"]
    return {name: {s: round(q[s], 4) for s in STATISTICS} for name, q in per.items()}


def main(argv: list[str] | None = None) -> int:
    args = probes.parser(__doc__, "runs/probe-control", "results/cpu/control_base_probe.jsonl").parse_args(argv)

    cfg = load_config(CONFIG, ControlConfig, args.overrides)
    root = Path(args.root).resolve()
    problems = benchmark.generate(cfg.counts, seed=cfg.benchmark_seed)
    for seed in probes.seeds(args.seeds):
        model = train_base(root, problems["pretrain"], cfg.design, cfg.spec, cfg.base_sft, seed)
        manifest = read_manifest(model.parent) or {}
        row = {"name": args.name, "seed": seed, "overrides": args.overrides,
               "settings": {"pretrain_problems": cfg.counts["pretrain"], "spec": dataclasses.asdict(cfg.spec),
                            "base_sft": {k: v for k, v in dataclasses.asdict(cfg.base_sft).items()
                                         if k in ("epochs", "lr", "min_lr", "micro_batch_size", "warmup_steps")}},
               "training_seconds": manifest.get("wall_seconds"),
               "val": calibration_row(root, model, problems["val"], cfg),
               "pretrain": calibration_row(root, model, problems["pretrain"][:SEEN], cfg),
               "model": str(model), "trained_on": manifest.get("device")}
        probes.append_row(args.out, row)
        print(json.dumps({"name": args.name, "seed": seed, "training_seconds": row["training_seconds"],
                          "val_mean_abs_diff": {k: v["mean_abs_diff"] for k, v in row["val"].items()}}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
