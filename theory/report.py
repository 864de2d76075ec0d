"""`python -m theory.report`: run every theory check now and write theory_report.json.

Runs (does not read test results): the numeric both-sides checks of theory.statements (random draws, or
exhaustive enumeration for Prop. B.8), the sympy proofs of theory.symbolic, and the Appendix C.4 toy, whose
numbers are compared with the paper's. A toy number matches when it is within one unit of the paper's last
reported digit (the paper truncates or rounds); the two optimum temperatures within 0.005, because each
optimum is the left limit of a discontinuity of P(T) (exact switch temperatures are reported beside them).
Prints a table, writes the JSON ({"statements": [{"name", "source", "method", "passed", ...}], "toy": {...}})
and exits 1 if anything failed. Does not: run the hypothesis property tests (pytest tests/theory does).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from theory import toy
from theory.statements import STATEMENTS, check
from theory.symbolic import PROOFS

# (quantity, unit of the paper's last reported digit) for every toy number the paper gives.
TOY_TOLERANCES = {
    "teacher_best_pass": 1e-4, "student_best_pass": 1e-4, "teacher_best_T": 5e-3, "student_best_T": 5e-3,
    "student_lock_masses": 1e-3, "student_fork_size": 0, "student_fork_tok1": 1e-3, "student_fork_tok0": 1e-3,
    "student_root_size": 0, "student_root_fail": 1e-3, "teacher_fork_nucleus": 1e-3,
    "student_fork_nucleus": 1e-3, "fig14_teacher": 1e-3, "fig14_student": 1e-3, "gap_top_p_min": 1e-3,
    "gap_top_p_max": 1e-3,
}


def statement_results(draws: int | None, seed: int) -> list[dict]:
    rows = []
    for statement in STATEMENTS:
        result = check(statement, draws, seed)
        rows.append({"name": statement.name, "source": statement.source,
                     "method": "exhaustive" if statement.draws == 1 else "numeric", "passed": result.passed,
                     "draws": result.draws, "max_violation": result.max_violation, "tolerance": statement.tol,
                     "claim": statement.claim})
    sources = {s.name: s.source for s in STATEMENTS}
    for name, prove in PROOFS.items():
        rows.append({"name": name, "source": sources.get(name, "paper"), "method": "symbolic",
                     "passed": bool(prove())})
    return rows


def toy_comparisons(summary: dict) -> list[dict]:
    rows = []
    for key, tolerance in TOY_TOLERANCES.items():
        ours, paper = summary[key], toy.PAPER[key]
        pairs = list(zip(ours, paper)) if isinstance(paper, tuple) else [(ours, paper)]
        same_length = not isinstance(paper, tuple) or len(ours) == len(paper)
        passed = same_length and all(abs(a - b) <= tolerance + 1e-12 for a, b in pairs)
        rows.append({"quantity": key, "paper": paper, "ours": ours, "tolerance": tolerance, "passed": passed})
    return rows


def toy_section() -> dict:
    summary = toy.toy_summary()
    comparisons = toy_comparisons(summary)
    wide = {f"{model}_{family}": toy.wide_sweep(model, orders=orders)
            for model in toy.MODELS for family, orders in (("vllm_order", ("TKP",)), ("any_order", toy.ORDERS))}
    return {**summary, "paper": toy.PAPER, "comparisons": comparisons,
            "matches_paper": all(row["passed"] for row in comparisons), "wide_sweep": wide,
            "conflict_interval": toy.conflict_interval()}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def print_report(report: dict) -> None:
    print(f"{'statement':32s} {'source':8s} {'method':10s} {'result':6s} detail")
    for row in report["statements"]:
        detail = f"max violation {row['max_violation']:.1e} over {row['draws']} draws" if "draws" in row else ""
        verdict = "PASS" if row["passed"] else "FAIL"
        print(f"{row['name']:32s} {row['source']:8s} {row['method']:10s} {verdict:6s} {detail}")
    print(f"\n{'toy quantity (fractions)':26s} {'paper':>32s} {'ours':>40s}  result")
    for row in report["toy"]["comparisons"]:
        ours = row["ours"]
        shown = [round(x, 4) for x in ours] if isinstance(ours, (list, tuple)) else round(ours, 5)
        verdict = "PASS" if row["passed"] else "FAIL"
        print(f"{row['quantity']:26s} {str(row['paper']):>32s} {str(shown):>40s}  {verdict}")
    t = report["toy"]
    print(f"\nexact switch temperatures: teacher {t['teacher_switch_T']:.4f}, student {t['student_switch_T']:.4f}")
    c = t["conflict_interval"]
    print(f"Prop. C on the toy: lock precision >= 0.95 needs tau <= {c['tau_lock_max']:.3f}, "
          f"fork entropy >= 2.5 bits needs tau >= {c['tau_fork_min']:.3f} (conflict: {c['conflict']})")
    print("wider decode-only sweep (paper's sweep fixes top-p 0.8, no top-k):")
    for name, best in t["wide_sweep"].items():
        print(f"  {name:22s} P = {best['pass']:.4f} ({best['order']}, k = {best['top_k']}, "
              f"top-p = {best['top_p']:.2f}, T = {best['T']:.2f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m theory.report", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("theory_report.json"))
    parser.add_argument("--draws", type=int, default=None, help="random cases per statement (default: each one's)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    report = {"statements": statement_results(args.draws, args.seed), "toy": toy_section()}
    report["all_passed"] = all(r["passed"] for r in report["statements"]) and report["toy"]["matches_paper"]
    print_report(report)
    tmp = args.out.with_suffix(args.out.suffix + ".tmp")
    tmp.write_text(json.dumps(_jsonable(report), indent=1) + "\n")
    tmp.replace(args.out)
    print(f"\n{'ALL PASSED' if report['all_passed'] else 'FAILURES'}; wrote {args.out}")
    return 0 if report["all_passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
