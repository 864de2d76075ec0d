"""`ssd grade SAMPLES --problems P --out DIR`: grade a samples JSONL in the sandbox (ssd.grading.grade_file)."""
from __future__ import annotations

import argparse

from ssd.config import ConfigError
from ssd.grading import grade_file, make_limits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ssd grade", description="grade samples in a sandbox")
    parser.add_argument("samples", help="samples JSONL (ssd.records.Sample)")
    parser.add_argument("--problems", required=True, help="problems JSONL (ssd.records.Problem), or 'humaneval'")
    parser.add_argument("--out", required=True, help="output folder for verdicts.jsonl and results.json")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=6.0, help="seconds per test")
    parser.add_argument("--program-timeout", type=float, default=None,
                        help="seconds for all tests of a program (default: LiveCodeBench's (timeout + 1) * tests + 5)")
    parser.add_argument("--memory-mb", type=int, default=None,
                        help="address-space cap (default: 2048 in strict semantics, none in official)")
    parser.add_argument("--semantics", choices=("strict", "official"), default="strict",
                        help="strict: run as python would; official: LiveCodeBench's rules (ssd.grading.grade)")
    parser.add_argument("--ks", default=None, help="comma-separated k values (default: the official ladder)")
    parser.add_argument("--which", choices=("last", "first"), default="last", help="which fenced block to run")
    parser.add_argument("--no-lcb-prelude", action="store_true",
                        help="run programs without LiveCodeBench's standard-library import block")
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    try:
        ks = [int(k) for k in args.ks.split(",")] if args.ks else None
    except ValueError:
        raise ConfigError(f"--ks: expected comma-separated integers, got {args.ks!r}") from None
    memory = {} if args.memory_mb is None else {"memory_mb": args.memory_mb}
    limits = make_limits(args.timeout, args.semantics, program_timeout=args.program_timeout, **memory)
    results = grade_file(args.samples, args.problems, args.out, workers=args.workers, limits=limits, ks=ks,
                         which=args.which, lcb_prelude=not args.no_lcb_prelude, progress=not args.no_progress,
                         n_boot=args.n_boot, seed=args.seed, semantics=args.semantics)
    metrics = results["metrics"]
    line = ", ".join(f"{name} {m['value']:.4f} [{m['ci'][0]:.4f}, {m['ci'][1]:.4f}]"
                     for name, m in metrics["pass_at_k"].items())
    print(f"{line}; statuses {metrics['health']['status_counts']}; written to {args.out}")
    return 0
