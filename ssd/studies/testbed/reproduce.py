"""The whole CPU SSD experiment (`ssd reproduce [--quick]`), from an empty cache to results/cpu/.

Guarantees:
- Runs `study.Study` with `experiments/cpu/full.yaml` (or `quick.yaml` with `--quick`, the same code at a
  smaller size), then writes `summary.json` (`wall_seconds`, `seeds`, `base_seeds`; `base`, `ssd` and `delta`
  with `pass@1` and `pass@5`, each `{value, ci}` averaged over the bases with nested intervals (bases, problems,
  SSD seeds: `ssd.metrics.nested_bootstrap`); `bases`, one entry per base model with its fit at lock positions on
  validation, `lock_accuracy_val`, and its SSD arm over its SSD seeds; `host`), the figure
  series, PNGs and `report.md` via `report.write_all`.
- Every stage is cached under `--root`; a second run with the same config only reads and rewrites the
  results (seconds). A bad config stops with one `ConfigError` before any work and leaves the results alone.
- Headline numbers come from the evaluation split only; every selection is made on the validation split.

Does not: run the theory checks or the paper figures (the Makefile chains them around this command).
"""
from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any

from ssd.cache import REPO_ROOT, read_manifest
from ssd.metrics import paired_comparison_over_bases
from ssd.runtime import host_info
from ssd.studies.testbed import benchmark as bm
from ssd.studies.testbed.report import mechanism_sentence, write_all
from ssd.studies.testbed.study import Study, StudyConfig
from ssd.studies.testbed.tokenstats import cached_lock_accuracy, cached_token_statistics

CONFIG_DIR = REPO_ROOT / "experiments" / "cpu"


def _ci(metric: dict[str, Any]) -> dict[str, Any]:
    return {"value": metric["value"], "ci": list(metric["ci"])}


def by_difficulty(compare, problems: dict, difficulties: list[str]) -> dict:
    """`compare(keep, subset, k)` for k in (1, 5), overall and per difficulty; `keep` filters verdicts to `subset`."""
    out = {}
    for d in ["all", *difficulties]:
        subset = {pid: p for pid, p in problems.items() if d == "all" or p.difficulty == d}
        keep = lambda vs: [v for v in vs if v.problem_id in subset]  # noqa: E731
        out[d] = {f"pass@{k}": compare(keep, subset, k) for k in (1, 5)}
    return out


