"""`run_experiment(cfg)`: base evaluation -> SSD data synthesis -> SFT -> SSD evaluation -> results.

Guarantees:
- Runs (or reuses) every stage of `cfg.plan()` through `ssd.experiment.steps`.
- Writes `results/<experiment>/summary.json` and `report.md` (`ssd.experiment.report`): pass@k with intervals
  per benchmark and difficulty, run health, a paired base-vs-SSD comparison, the stage folders (each with its
  manifest) and the run's own manifest (git commit and dirty flag, package versions, device). The primary
  (first) benchmark's pass@k is also at the top level as `base` / `ssd`.

Does not: select a checkpoint on the test set (extra checkpoints are reported beside the final one, under
`ssd_by_step`).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ssd.cache import device_info, git_state, package_versions
from ssd.config import resolved
from ssd.data import load_benchmark, load_prompt_pool
from ssd.experiment.config import sft_recipe
from ssd.experiment.report import paired_report, write_results
from ssd.experiment.steps import (
    Evaluation, evaluate, finetune, intermediate_checkpoint, select_training_data, synthesize,
)


def _arm(evaluation: Evaluation) -> dict[str, Any]:
    return {"summary": evaluation.summary, "samples_stage": str(evaluation.samples_dir),
            "verdicts_stage": str(evaluation.verdicts_dir)}


def run_experiment(cfg, *, root: str | Path = "runs", results_root: str | Path = "results",
                   base_dir: str | Path | None = None) -> dict[str, Any]:
    """Run (or reuse) every stage of `cfg.plan()`; write and return `results/<name>/summary.json`."""
    plan = cfg.plan()
    model = cfg.model.source
    common = {"prompt_style": cfg.prompt_style, "backend": cfg.backend, "backend_options": cfg.backend_options,
              "root": root, "template_kwargs": cfg.chat_template_kwargs}
    benchmarks = {b.name: load_benchmark(b, base_dir) for b in cfg.benchmarks}
    stages: dict[str, str] = {}
    extra: dict[str, Any] = {}

    def evaluate_all(arm: str, checkpoint: str | Path) -> dict[str, Evaluation]:
        return {name: evaluate(checkpoint, problems, cfg.eval_decoding(arm), ks=cfg.ks,
                               workers=cfg.grading_workers, semantics=cfg.semantics, **common)
                for name, problems in benchmarks.items()}

    base = evaluate_all("base", model) if "base_eval" in plan else {}
    ssd: dict[str, Evaluation] = {}
    by_step: dict[str, dict[str, Evaluation]] = {}
    if "synthesis" in plan:
        eval_problems = [p for problems in benchmarks.values() for p in problems.values()]
        pool = load_prompt_pool(cfg.prompt_pool, base_dir, exclude=eval_problems)
        extra["prompt_pool"] = {"n_prompts": len(pool), "excluding_matches_with": sorted(benchmarks)}
        stages["ssd_samples"] = str(synthesize(model, pool, cfg.synthesis(), **common))
    if "sft" in plan:
        data = select_training_data(stages["ssd_samples"], cfg.sample_filter, root=root)
        checkpoint = finetune(model, data, sft_recipe(cfg), root=root, launcher=cfg.sft_launcher)
        stages.update(sft_data=str(data.parent), sft=str(checkpoint))
    if "ssd_eval" in plan:
        ssd = evaluate_all("ssd", checkpoint)
        by_step = {str(step): evaluate_all("ssd", intermediate_checkpoint(checkpoint, step))
                   for step in cfg.ssd_eval_checkpoints}
    primary_name = cfg.benchmarks[0].name if cfg.benchmarks else None
    results: dict[str, Any] = {"experiment": cfg.name, "plan": plan, "primary_benchmark": primary_name,
                               "benchmarks": {}, "stages": stages, **extra, "config": resolved(cfg)}
    for name, problems in benchmarks.items():
        entry: dict[str, Any] = {"n_problems": len(problems)}
        if name in base:
            entry["base"] = _arm(base[name])
        if name in ssd:
            entry["ssd"] = _arm(ssd[name])
            entry["ssd_by_step"] = {step: _arm(evals[name]) for step, evals in by_step.items()}
        if name in base and name in ssd:
            entry["paired"] = paired_report(base[name], ssd[name], problems, cfg.ks)
        results["benchmarks"][name] = entry
    primary = results["benchmarks"].get(primary_name, {})
    for arm in ("base", "ssd"):
        if arm in primary:
            results[arm] = primary[arm]["summary"]["pass_at_k"]
    results["manifest"] = {"git": git_state(), "packages": package_versions(), "device": device_info(),
                           "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    write_results(Path(results_root) / cfg.name, results)
    return results
