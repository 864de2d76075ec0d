"""Grading: LiveCodeBench comparison semantics, verdicts end to end, HumanEval references, resumable grade_file."""
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssd.grading import grade as grading
from ssd.grading import (
    default_ks, grade_distinct_programs, grade_file, grade_samples, make_limits, stdout_matches, value_matches,
)
from ssd.data.problems import load_humaneval, write_problems
from ssd.records import Problem, RecordError, Sample, Verdict, read_jsonl, write_jsonl
from ssd.sandbox import encode_value

LIMITS = make_limits(1.0, program_timeout=3.0, memory_mb=256)


def fenced(code: str) -> str:
    return f"Here is my solution.\n```python\n{code}\n```\n"


def sample(problem_id: str, completion: str, index: int = 0) -> Sample:
    return Sample(problem_id, index, "prompt", completion, "stop", 10, {"temperature": 1.0})


ADD = Problem("add", "test", "add two numbers", "stdin",
              [{"input": "1 2\n", "output": "3\n"}, {"input": "10 -4\n", "output": "6"}], difficulty="easy")
PAIR = Problem("pair", "test", "sum and list", "functional",
               [{"input": "[1, 2]\n3", "output": "[6, [1, 2]]"}, {"input": "[]\n0", "output": "[0, []]"}],
               func_name="total", difficulty="hard")
PROBLEMS = {"add": ADD, "pair": PAIR}
ADD_OK = "a, b = map(int, input().split())\nprint(a + b)"


@pytest.mark.parametrize("output, expected", [
    ("3\n", "3"), ("  3  \n\n", "3\n"), ("1 2\r\n3", "1 2\n3"), ("1.0", "1"), ("0.50 2", "0.5 2.000"),
    ("1e3", "1000"),
])
def test_stdout_matches_like_livecodebench(output, expected):
    assert stdout_matches(output, expected)


@pytest.mark.parametrize("output, expected", [
    ("3\n4", "3"), ("yes", "Yes"), ("1 2", "1  3"), ("0.333333", "0.3333333"), ("1 2", "12"), ("", "0"),
    ("sNaN", "1"), ("1", "sNaN"), ("NaN", "1"),
])
def test_stdout_mismatches_like_livecodebench(output, expected):
    assert not stdout_matches(output, expected)


@given(st.text(st.characters(blacklist_categories=("Cs",))))
def test_any_output_matches_itself(text):
    assert stdout_matches(text, text)


@given(st.lists(st.text(st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)))))
def test_whitespace_around_lines_and_output_is_ignored(lines):
    assert stdout_matches("\n".join(f"  {line}\t" for line in lines) + "\n\n", "\n".join(lines))


def test_relative_tolerance_is_opt_in():
    assert not stdout_matches("0.333333", "0.3333333")
    assert stdout_matches("0.333333", "0.3333333", rel_tol=1e-5)


@pytest.mark.parametrize("value, expected, equal", [
    ((1, 2), [1, 2], True), ([1, 2], [1, 2], True), ([(1, 2)], [[1, 2]], False), (1.0, 1, True),
    ({"a": 1}, {"a": 1}, True), ("1", 1, False), (None, None, True), ([1, 2], [2, 1], False),
])
def test_value_matches_like_livecodebench_call_based(value, expected, equal):
    assert value_matches(encode_value(value), expected) is equal


def test_value_matches_rejects_malformed_trees():
    assert not value_matches({"object": 1}, 1)


def test_verdicts_for_stdin_programs_in_sample_order():
    samples = [
        sample("add", fenced(ADD_OK), 0),
        sample("add", fenced("print(3)"), 1),
        sample("add", fenced("while True:\n    pass"), 2),
        sample("add", "I cannot solve this.", 3),
        sample("add", fenced("raise ValueError('x')"), 4),
        sample("add", fenced("x = bytearray(10 ** 10)"), 5),
    ]
    verdicts = grade_samples(samples, PROBLEMS, workers=2, limits=LIMITS)
    assert [(v.sample_index, v.status, v.tests_passed) for v in verdicts] == [
        (0, "passed", 2), (1, "wrong_answer", 1), (2, "timeout", 0), (3, "no_code", 0), (4, "runtime_error", 0),
        (5, "memory_limit", 0)]
    assert all(v.tests_total == 2 for v in verdicts)


def test_verdicts_for_functional_programs():
    solution = "class Solution:\n    def total(self, xs, k):\n        return (sum(xs) + k, xs)\n"
    plain = "def total(xs, k):\n    return [sum(xs) + k, list(xs)]\n"
    wrong = "def total(xs, k):\n    return [sum(xs), xs]\n"
    faker = "class Eq(list):\n    def __eq__(self, other):\n        return True\ndef total(xs, k):\n    return Eq()\n"
    samples = [sample("pair", fenced(code), i) for i, code in enumerate([solution, plain, wrong, faker])]
    statuses = [v.status for v in grade_samples(samples, PROBLEMS, workers=2, limits=LIMITS)]
    assert statuses == ["passed", "passed", "wrong_answer", "wrong_answer"]


