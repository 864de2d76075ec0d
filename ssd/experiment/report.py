"""The experiment's results: `summary.json` (machine readable) and `report.md` (human readable).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

from ssd.cache import atomic_write_json
from ssd.experiment.steps import Evaluation
from ssd.metrics import format_interval, paired_comparison
from ssd.records import Problem


def paired_report(base: Evaluation, ssd: Evaluation, problems: Mapping[str, Problem],
                  ks: Iterable[int]) -> dict[str, Any]:
    """Base vs SSD on identical problems, per k (ssd.metrics.paired_comparison: delta, paired CI, sign test)."""
    n = min(len(base.samples), len(ssd.samples)) // max(len(problems), 1)
    return {f"pass@{k}": paired_comparison(base.verdicts, ssd.verdicts, dict(problems), k) for k in ks if k <= n}


def write_results(out_dir: str | Path, results: dict[str, Any]) -> Path:
    """`summary.json` (machine readable) and `report.md` (human readable) of one experiment."""
    out_dir = Path(out_dir)
    atomic_write_json(out_dir / "summary.json", results)
    (out_dir / "report.md").write_text(render_report(results), encoding="utf-8")
    return out_dir


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


def verdict_sentence(paired: dict[str, Any]) -> str:
    lo, hi = paired["ci"]
    delta = f"{format_interval(paired, signed=True)} pp (95% CI, sign test p = {paired['p_value']:.3g})"
    if lo > 0:
        return f"SSD helped here: pass@1 {delta}."
    if hi < 0:
        return f"SSD hurt here: pass@1 {delta}."
    return f"SSD made no detectable difference here: pass@1 {delta}; the interval includes zero."