def run(cfg: StudyConfig, root: Path, out: Path, lead: dict[str, Any] | None = None,
        lead_sections: list[str] = (), processes: int = 1) -> dict[str, Any]:
    """Run the study (each phase's independent jobs in `processes` processes) and write `out`; `lead` (summary
    keys, e.g. another study's result) is merged into the summary and `lead_sections` (markdown lines) open the
    report."""
    started = time.time()
    study = Study(cfg, root, processes)
    frontier = study.frontier()
    grid = study.grid()
    t2 = study.table2(frontier, grid)
    stress = study.stress(grid)

    problems = {p.id: p for p in study.splits["eval"]}
    difficulties = [d for d in bm.DIFFICULTIES if any(p.difficulty == d for p in problems.values())]
    bases, pairs = [], []
    for base_seed, runs in t2["bases"].items():
        base = runs["base"]["best_joint"]
        students = [r.verdicts for _, r in runs["ssd"].values()]
        paired = by_difficulty(lambda keep, subset, k: paired_comparison_over_bases(
            [[keep(base.verdicts)]], [[keep(s) for s in students]], subset, k), problems, difficulties)
        pairs.append(([base.verdicts], students))
        manifest = read_manifest(runs["model"].parent) or {}
        bases.append({
            "seed": base_seed, "training_seconds": manifest.get("wall_seconds"),
            "lock_accuracy_val": cached_lock_accuracy(root, runs["model"], study.splits["val"], cfg.prompt_style),
            "base": {k: _ci(v) for k, v in base.summary["pass_at_k"].items()},
            "base_temperature_only": {k: _ci(v) for k, v in
                                      runs["base"]["best_temperature_only"].summary["pass_at_k"].items()},
            "ssd": {k: v["b"] for k, v in paired["all"].items()},
            "delta": {k: _delta(v) for k, v in paired["all"].items()},
            "ssd_per_seed": {str(s): r.metric(1) for s, (_, r) in runs["ssd"].items()},
            "by_difficulty": {d: {k: _delta(v) for k, v in paired[d].items()} for d in difficulties},
            "health": {"base": base.summary["health"],
                       "ssd_per_seed": {str(s): r.summary["health"] for s, (_, r) in runs["ssd"].items()}},
        })
    pooled_all = by_difficulty(lambda keep, subset, k: paired_comparison_over_bases(
        [[keep(b) for b in bs] for bs, _ in pairs], [[keep(s) for s in ss] for _, ss in pairs], subset, k),
        problems, difficulties)
    table2 = {
        "n": cfg.eval_n, "n_problems": len(problems), "difficulties": difficulties, "n_bases": len(bases),
        "base": {"name": "base", "overall": {k: v["a"] for k, v in pooled_all["all"].items()},
                 "by_difficulty": {d: {k: v["a"] for k, v in pooled_all[d].items()} for d in difficulties}},
        "ssd": {"name": "SSD", "overall": {k: v["b"] for k, v in pooled_all["all"].items()},
                "by_difficulty": {d: {k: v["b"] for k, v in pooled_all[d].items()} for d in difficulties}},
        "paired": {d: {k: _delta(v) for k, v in pooled_all[d].items()} for d in ["all", *difficulties]},
    }
    primary = t2["bases"][cfg.base.seeds[0]]
    stress_eval = stress["result"]
    primary_base = primary["base"]["best_joint"]
    fig7 = {"t_train": stress["t_train"], "t_eval": stress["t_eval"], "no_code_rate": stress["no_code_rate"],
            "length_rate": stress["length_rate"], "example": stress["example"][:600],
            "base": {k: primary_base.metric(int(k[-1])) for k in ("pass@1", "pass@5")},
            "ssd": {k: stress_eval.metric(int(k[-1])) for k in ("pass@1", "pass@5")}}

    trunc = cfg.eval_truncation
    ssd_model = primary["ssd"][cfg.ssd_seeds[0]][0]
    stats = {name: cached_token_statistics(root, model, study.splits["eval"], prompt_style=cfg.prompt_style,
                                           temperatures=cfg.token_stat_temperatures, top_k=trunc.top_k,
                                           top_p=trunc.top_p)
             for name, model in (("base", study.base_model), ("ssd", ssd_model))}
    series = build_series(cfg, frontier, grid, stats, fig7)
    recipe = t2["recipe"]
    summary = {
        "wall_seconds": round(time.time() - started, 1),
        "stage_seconds": study.stage_seconds(),
        "seeds": list(cfg.ssd_seeds),
        "base_seeds": list(cfg.base.seeds),
        "base": {k: v["a"] for k, v in pooled_all["all"].items()},
        "ssd": {k: v["b"] for k, v in pooled_all["all"].items()},
        "delta": table2["paired"]["all"],
        "bases": bases,
        "recipe": recipe, "eval_truncation": dataclasses.asdict(trunc), "sweep_n": cfg.sweep_n,
        "sft": dataclasses.asdict(cfg.sft),
        "frontier": {
            "best_joint": _setting(frontier["best_joint"]),
            "best_temperature_only": _setting(frontier["best_temperature_only"]),
        },
        "grid": {"selected": _grid_cell(grid["selected"]),
                 "best_untruncated": grid["best_untruncated"] and _grid_cell(grid["best_untruncated"])},
        "table2": table2,
        "mechanism": mechanism_sentence(series["fig6_token_stats"], recipe["t_eval"]),
        "setup": setup(study),
        "host": host_info(),
        **(lead or {}),
    }
    write_all(out, summary, series, lead_sections)
    return summary