def test_programs_get_livecodebench_imports_unless_disabled():
    annotated = "class Solution:\n    def total(self, xs: List[int], k: int) -> List:\n        return [sum(xs) + k, xs]"
    counting = "print(sum(Counter(map(int, input().split())).elements()))"
    samples = [sample("pair", fenced(annotated), 0), sample("add", fenced(counting), 1)]
    with_prelude = grade_samples(samples, PROBLEMS, workers=2, limits=LIMITS)
    without = grade_samples(samples, PROBLEMS, workers=2, limits=LIMITS, lcb_prelude=False)
    assert [v.status for v in with_prelude] == ["passed", "passed"]
    assert [v.status for v in without] == ["runtime_error", "runtime_error"]


def test_last_block_by_default_first_on_request():
    completion = fenced("print(0)") + "Better:\n" + fenced(ADD_OK)
    assert grade_samples([sample("add", completion)], PROBLEMS, workers=1, limits=LIMITS)[0].status == "passed"
    first = grade_samples([sample("add", completion)], PROBLEMS, workers=1, limits=LIMITS, which="first")
    assert first[0].status == "wrong_answer"


def test_unknown_problem_is_a_record_error():
    with pytest.raises(RecordError, match="unknown problem 'nope'"):
        grade_samples([sample("nope", fenced("print(1)"))], PROBLEMS, workers=1, limits=LIMITS)


def test_functional_test_that_is_not_json_is_a_record_error():
    broken = Problem("b", "test", "q", "functional", [{"input": "[1,", "output": "1"}], func_name="f")
    with pytest.raises(RecordError, match=r"tests\[0\]"):
        grade_samples([sample("b", fenced("def f(x):\n    return x"))], {"b": broken}, workers=1, limits=LIMITS)


def test_problem_without_tests_is_a_record_error():
    empty = Problem("e", "test", "q", "stdin", [])
    with pytest.raises(RecordError, match="'tests': empty"):
        grade_samples([sample("e", fenced("print(1)"))], {"e": empty}, workers=1, limits=LIMITS)


def test_crashed_worker_is_a_harness_error(monkeypatch):
    from ssd.sandbox import TestResult

    def broken_run(self, jobs):
        for index, _ in enumerate(jobs):
            yield index, [TestResult("harness", 0.0, detail="sandbox worker died")]
    monkeypatch.setattr(grading.Sandbox, "run_unordered", broken_run)
    verdict = grade_samples([sample("add", fenced(ADD_OK))], PROBLEMS, workers=1, limits=LIMITS)[0]
    assert verdict.status == "harness_error"


def test_grader_bug_is_a_harness_error_for_that_sample_only(monkeypatch):
    def broken_compare(output, expected, rel_tol=0.0):
        raise RuntimeError("bug")
    monkeypatch.setattr(grading, "stdout_matches", broken_compare)
    samples = [sample("add", fenced(ADD_OK)), sample("pair", fenced("def total(xs, k):\n    return 0"), 1)]
    verdicts = grade_samples(samples, PROBLEMS, workers=1, limits=LIMITS)
    assert [v.status for v in verdicts] == ["harness_error", "wrong_answer"]


@pytest.fixture(scope="module")
def humaneval():
    return load_humaneval()


def test_all_humaneval_canonical_solutions_pass(humaneval):
    samples = [sample(pid, p.metadata["canonical_solution"]) for pid, p in humaneval.items()]
    verdicts = grade_samples(samples, humaneval, workers=2, limits=make_limits(3.0, program_timeout=10.0))
    assert len(verdicts) == 164
    assert [v.problem_id for v in verdicts if v.status != "passed"] == []


@pytest.mark.parametrize("broken, status", [("    return None\n", "wrong_answer"),
                                            ("    raise RuntimeError('broken')\n", "runtime_error")])
def test_broken_humaneval_solutions_fail(humaneval, broken, status):
    samples = [sample(pid, broken) for pid in humaneval]
    verdicts = grade_samples(samples, humaneval, workers=2, limits=make_limits(3.0, program_timeout=10.0))
    assert {v.status for v in verdicts} == {status}


def test_humaneval_fenced_full_function_is_graded(humaneval):
    problem = humaneval["HumanEval/0"]
    body = problem.metadata["canonical_solution"]
    signature = "def has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
    completion = fenced("from typing import List\n\n" + signature + body)
    assert grade_samples([sample("HumanEval/0", completion)], humaneval, workers=1,
                         limits=LIMITS)[0].status == "passed"


