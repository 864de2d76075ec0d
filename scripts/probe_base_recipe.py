"""Probe a testbed base recipe: train base models with overrides of `experiments/cpu/full.yaml`'s `base` and
append, per base seed, its copy accuracy at lock positions on validation problems (teacher-forced, as
`ssd.studies.testbed.tokenstats.lock_accuracy`), at the end of training and at every `--every`-th checkpoint.

    python -m scripts.probe_base_recipe --name committed --seeds 0,1,2,3
    python -m scripts.probe_base_recipe --name old --seeds 0 lr=3.0e-3 min_lr=3.0e-4 epochs=1.5 spec.num_hidden_layers=6

The problems are 190 of the validation split (30 easy, 80 medium, 80 hard); nothing here looks at the
evaluation split. Each row records the recipe, the seed, and the training time and host from the base's stage
manifest (a base already in `--root` is read, not retrained). The rows behind the committed recipe are in
`results/cpu/base_recipe_probe.jsonl`.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ssd.cache import read_manifest
from ssd.config import load_config
from ssd.studies.testbed import benchmark as bm
from ssd.studies.testbed.basemodel import build_base_model
from ssd.studies.testbed.study import StudyConfig
from ssd.studies.testbed.tokenstats import LOCK_KINDS, lock_accuracy

from scripts import probes

CONFIG = "experiments/cpu/full.yaml"
PROBLEMS = {"easy": 30, "medium": 80, "hard": 80}


def accuracy_row(model_dir: Path, problems) -> dict[str, float | None]:
    acc = lock_accuracy(model_dir, problems, "paper")
    return {kind: acc[kind]["accuracy"] for kind in LOCK_KINDS}


def main(argv: list[str] | None = None) -> int:
    parser = probes.parser(__doc__, "runs/probe", "results/cpu/base_recipe_probe.jsonl")
    parser.add_argument("--every", type=int, default=200, help="checkpoint steps between trajectory points")
    args = parser.parse_args(argv)

    base = load_config(CONFIG, StudyConfig, [f"base.{item}" for item in args.overrides]).base
    problems = bm.make_split("val", PROBLEMS, seed=0)
    for seed in probes.seeds(args.seeds):
        settings = dataclasses.replace(base, seeds=[seed])
        model = build_base_model(settings, seed, {}, prompt_style="paper", benchmark_seed=0, root=args.root)
        manifest = read_manifest(model.parent) or {}
        checkpoints = sorted(model.parent.glob("train/checkpoint-*"), key=lambda d: int(d.name.split("-")[1]))
        trajectory = [{"step": int(d.name.split("-")[1]), **accuracy_row(d, problems)}
                      for d in checkpoints if int(d.name.split("-")[1]) % args.every == 0]
        row = {"name": args.name, "seed": seed, "overrides": args.overrides,
               "settings": {k: v for k, v in dataclasses.asdict(settings).items() if k != "seeds"},
               "training_seconds": manifest.get("wall_seconds"), "final": accuracy_row(model, problems),
               "trajectory": trajectory, "model": str(model), "trained_on": manifest.get("device")}
        probes.append_row(args.out, row)
        print(json.dumps({k: row[k] for k in ("name", "seed", "training_seconds", "final")}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
