"""The paper-scale study: Table 2 models and the sweeps, run by `ssd paper` (`make reproduce-paper MODEL=<name> [DRY_RUN=1]`).

    ssd paper --model qwen3-4b-instruct-2507 [--dry-run]    # one Table 2 model (experiments/paper/<name>.yaml)
    ssd paper --sweep fig10-no-truncation-grid [--dry-run]  # a sweep (experiments/paper/sweeps/<name>.yaml)
    ssd paper --config my_model.yaml [--set key=value ...]  # any experiment or sweep file

Guarantees:
- `--dry-run` loads weights for nothing: it validates the config(s), lists model and data sources, checks
  GPU memory and count, prints the compute estimate, writes it as JSON with `--json`, and exits 1 when a
  check fails (0 otherwise).
- Without `--dry-run` it runs each experiment through `run_paper` (arms of `ssd.experiment.run.run_experiment`) (base evaluation, SSD
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

from typing import Any, Mapping

from ssd.cache import REPO_ROOT, atomic_write_json
from ssd.config import ConfigError, load_config, load_yaml, resolved
from ssd.data import load_benchmark, load_prompt_pool
from ssd.experiment.config import ExperimentConfig, SweepConfig, expand_sweep, load_experiment, sft_recipe
from ssd.experiment.estimate import dry_run, format_dry_run, sweep_dry_run
from ssd.experiment.report import paired_report, run_manifest, write_results
from ssd.experiment.run import Arm, RunConfig, SSDRecipe, run_experiment
from ssd.experiment.steps import Evaluation
from ssd.metrics import format_interval
from ssd.records import Problem

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


# ---------------------------------------------------------------------------------------------- one experiment

def experiment_arms(cfg: ExperimentConfig, pool: Mapping[str, Problem]) -> list[Arm]:
    """The arms of one experiment config: the base model at the baseline decoding, and its SSD student
    (synthesis on `pool`, selection, SFT) at the SSD decoding, with the extra checkpoints to evaluate."""
    plan, model = cfg.plan(), cfg.model.source
    arms = []
    if "base_eval" in plan:
        arms.append(Arm("base", model, {"base": cfg.eval_decoding("base")}))
    if "synthesis" in plan:
        evaluated = "ssd_eval" in plan
        recipe = SSDRecipe(pool, cfg.synthesis(), sft_recipe(cfg) if "sft" in plan else None, cfg.sample_filter,
                           tuple(cfg.sft_launcher))
        arms.append(Arm("ssd", model, {"ssd": cfg.eval_decoding("ssd")} if evaluated else {}, ssd=recipe,
                        checkpoints=tuple(cfg.ssd_eval_checkpoints) if evaluated else ()))
    return arms


def run_config(cfg: ExperimentConfig, root: str | Path, benchmarks: Mapping[str, Mapping[str, Problem]]) -> RunConfig:
    return RunConfig(problems=benchmarks, prompt_style=cfg.prompt_style, root=root, backend=cfg.backend,
                     backend_options=cfg.backend_options, template_kwargs=cfg.chat_template_kwargs, ks=tuple(cfg.ks),
                     workers=cfg.grading_workers, semantics=cfg.semantics)


def _arm_entry(evaluation: Evaluation) -> dict[str, Any]:
    return {"summary": evaluation.summary, "samples_stage": str(evaluation.samples_dir),
            "verdicts_stage": str(evaluation.verdicts_dir)}


def run_paper(cfg: ExperimentConfig, *, root: str | Path = "runs", results_root: str | Path = "results",
              base_dir: str | Path | None = None) -> dict[str, Any]:
    """Run (or reuse) every stage of `cfg.plan()` as arms of `run_experiment`; write and return
    `results/<name>/summary.json` (and report.md): pass@k with intervals per benchmark and difficulty, run
    health, a paired base-vs-SSD comparison, the stage folders and the run's manifest. The primary (first)
    benchmark's pass@k is also at the top level as `base` / `ssd`."""
    plan = cfg.plan()
    benchmarks = {b.name: load_benchmark(b, base_dir) for b in cfg.benchmarks}
    extra: dict[str, Any] = {}
    pool: dict[str, Problem] = {}
    if "synthesis" in plan:
        eval_problems = [p for problems in benchmarks.values() for p in problems.values()]
        pool = load_prompt_pool(cfg.prompt_pool, base_dir, exclude=eval_problems)
        extra["prompt_pool"] = {"n_prompts": len(pool), "excluding_matches_with": sorted(benchmarks)}
    arms = run_experiment(run_config(cfg, root, benchmarks), experiment_arms(cfg, pool))
    base = arms["base"].evaluations.get("base", {}) if "base" in arms else {}
    ssd_arm = arms.get("ssd")
    ssd = ssd_arm.evaluations.get("ssd", {}) if ssd_arm else {}
    by_step = {str(step): ssd_arm.evaluations[f"ssd@{step}"] for step in ssd_arm.arm.checkpoints} if ssd_arm else {}
    stages = {name: str(path) for name, path in ssd_arm.stages.items()} if ssd_arm else {}
    primary_name = cfg.benchmarks[0].name if cfg.benchmarks else None
    results: dict[str, Any] = {"experiment": cfg.name, "plan": plan, "primary_benchmark": primary_name,
                               "benchmarks": {}, "stages": stages, **extra, "config": resolved(cfg)}
    for name, problems in benchmarks.items():
        entry: dict[str, Any] = {"n_problems": len(problems)}
        if name in base:
            entry["base"] = _arm_entry(base[name])
        if name in ssd:
            entry["ssd"] = _arm_entry(ssd[name])
            entry["ssd_by_step"] = {step: _arm_entry(evals[name]) for step, evals in by_step.items()}
        if name in base and name in ssd:
            entry["paired"] = paired_report(base[name], ssd[name], problems, cfg.ks)
        results["benchmarks"][name] = entry
    primary = results["benchmarks"].get(primary_name, {})
    for arm in ("base", "ssd"):
        if arm in primary:
            results[arm] = primary[arm]["summary"]["pass_at_k"]
    results["manifest"] = run_manifest()
    write_results(Path(results_root) / cfg.name, results, render_report(results))
    return results


