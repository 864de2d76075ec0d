"""`ssd reproduce [--quick]`: the whole CPU SSD experiment, from an empty cache to results/cpu/.

The study itself is ssd.studies.testbed (this module parses arguments and picks the folders).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ssd.cache import REPO_ROOT
from ssd.config import load_config
from ssd.runtime import configure_threads
from ssd.studies.testbed.reproduce import CONFIG_DIR, run
from ssd.studies.testbed.study import StudyConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ssd reproduce", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the same experiment at CI size (< 3 minutes)")
    parser.add_argument("--config", help="a StudyConfig YAML (default experiments/cpu/{full,quick}.yaml)")
    parser.add_argument("--root", help="stage cache folder (default runs/cpu or runs/cpu-quick)")
    parser.add_argument("--out", help="results folder (default results/cpu or results/cpu-quick)")
    parser.add_argument("overrides", nargs="*", help="key=value config overrides")
    args = parser.parse_args(argv)
    name = "quick" if args.quick else "full"
    cfg = load_config(args.config or CONFIG_DIR / f"{name}.yaml", StudyConfig, args.overrides)
    suffix = "-quick" if args.quick else ""
    configure_threads()
    root = Path(args.root or REPO_ROOT / "runs" / f"cpu{suffix}")
    out = Path(args.out or REPO_ROOT / "results" / f"cpu{suffix}")
    summary = run(cfg, root, out)
    print(f"ssd reproduce: base pass@1 {summary['base']['pass@1']['value']:.3f} -> SSD "
          f"{summary['ssd']['pass@1']['value']:.3f} (delta {summary['delta']['pass@1']['value']:+.3f}, "
          f"95% CI {summary['delta']['pass@1']['ci']}); {summary['wall_seconds']:.0f} s; report {out / 'report.md'}")
    return 0
