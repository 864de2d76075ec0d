"""Does a fresh `make reproduce` regenerate the committed CPU results? Each headline number of the fresh
`results/cpu/summary.json` must lie inside the committed interval of the same number.

    python -m scripts.check_regeneration                       # fresh results/cpu/summary.json vs git HEAD's
    python -m scripts.check_regeneration --reference OLD.json --fresh NEW.json
    python -m scripts.check_regeneration --headline positive_control.measured_gain   # only some headlines
    python -m scripts.check_regeneration --record results/cpu/regeneration_check.json  # also write the comparison

Bit-identity is not promised across machines: float kernels differ between CPUs (the host is in every stage
manifest), and a tiny model trained from scratch moves with them. What is promised is agreement within the
committed intervals, which include the base-to-base and the seed-to-seed variance (several base seeds, each with
several SSD seeds: a nested bootstrap over bases, problems and SSD seeds).
Beside that criterion each row says whether the two runs agree: whether fresh - committed is within the two runs'
combined uncertainty, sqrt(h_committed^2 + h_fresh^2) for the half-widths h of their intervals. A fresh value just
outside the committed interval can still agree: the fresh run is itself one draw of bases and seeds.
Exit status: 0 when every headline number is inside, 1 otherwise, 2 when a file or a headline is missing.
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

SUMMARY = "results/cpu/summary.json"
# Dotted paths of {value, ci} objects: the benign testbed pooled over bases, and the positive control.
HEADLINES = (
    "base.pass@1", "ssd.pass@1", "delta.pass@1",
    "positive_control.predicted_gain", "positive_control.measured_gain", "positive_control.ratio",
)


def lookup(summary: dict[str, Any], dotted: str) -> dict[str, Any]:
    node: Any = summary
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            raise KeyError(dotted)
        node = node[key]
    if not isinstance(node, dict) or "value" not in node or "ci" not in node:
        raise KeyError(dotted)
    return node


def compare(reference: dict[str, Any], fresh: dict[str, Any], headlines=HEADLINES) -> list[dict[str, Any]]:
    """One row per headline: the committed value and interval, the fresh value and interval, whether the fresh
    value is inside the committed interval, and whether the two runs agree within their combined uncertainty."""
    rows = []
    for path in headlines:
        ref, new = lookup(reference, path), lookup(fresh, path)
        lo, hi = ref["ci"]
        tolerance = math.hypot((hi - lo) / 2, (new["ci"][1] - new["ci"][0]) / 2)
        rows.append({"headline": path, "committed": ref["value"], "committed_ci": [lo, hi],
                     "fresh": new["value"], "fresh_ci": list(new["ci"]), "inside": lo <= new["value"] <= hi,
                     "difference": new["value"] - ref["value"], "combined_half_width": tolerance,
                     "agree": abs(new["value"] - ref["value"]) <= tolerance})
    return rows


def differing_paths(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Dotted paths where two summaries differ (a `host` object counts as one value)."""
    if isinstance(a, dict) and isinstance(b, dict) and not prefix.endswith("host"):
        return [path for key in sorted(set(a) | set(b))
                for path in differing_paths(a.get(key), b.get(key), f"{prefix}.{key}" if prefix else str(key))]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [path for i, (x, y) in enumerate(zip(a, b)) for path in differing_paths(x, y, f"{prefix}.{i}")]
    return [] if a == b else [prefix]


def record(reference: dict[str, Any], fresh: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The comparison as a results file: rows, whether each headline is bit-identical, every differing path."""
    return {"rows": rows, "headlines_identical": all(r["fresh"] == r["committed"] for r in rows),
            "differing_paths": differing_paths(reference, fresh),
            "reference_host": reference.get("host"), "fresh_host": fresh.get("host"),
            "reference_wall_seconds": reference.get("wall_seconds"), "fresh_wall_seconds": fresh.get("wall_seconds")}


def committed_summary(revision: str) -> dict[str, Any]:
    text = subprocess.run(["git", "show", f"{revision}:{SUMMARY}"], check=True, capture_output=True, text=True).stdout
    return json.loads(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fresh", default=SUMMARY, help=f"the regenerated summary (default {SUMMARY})")
    parser.add_argument("--reference", default="HEAD",
                        help="a summary.json path, or a git revision whose committed summary is the reference")
    parser.add_argument("--headline", action="append", choices=HEADLINES,
                        help="check only this headline (repeatable; default: all)")
    parser.add_argument("--record", help="also write the comparison (rows, differing paths, hosts) to this JSON file")
    args = parser.parse_args(argv)
    try:
        fresh = json.loads(Path(args.fresh).read_text(encoding="utf-8"))
        reference = (json.loads(Path(args.reference).read_text(encoding="utf-8")) if Path(args.reference).is_file()
                     else committed_summary(args.reference))
        rows = compare(reference, fresh, args.headline or HEADLINES)
    except (OSError, subprocess.CalledProcessError, json.JSONDecodeError) as e:
        print(f"check_regeneration: cannot read a summary: {e}", file=sys.stderr)
        return 2
    except KeyError as e:
        print(f"check_regeneration: headline {e.args[0]} missing (expected a {{value, ci}} object)", file=sys.stderr)
        return 2
    for r in rows:
        lo, hi = r["committed_ci"]
        verdict = "inside" if r["inside"] else "OUTSIDE"
        agreement = "agree" if r["agree"] else "DISAGREE"
        print(f"{r['headline']:<34} committed {100 * r['committed']:+6.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]   "
              f"fresh {100 * r['fresh']:+6.1f}   {verdict:<7}   difference {100 * r['difference']:+.1f} "
              f"(tolerance {100 * r['combined_half_width']:.1f}): {agreement}")
    if args.record:
        Path(args.record).write_text(json.dumps(record(reference, fresh, rows), indent=2) + "\n", encoding="utf-8")
    outside = [r["headline"] for r in rows if not r["inside"]]
    disagree = [r["headline"] for r in rows if not r["agree"]]
    print("regenerated within the committed intervals" if not outside else f"NOT regenerated: {', '.join(outside)}")
    print("the two runs agree on every headline" if not disagree else f"the two runs DISAGREE on: {', '.join(disagree)}")
    return 1 if outside else 0


if __name__ == "__main__":
    sys.exit(main())
