"""`python -m theory.report` runs the checks and writes the JSON contract."""
import json

from theory import report


def test_report_writes_every_statement_and_the_toy(tmp_path, capsys):
    out = tmp_path / "theory_report.json"
    assert report.main(["--out", str(out), "--draws", "3"]) == 0
    data = json.loads(out.read_text())
    methods = {row["method"] for row in data["statements"]}
    assert methods == {"numeric", "symbolic", "exhaustive"}
    assert all(set(row) >= {"name", "source", "method", "passed"} and row["passed"] for row in data["statements"])
    assert {"teacher_best_pass", "teacher_best_T", "student_best_pass", "student_best_T"} <= set(data["toy"])
    assert data["toy"]["matches_paper"] and 0 < data["toy"]["teacher_best_pass"] < 1
    assert "ALL PASSED" in capsys.readouterr().out


def test_toy_comparison_fails_outside_the_paper_rounding():
    summary = dict(report.toy.toy_summary(), teacher_best_pass=0.0850)
    rows = {row["quantity"]: row["passed"] for row in report.toy_comparisons(summary)}
    assert rows["teacher_best_pass"] is False and rows["student_best_pass"] is True
