"""Does a fresh `make reproduce` regenerate the committed CPU results? Each headline number of the fresh
`results/cpu/summary.json` must lie inside the committed interval of the same number.

    python -m scripts.check_regeneration                       # fresh results/cpu/summary.json vs git HEAD's
    python -m scripts.check_regeneration --reference OLD.json --fresh NEW.json
    python -m scripts.check_regeneration --headline positive_control.measured_gain   # only some headlines

Bit-identity is not promised across machines: float kernels differ between CPUs (the host is in every stage
manifest), and a tiny model trained from scratch moves with them. What is promised is agreement within the
committed intervals, which include the base-to-base variance (several base seeds, two-level bootstrap).
Exit status: 0 when every headline number is inside, 1 otherwise, 2 when a file or a headline is missing.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SUMMARY = "results/cpu/summary.json"
# Dotted paths of {value, ci} objects: the benign testbed pooled over bases, and the positive control.
HEADLINES = (
    "base.pass@1", "ssd.pass@1", "delta.pass@1",
    "positive_control.predicted_gain", "positive_control.measured_gain",
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
    """One row per headline: the committed value and interval, the fresh value, and whether it is inside."""
    rows = []
    for path in headlines:
        ref, new = lookup(reference, path), lookup(fresh, path)
        lo, hi = ref["ci"]
        rows.append({"headline": path, "committed": ref["value"], "committed_ci": [lo, hi],
                     "fresh": new["value"], "inside": lo <= new["value"] <= hi})
    return rows


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
        print(f"{r['headline']:<34} committed {100 * r['committed']:+6.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]   "
              f"fresh {100 * r['fresh']:+6.1f}   {verdict}")
    outside = [r["headline"] for r in rows if not r["inside"]]
    print("regenerated within the committed intervals" if not outside else f"NOT regenerated: {', '.join(outside)}")
    return 1 if outside else 0


if __name__ == "__main__":
    sys.exit(main())
