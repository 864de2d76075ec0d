"""The SmolLM study as arms of the one runner: base and SSD arms at each T_eval of the sweeps, the matched pair
first, then grading, paired comparisons and the report.

Guarantees:
- Arms run in the order base@T0, ssd@T0 (which makes the SSD student), then the rest of the sweeps, so a
  matched base-vs-SSD pair exists as early as possible. Every stage is cached, so rerunning resumes.
- The plan (`smollm_plan`) gives each stage an estimate from the measured CPU throughputs; the runner's stage
  lines carry the ETA rescaled by how fast the finished stages ran.
- The pool is checked with the contamination guard against all 164 HumanEval problems before synthesis; a
  match stops the run.
- `only` (an arm label) generates that arm (and the stages it needs) without grading, so that a second process
  can take it; `ssd_checkpoint` evaluates a given SSD model instead of training one (recorded in the summary).

Does not: pick decodings or checkpoints by looking at the results, or run generated code in this process.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ssd.cache import REPO_ROOT
from ssd.config import ConfigError, resolved
from ssd.data import find_contaminated, load_humaneval, load_prompt_pool
from ssd.experiment.config import sft_recipe
from ssd.experiment.report import write_results
from ssd.experiment.run import Arm, RunConfig, SSDRecipe, StageClock, hms, run_experiment, stage_plan
from ssd.experiment.steps import TRAIN_FILE
from ssd.metrics import paired_comparison
from ssd.records import Problem
from ssd.studies.smollm.config import SmolLMConfig, arm_decoding, humaneval_subset
from ssd.studies.smollm.report import headline, render_report, stage_seconds, testbed_form

EVAL_STAGE = "eval-samples"  # stage name of this experiment's evaluation generations (reruns reuse them)


def prompt_pool(cfg: SmolLMConfig) -> dict[str, Problem]:
    """The committed stdlib pool; any prompt matching a HumanEval problem stops the run."""
    exp = cfg.experiment
    pool = load_prompt_pool(exp.prompt_pool, base_dir=REPO_ROOT)
    matches = find_contaminated(list(pool.values()), list(load_humaneval().values()))
    if matches:
        raise ConfigError(f"prompt pool {exp.prompt_pool.path}: {len(matches)} prompts match HumanEval, "
                          f"e.g. {matches[0]}")
    return pool


def arms(cfg: SmolLMConfig, model: str | Path = "", pool: dict[str, Problem] | None = None,
         ssd_checkpoint: Path | None = None) -> list[Arm]:
    """Every arm in run order: base@T0, ssd@T0, the other base temperatures, the other SSD temperatures. An SSD
    arm is the base model plus the SSD recipe (or, with `ssd_checkpoint`, that model as is)."""
    exp = cfg.experiment
    recipe = SSDRecipe(pool or {}, exp.synthesis(), sft_recipe(exp), exp.sample_filter)

    def arm(role: str, temperature: float) -> Arm:
        decodings = {f"T{temperature}": arm_decoding(cfg, role, temperature)}
        if role == "base":
            return Arm(f"base@T{temperature}", model, decodings)
        if ssd_checkpoint is not None:
            return Arm(f"ssd@T{temperature}", ssd_checkpoint, decodings)
        return Arm(f"ssd@T{temperature}", model, decodings, ssd=recipe)

    base = [arm("base", t) for t in cfg.base_temperatures]
    ssd = [arm("ssd", t) for t in cfg.ssd_temperatures]
    return [base[0], ssd[0], *base[1:], *ssd[1:]]


def run_config(cfg: SmolLMConfig, root: Path, problems: dict[str, Problem], generate_only: bool = False) -> RunConfig:
    exp = cfg.experiment
    return RunConfig(problems={"humaneval": problems}, prompt_style=exp.prompt_style, root=root,
                     backend=exp.backend, backend_options=exp.backend_options, ks=tuple(exp.ks),
                     workers=exp.grading_workers, eval_stage=EVAL_STAGE, generate_only=generate_only)


def smollm_plan(cfg: SmolLMConfig, run: RunConfig, arm_list: list[Arm], n_pool: int) -> list[tuple[str, float]]:
    """(stage label, estimated seconds) of every stage, from the measured throughputs."""
    tp, exp = cfg.throughput, cfg.experiment
    n_problems = sum(len(p) for p in run.problems.values())
    sft = sft_recipe(exp)
    examples = sft.total_steps(n_pool) * sft.global_batch()
    seconds = {
        "synthesis": n_pool * tp.mean_completion_tokens / tp.decode_tokens_per_second,
        "sft": examples * (tp.mean_prompt_tokens + tp.mean_completion_tokens) / tp.train_tokens_per_second,
        "evaluate": n_problems * exp.n_eval_samples * tp.mean_completion_tokens / tp.decode_tokens_per_second,
    }
    return [(stage.label, seconds[stage.kind]) for stage in stage_plan(run, arm_list)]


def print_plan(plan: list[tuple[str, float]]) -> None:
    print(f"[smollm] plan: {len(plan)} stages, estimated {hms(sum(s for _, s in plan))} on this machine's "
          f"measured throughput", flush=True)
    for label, seconds in plan:
        print(f"[smollm]   {label} ~{hms(seconds)}", flush=True)


def run(cfg: SmolLMConfig, *, model_dir: Path, root: Path, results_root: Path, only: str = "",
        ssd_checkpoint: Path | None = None) -> dict[str, Any]:
    """Every arm, graded, with paired comparisons and results; with `only` (an arm label), just the stages that
    arm needs, ungraded; with `ssd_checkpoint`, that model is the SSD arms' instead of a fine-tune."""
    if ssd_checkpoint is not None and not (ssd_checkpoint / "config.json").is_file():
        raise ConfigError(f"--ssd-checkpoint {ssd_checkpoint}: not a Hugging Face model directory")
    exp = cfg.experiment
    started = time.time()
    problems = humaneval_subset(cfg.humaneval_stride)
    pool = prompt_pool(cfg)
    arm_list = arms(cfg, model_dir, pool, ssd_checkpoint)
    if only:
        arm_list = [a for a in arm_list if a.label == only]
        if not arm_list:
            raise ConfigError(f"--only {only}: expected one of {[a.label for a in arms(cfg)]}")
    run_cfg = run_config(cfg, root, problems, generate_only=bool(only))
    plan = smollm_plan(cfg, run_cfg, arm_list, len(pool))
    print_plan(plan)
    run_cfg.progress = StageClock(plan)
    outcome = run_experiment(run_cfg, arm_list)
    if only:
        (samples,) = (sets["humaneval"] for sets in outcome[only].samples.values())
        return {"arm": only, "samples_stage": str(samples)}
    evaluations = {label: next(iter(r.evaluations.values()))["humaneval"] for label, r in outcome.items()}
    ssd_arm = outcome[f"ssd@T{cfg.ssd_temperatures[0]}"]
    stages = ssd_arm.stages
    results: dict[str, Any] = {
        "experiment": exp.name, "config": resolved(cfg), "wall_seconds": round(time.time() - started, 1),
        "model": str(model_dir), "benchmark": {"name": "humaneval", "problems": sorted(problems)},
        "prompt_pool": {"path": exp.prompt_pool.path, "n_prompts": len(pool), "humaneval_matches": 0,
                        "ssd_samples_stage": str(stages.get("ssd_samples", "")),
                        "sft_data": str(stages["sft_data"] / TRAIN_FILE) if "sft_data" in stages else ""},
        "sft_checkpoint": str(ssd_arm.model), "sft_checkpoint_given": ssd_checkpoint is not None,
        "arms": {label: {"decoding": resolved(next(iter(outcome[label].arm.decodings.values()))),
                         "summary": evaluation.summary, "samples_stage": str(evaluation.samples_dir)}
                 for label, evaluation in evaluations.items()},
        "paired": {},
    }
    for s in (label for label in evaluations if label.startswith("ssd@")):
        for b in (label for label in evaluations if label.startswith("base@")):
            results["paired"][f"{s} vs {b}"] = {
                f"pass@{k}": paired_comparison(evaluations[b].verdicts, evaluations[s].verdicts, problems, k)
                for k in exp.ks}
    results["headline"] = headline(results, cfg)
    results.update(testbed_form(results, exp.seed))
    results["stage_seconds"] = {
        **{name: stage_seconds(Path(stages[key])) for name, key in (("ssd-synthesis", "ssd_samples"), ("sft", "sft"))
           if key in stages},
        **{label: stage_seconds(evaluation.samples_dir) for label, evaluation in evaluations.items()}}
    write_results(results_root / exp.name, results, render_report(results))
    return results
