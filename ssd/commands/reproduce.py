"""`ssd reproduce [--quick]`: the whole CPU SSD experiment, from an empty cache to results/cpu/.

Two studies, one results folder: the positive control (ssd.studies.control: a benchmark family where the theory
predicts an SSD gain, evaluated exactly) and the benign testbed (ssd.studies.testbed). Both configs are loaded and
validated before any work starts. The stages that do not depend on each other (the testbed's base models and the
whole control) run first, in `SSD_THREADS` single-thread processes; then each phase of the testbed runs its
independent jobs the same way, and this process reads every stage from the cache. The control's result is
`positive_control` in `summary.json` and the first section of `report.md`. This module parses arguments and picks
the folders.
"""
from __future__ import annotations

import argparse
import functools
from pathlib import Path

from ssd.cache import REPO_ROOT
from ssd.config import load_config
from ssd.runtime import configure_threads, run_in_processes
from ssd.studies.control.report import plot as plot_control
from ssd.studies.control.report import render_markdown as control_markdown
from ssd.studies.control.study import ControlConfig, run_control
from ssd.studies.testbed.reproduce import CONFIG_DIR, run
from ssd.studies.testbed.study import StudyConfig, base_model_builders

CONTROL_FIGURE = "positive_control.png"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ssd reproduce", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the same experiment at CI size (about a minute)")
    parser.add_argument("--config", help="a StudyConfig YAML (default experiments/cpu/{full,quick}.yaml)")
    parser.add_argument("--control-config", help="a ControlConfig YAML (default experiments/cpu/control{,_quick}.yaml)")
    parser.add_argument("--root", help="stage cache folder (default runs/cpu or runs/cpu-quick)")
    parser.add_argument("--out", help="results folder (default results/cpu or results/cpu-quick)")
    parser.add_argument("overrides", nargs="*", help="key=value overrides of the testbed config")
    args = parser.parse_args(argv)
    name, suffix = ("quick", "-quick") if args.quick else ("full", "")
    cfg = load_config(args.config or CONFIG_DIR / f"{name}.yaml", StudyConfig, args.overrides)
    control_cfg = load_config(args.control_config or CONFIG_DIR / f"control{'_quick' if args.quick else ''}.yaml",
                              ControlConfig)
    threads = configure_threads()
    root = Path(args.root or REPO_ROOT / "runs" / f"cpu{suffix}")
    out = Path(args.out or REPO_ROOT / "results" / f"cpu{suffix}")
    # The independent stages first, side by side: the testbed's base models (longest first) and the whole control.
    # Their results do not depend on the thread count (results/cpu/regeneration_check.json), so the runs below
    # read them from the cache.
    run_in_processes([*base_model_builders(cfg, root).values(), functools.partial(run_control, control_cfg, root)],
                     threads)
    control = run_control(control_cfg, root)
    out.mkdir(parents=True, exist_ok=True)
    plot_control(control, out / CONTROL_FIGURE)
    summary = run(cfg, root, out, lead={"positive_control": control},
                  lead_sections=[control_markdown(control), ""], processes=threads)
    pc = summary["positive_control"]
    print(f"ssd reproduce: positive control predicted gain {pc['predicted_gain']['value']:+.3f} "
          f"{pc['predicted_gain']['ci']}, measured {pc['measured_gain']['value']:+.3f} {pc['measured_gain']['ci']}; "
          f"benign testbed base pass@1 {summary['base']['pass@1']['value']:.3f} -> SSD "
          f"{summary['ssd']['pass@1']['value']:.3f} (delta {summary['delta']['pass@1']['value']:+.3f}, "
          f"95% CI {summary['delta']['pass@1']['ci']}); {summary['wall_seconds']:.0f} s; report {out / 'report.md'}")
    return 0