def _metric_rows(arm: str, summary: Mapping[str, Any], difficulties: list[str]) -> list[str]:
    rows = []
    for k, metric in summary["pass_at_k"].items():
        cells = [format_interval(summary["by_difficulty"][d][k]) for d in difficulties]
        rows.append(f"| {arm} | {k} | {format_interval(metric)} | " + " | ".join(cells) + " |")
    return rows


def render_report(results: Mapping[str, Any]) -> str:
    lines = [f"# {results['experiment']}", "", f"Stages run: {', '.join(results['plan'])}. "
             "pass@k in % with 95% bootstrap intervals over problems.", ""]
    for bench, entry in results["benchmarks"].items():
        arms = [arm for arm in ("base", "ssd") if arm in entry]
        lines += [f"## {bench} ({entry['n_problems']} problems)", ""]
        if not arms:
            continue
        difficulties = sorted(entry[arms[0]]["summary"]["by_difficulty"])
        lines += ["| model | metric | all | " + " | ".join(difficulties) + " |",
                  "|---|---|---|" + "---|" * len(difficulties)]
        for arm in arms:
            lines += _metric_rows(arm, entry[arm]["summary"], difficulties)
        for step, result in entry.get("ssd_by_step", {}).items():
            lines += _metric_rows(f"ssd@{step}", result["summary"], difficulties)
        lines.append("")
        for arm in arms:
            h = entry[arm]["summary"]["health"]
            lines.append(f"- {arm} health: no code {h['no_code_rate']:.1%}, max tokens hit "
                         f"{h.get('max_token_hit_rate', 0):.1%}, EOS {h.get('eos_rate', 0):.1%}, harness errors "
                         f"{h['harness_error_rate']:.1%}, mean completion {h.get('mean_completion_tokens', 0):.0f} tokens")
        for k, p in entry.get("paired", {}).items():
            lines.append(f"- paired {k}: SSD - base = {format_interval(p, signed=True)} pp, "
                         f"better on {p['n_better']}, worse on {p['n_worse']}, tied {p['n_tied']}, "
                         f"sign test p = {p['p_value']:.3g}")
        lines.append("")
    git = results["manifest"]["git"]
    lines += ["## Provenance", "", f"Written at {results['manifest']['written_at']} from commit {git['commit']}"
              f"{' (dirty tree)' if git['dirty'] else ''}. Each stage folder holds a `manifest.json` (resolved "
              "config, inputs, git commit, packages, device, seeds, wall time).", ""]
    lines += [f"- {name}: `{path}`" for name, path in results["stages"].items()]
    for bench, entry in results["benchmarks"].items():
        lines += [f"- {bench} {arm}: `{entry[arm]['samples_stage']}`, `{entry[arm]['verdicts_stage']}`"
                  for arm in ("base", "ssd") if arm in entry]
    return "\n".join(lines) + "\n"
