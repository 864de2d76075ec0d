"""Results of experiments: the one writer (`write_results`: summary.json, report.md, extra JSON files), the
paired base-vs-SSD comparison of two evaluations, the verdict sentence every study uses, and the run manifest.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

from ssd.cache import atomic_write_json, device_info, git_state, package_versions
from ssd.experiment.steps import Evaluation
from ssd.metrics import format_interval, paired_comparison
from ssd.records import Problem


def paired_report(base: Evaluation, ssd: Evaluation, problems: Mapping[str, Problem],
                  ks: Iterable[int]) -> dict[str, Any]:
    """Base vs SSD on identical problems, per k (ssd.metrics.paired_comparison: delta, paired CI, sign test)."""
    n = min(len(base.samples), len(ssd.samples)) // max(len(problems), 1)
    return {f"pass@{k}": paired_comparison(base.verdicts, ssd.verdicts, dict(problems), k) for k in ks if k <= n}


def run_manifest() -> dict[str, Any]:
    """The provenance of a results folder: git commit and dirty flag, package versions, host, time."""
    return {"git": git_state(), "packages": package_versions(), "device": device_info(),
            "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def write_results(out_dir: str | Path, summary: Mapping[str, Any], report: str,
                  files: Mapping[str, Any] | None = None) -> Path:
    """The one result writer: `summary.json` (machine readable), `report.md` (human readable) and any extra
    JSON `files` (name -> object, e.g. figure series), each written atomically; returns `out_dir`."""
    out_dir = Path(out_dir)
    for name, obj in {**(files or {}), "summary.json": summary}.items():
        atomic_write_json(out_dir / name, obj)
    tmp = out_dir / "report.md.tmp"
    tmp.write_text(report, encoding="utf-8")
    os.replace(tmp, out_dir / "report.md")
    return out_dir


def verdict_sentence(paired: dict[str, Any]) -> str:
    lo, hi = paired["ci"]
    delta = f"{format_interval(paired, signed=True)} pp (95% CI, sign test p = {paired['p_value']:.3g})"
    if lo > 0:
        return f"SSD helped here: pass@1 {delta}."
    if hi < 0:
        return f"SSD hurt here: pass@1 {delta}."
    return f"SSD made no detectable difference here: pass@1 {delta}; the interval includes zero."