def test_grading_each_distinct_program_once_matches_grading_every_sample(humaneval):
    """Unfenced HumanEval completions are distinct programs although none has a code block."""
    problems = {"HumanEval/0": humaneval["HumanEval/0"], "add": ADD}
    right = humaneval["HumanEval/0"].metadata["canonical_solution"]
    texts = [("HumanEval/0", right), ("HumanEval/0", "    return False\n"), ("HumanEval/0", right),
             ("add", fenced(ADD_OK)), ("add", fenced("print(3)")), ("add", "no code"), ("add", fenced(ADD_OK))]
    samples = [sample(pid, text, index) for index, (pid, text) in enumerate(texts)]
    limits = make_limits(3.0, program_timeout=10.0)
    distinct, count = grade_distinct_programs(samples, problems, workers=2, limits=limits)
    every = grade_samples(samples, problems, workers=2, limits=limits)
    assert [(v.problem_id, v.sample_index, v.status) for v in distinct] == \
        [(v.problem_id, v.sample_index, v.status) for v in every]
    assert [v.status for v in distinct] == ["passed", "wrong_answer", "passed", "passed", "wrong_answer", "no_code",
                                            "passed"]
    assert count == 5


def test_grade_file_takes_humaneval_by_name(tmp_path, humaneval):
    samples_path = tmp_path / "samples.jsonl"
    write_jsonl(samples_path, [sample("HumanEval/0", humaneval["HumanEval/0"].metadata["canonical_solution"]),
                               sample("HumanEval/1", "    return []\n")])
    results = grade_file(samples_path, "humaneval", tmp_path / "out", workers=1, limits=LIMITS, n_boot=10)
    assert results["metrics"]["pass_at_k"]["pass@1"]["value"] == 0.5


def test_default_ks_follow_the_official_ladder():
    assert default_ks(1) == [1]
    assert default_ks(10) == [1, 5]
    assert default_ks(64) == [1, 5, 10, 16, 20, 32]


def _write_inputs(tmp_path, n_per_problem=2):
    problems_path, samples_path = tmp_path / "problems.jsonl", tmp_path / "samples.jsonl"
    write_problems(problems_path, PROBLEMS)
    codes = {"add": [ADD_OK, "print(0)"],
             "pair": ["def total(xs, k):\n    return [sum(xs) + k, xs]", "def total(xs, k):\n    return 0"]}
    write_jsonl(samples_path, [sample(pid, fenced(codes[pid][i % 2]), i)
                               for pid in PROBLEMS for i in range(n_per_problem)])
    return samples_path, problems_path


def test_grade_file_writes_verdicts_and_results(tmp_path):
    samples_path, problems_path = _write_inputs(tmp_path)
    results = grade_file(samples_path, problems_path, tmp_path / "out", workers=2, limits=LIMITS, n_boot=200)
    verdicts = list(read_jsonl(tmp_path / "out" / "verdicts.jsonl", Verdict))
    assert sorted((v.problem_id, v.status) for v in verdicts) == [
        ("add", "passed"), ("add", "wrong_answer"), ("pair", "passed"), ("pair", "wrong_answer")]
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["metrics"]["pass_at_k"]["pass@1"]["value"] == results["metrics"]["pass_at_k"]["pass@1"]["value"] == 0.5


def test_grade_file_resumes_without_regrading(tmp_path):
    samples_path, problems_path = _write_inputs(tmp_path)
    out = tmp_path / "out"
    grade_file(samples_path, problems_path, out, workers=2, limits=LIMITS, n_boot=10)
    lines = (out / "verdicts.jsonl").read_text().splitlines(keepends=True)
    (out / "verdicts.jsonl").write_text("".join(lines[:-1]) + lines[-1][:7])  # last record cut mid-write
    resumed = grade_file(samples_path, problems_path, out, workers=2, limits=LIMITS, n_boot=10)
    assert resumed["newly_graded"] == 1
    after = (out / "verdicts.jsonl").read_text().splitlines(keepends=True)
    assert after[:-1] == lines[:-1] and len(after) == len(lines)


def test_grade_file_rejects_k_above_samples_before_grading(tmp_path):
    samples_path, problems_path = _write_inputs(tmp_path)
    with pytest.raises(ValueError, match="pass@5 needs >= 5 samples"):
        grade_file(samples_path, problems_path, tmp_path / "out", ks=[1, 5], limits=LIMITS)
    assert not (tmp_path / "out").exists()


def test_grade_file_refuses_verdicts_of_other_samples(tmp_path):
    samples_path, problems_path = _write_inputs(tmp_path)
    out = tmp_path / "out"
    write_jsonl(out / "verdicts.jsonl", [Verdict("other", 0, "passed", 1, 1, 0.1)])
    with pytest.raises(RecordError, match="not in"):
        grade_file(samples_path, problems_path, out, limits=LIMITS)


def test_cli_grades_and_reports_bad_input(tmp_path, capsys):
    from ssd.cli import main

    samples_path, problems_path = _write_inputs(tmp_path)
    out = tmp_path / "out"
    assert main(["grade", str(samples_path), "--problems", str(problems_path), "--out", str(out), "--timeout", "1",
                 "--workers", "1", "--no-progress", "--n-boot", "10"]) == 0
    assert "pass@1 0.5000" in capsys.readouterr().out
    (tmp_path / "bad.jsonl").write_text('{"problem_id": "add"}\n')
    assert main(["grade", str(tmp_path / "bad.jsonl"), "--problems", str(problems_path), "--out", str(out)]) == 2
    assert "bad.jsonl:1" in capsys.readouterr().err
