"""The SmolLM study's results: the pre-registered headline (SSD vs the base at the same decoding), SSD vs the
sweep's best base (a test-set choice, labelled so), the CPU testbed's headline keys, and report.md.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ssd.cache import read_manifest
from ssd.experiment.report import verdict_sentence
from ssd.experiment.run import hms
from ssd.metrics import format_interval
from ssd.studies.smollm.config import SmolLMConfig


def headline(results: dict[str, Any], cfg: SmolLMConfig) -> dict[str, Any]:
    """The pre-registered comparison (SSD vs base at the same decoding) and SSD vs the sweep's best base."""
    ssd_label, matched = f"ssd@T{cfg.ssd_temperatures[0]}", f"base@T{cfg.base_temperatures[0]}"
    base_arms = [f"base@T{t}" for t in cfg.base_temperatures]
    best = max(base_arms, key=lambda a: results["arms"][a]["summary"]["pass_at_k"]["pass@1"]["value"])
    return {"ssd": ssd_label, "matched_base": matched, "best_base_on_test": best,
            "vs_matched": results["paired"][f"{ssd_label} vs {matched}"],
            "vs_best_base": results["paired"][f"{ssd_label} vs {best}"]}


def testbed_form(results: dict[str, Any], seed: int) -> dict[str, Any]:
    """The headline keys of the CPU testbed's summary.json (`seeds`, `base`, `ssd`, `delta`)."""
    head = results["headline"]

    def with_ci(metrics: dict[str, Any]) -> dict[str, Any]:
        return {k: {"value": m["value"], "ci": list(m["ci"])} for k, m in metrics.items()}

    return {"seeds": [seed],
            "base": with_ci(results["arms"][head["matched_base"]]["summary"]["pass_at_k"]),
            "ssd": with_ci(results["arms"][head["ssd"]]["summary"]["pass_at_k"]),
            "delta": {k: {"value": c["delta"], "ci": c["ci"], "p_value": c["p_value"]}
                      for k, c in head["vs_matched"].items()}}


def stage_seconds(path: Path) -> float | None:
    """Wall seconds from the manifest of the stage holding `path` (the last process only, if resumed)."""
    for folder in (path, *path.parents[:2]):
        manifest = read_manifest(folder)
        if manifest and manifest.get("complete"):
            return manifest.get("wall_seconds")
    return None


def render_report(results: dict[str, Any]) -> str:
    ks = results["config"]["experiment"]["ks"]
    lines = [f"# {results['experiment']}: SSD on SmolLM2-135M-Instruct, HumanEval", "",
             f"{len(results['benchmark']['problems'])} HumanEval problems, "
             f"{results['config']['experiment']['n_eval_samples']} samples each; SSD data from "
             f"{results['prompt_pool']['n_prompts']} stdlib-docstring prompts (0 HumanEval matches). "
             f"Measured wall time {hms(sum(filter(None, results['stage_seconds'].values())))} (sum of the stages "
             f"below). Values in %, 95% bootstrap intervals over problems.",
             "", "| arm | " + " | ".join(f"pass@{k}" for k in ks) + " | no code | max tokens hit | mean tokens |",
             "|---|" + "---|" * (len(ks) + 3)]
    for label, arm in results["arms"].items():
        h = arm["summary"]["health"]
        cells = [format_interval(arm["summary"]["pass_at_k"][f"pass@{k}"]) for k in ks]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {h['no_code_rate']:.1%} | "
                     f"{h['max_token_hit_rate']:.1%} | {h['mean_completion_tokens']:.0f} |")
    lines += ["", "Paired SSD - base on the same problems (delta in points, 95% bootstrap interval, "
              "problems better/worse/tied, sign-test p):", ""]
    for pair, by_k in results["paired"].items():
        for key, c in by_k.items():
            lines.append(f"- {pair}, {key}: {format_interval(c, signed=True)}, "
                         f"{c['n_better']}/{c['n_worse']}/{c['n_tied']}, p = {c['p_value']:.2f}")
    h = results["headline"]
    lines += ["", f"Pre-registered comparison, {h['ssd']} vs {h['matched_base']}: "
              f"{verdict_sentence(h['vs_matched']['pass@1'])}",
              f"Against the best base of the sweep ({h['best_base_on_test']}, chosen on the test set): "
              f"{verdict_sentence(h['vs_best_base']['pass@1'])}",
              "", "Stage wall times (s): " + ", ".join(f"{k} {v}" for k, v in results["stage_seconds"].items())]
    lines.append("")
    return "\n".join(lines)
