"""`ssd smollm`: SSD on a real pretrained model on CPU, SmolLM2-135M-Instruct with HumanEval.

The study itself is ssd.studies.smollm (this module parses arguments, fetches the model and prints).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ssd.cache import REPO_ROOT
from ssd.models.sources import smollm2_135m_instruct
from ssd.runtime import configure_threads
from ssd.studies.smollm import (
    SETTINGS, arms, humaneval_subset, load_smollm, print_plan, prompt_pool, run, smollm_plan,
)
from ssd.studies.smollm.run import run_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ssd smollm", description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=sorted(SETTINGS), default="small",
                        help="small: fits about an hour on 2 cores; full: all 164 problems (see the YAML)")
    parser.add_argument("--config", help="a SmolLM config YAML (instead of --setting)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    parser.add_argument("--root", default="runs/smollm", help="stage cache folder")
    parser.add_argument("--results", default="results", help="results/<experiment name>/ is written here")
    parser.add_argument("--plan", action="store_true", help="print the plan and the wall-time estimate only")
    parser.add_argument("--only", default="", metavar="ARM",
                        help="generate one arm (e.g. ssd@T0.2) and the stages it needs, e.g. on a second "
                             "core; a later plain run grades every arm and writes the results")
    parser.add_argument("--ssd-checkpoint", type=Path, metavar="DIR",
                        help="evaluate this SSD checkpoint instead of training one (e.g. one trained by an "
                             "earlier version of the SFT stage); recorded in summary.json")
    args = parser.parse_args(argv)
    cfg = load_smollm(args.config or REPO_ROOT / SETTINGS[args.setting], args.set)
    if args.plan:
        pool = prompt_pool(cfg)
        run_cfg = run_config(cfg, Path(args.root), humaneval_subset(cfg.humaneval_stride))
        print_plan(smollm_plan(cfg, run_cfg, arms(cfg, "base", pool), len(pool)))
        return 0
    configure_threads()
    model_dir = smollm2_135m_instruct()
    outcome = run(cfg, model_dir=model_dir, root=Path(args.root), results_root=Path(args.results), only=args.only,
                  ssd_checkpoint=args.ssd_checkpoint)
    if args.only:
        print(f"[smollm] {args.only} generated in {outcome['samples_stage']}", flush=True)
        return 0
    print(f"[smollm] wrote {Path(args.results) / cfg.experiment.name}/summary.json and report.md", flush=True)
    return 0