def _delta(paired: dict[str, Any]) -> dict[str, Any]:
    return {"value": paired["delta"], "ci": list(paired["ci"]), "p_value": paired["p_value"],
            "n_better": paired["n_better"], "n_worse": paired["n_worse"], "n_tied": paired["n_tied"]}


def _grid_cell(cell: dict[str, Any]) -> dict[str, Any]:
    return {"t_train": cell["t_train"], "train_top_k": cell["train_top_k"], "train_top_p": cell["train_top_p"],
            "t_eval": cell["t_eval"], "val_pass@1": cell["overall"]["pass@1"]["value"]}


def setup(study: Study) -> dict[str, Any]:
    """Sizes of the model, its corpus and the splits, and the base stage's recorded training time."""
    from safetensors import safe_open  # noqa: PLC0415 - part of the heavy pipeline extra

    cfg = study.cfg
    with safe_open(str(study.base_model / "model.safetensors"), "pt") as fh:
        parameters = sum(math.prod(fh.get_slice(k).get_shape()) for k in fh.keys())
    manifest = read_manifest(study.base_model.parent) or {}
    return {"model_dir": str(study.base_model), "parameters": parameters, "vocab_size": cfg.base.vocab_size,
            "spec": dataclasses.asdict(cfg.base.spec), "corpus_examples": manifest.get("corpus_examples"),
            "corpus_problems": manifest.get("corpus_problems"), "base_training_seconds": manifest.get("wall_seconds"),
            "splits": {name: len(problems) for name, problems in study.splits.items()}}


def _setting(cell: dict[str, Any]) -> dict[str, Any]:
    return {"temperature": cell["temperature"], "top_k": cell["top_k"], "top_p": cell["top_p"],
            "val_pass@1": cell["overall"]["pass@1"]["value"]}


def _value(cell: dict[str, Any], k: str) -> float | None:
    metric = cell["overall"].get(k)
    return None if metric is None else metric["value"]


def build_series(cfg: StudyConfig, frontier: dict, grid: dict, stats: dict, fig7: dict) -> dict[str, Any]:
    """The JSON series of paper_figures/README.md."""
    def base_row(trunc) -> dict[str, list]:
        cells = {c["temperature"]: c for c in frontier["cells"] if (c["top_k"], c["top_p"]) == (trunc.top_k, trunc.top_p)}
        return {k: [_value(cells[t], k) for t in cfg.base_temperatures] for k in ("pass@1", "pass@5")}

    selected = grid["selected"]
    series: dict[str, Any] = {
        "fig2_teval_sweep": {
            "t_eval": cfg.base_temperatures, "split": "val",
            "base": base_row(cfg.eval_truncation),
            "base_temperature_only": base_row(type(cfg.eval_truncation)(0, 1.0)),
            "ssd": {k: _value(selected, k) for k in ("pass@1", "pass@5")},
            "base_best_val_pass@1": frontier["best_joint"]["overall"]["pass@1"]["value"],
        },
        "fig7_stress": fig7,
    }
    for name, is_truncated in (("grid_no_truncation", False), ("grid_truncated", True)):
        cells = [c for c in grid["cells"] if ((c["train_top_k"], c["train_top_p"]) != (0, 1.0)) == is_truncated]
        lookup = {(c["t_train"], c["t_eval"]): c for c in cells}
        series[name] = {"t_train": cfg.train_temperatures, "t_eval": cfg.ssd_eval_temperatures, "split": "val",
                        **{k: [[_value(lookup[(tt, te)], k) for te in cfg.ssd_eval_temperatures]
                               for tt in cfg.train_temperatures] for k in ("pass@1", "pass@5")}}
    series["fig6_token_stats"] = {
        "rank": list(range(1, len(stats["base"]["all"]["cumulative_mass"]) + 1)),
        "t_eval": cfg.token_stat_temperatures,
        "truncation": dataclasses.asdict(cfg.eval_truncation),
        "base": stats["base"]["all"], "ssd": stats["ssd"]["all"],
        "by_label": {label: {m: stats[m][label] for m in ("base", "ssd") if label in stats[m]}
                     for label in ("fork", "lock", "other")},
    }
    return series
