"""Official-evaluator parity, our side: the parity corpus is well formed, LiveCodeBench's extraction and program
rules as we rebuild them, and both grading semantics give the verdicts the corpus documents.
(bench/parity_official.py compares with LiveCodeBench's own harness; it is not needed here.)"""
import ast
import json

import pytest

from bench import parity_corpus
from bench.parity_official import lcb_status
from ssd.grading import grade_samples
from ssd.grading.official import (LCB_PRELUDE, WRAPPER_NAME, extract_code_official, official_program,
                                  unwrap_main_guard)

# Every behaviour of issue #13's item 2 (and items 1 and 3) has a hand-written row.
REQUIRED_ROWS = {
    "stdin/from-sys-import-stdin", "stdin/stdin-buffer-readline", "stdin/thread-never-joined",
    "stdin/module-global-statement", "stdin/exit-after-output", "stdin/sys-exit-1-after-output",
    "stdin/big-int-output", "stdin/memory-3gb", "stdin/infinite-loop", "extract/unclosed-final-fence",
    "call/instance-state-reused",
}


@pytest.fixture(scope="module")
def hand_written():
    return parity_corpus.hand_written()


def test_hand_written_rows_are_well_formed(hand_written):
    problems, rows = hand_written
    ids = [r.id for r in rows]
    assert len(ids) == len(set(ids))
    assert REQUIRED_ROWS <= set(ids)
    for row in rows:
        assert row.problem_id in problems
        assert row.official in parity_corpus.STATUSES and row.strict in parity_corpus.STATUSES
        differs = len({row.official, row.strict, row.expected("official")}) > 1
        assert bool(row.note) == differs, row.id  # every difference says why
    for problem in problems.values():
        problem.validate()


def test_generated_groups_document_canonical_solutions_only():
    problems, rows = parity_corpus.build(("testbed",))
    assert len(rows) == 2 * len(problems) == 60
    for row in rows:
        canonical = row.id.endswith("/canonical")
        assert (row.official, row.strict) == (("passed", "passed") if canonical else (None, None))


def test_humaneval_asserts_become_functional_tests():
    check = ("def check(candidate):\n    assert candidate([1, 2], 3) == (4, 5)\n"
             "    assert abs(candidate([1], 1) - 2) < 1e-6\n    assert candidate(x=1) == 2\n"
             "    assert candidate('a') == 'b', 'message'\n    assert True\n")
    assert parity_corpus.humaneval_tests(check) == [{"input": "[1, 2]\n3", "output": "[4, 5]"},
                                                    {"input": '"a"', "output": '"b"'}]


@pytest.mark.parametrize("text, code", [
    ("```python\nprint(1)\n```", "print(1)"),
    ("```python\nprint(1)\n", None),  # an unclosed fence is no code
    ("no fences at all", None),
    ("```python\nprint(1)\n```\nthen ```inline``` prose", None),  # the block's end and the prose line
    ("```python\nA\n```\ntext\n```python\nB\n```", "B"),
    ("```python\nA\n```\nmiddle\n```python\nunclosed", "middle"),  # between the last two fence lines
])
def test_extract_code_official_uses_the_last_two_fence_lines(text, code):
    assert extract_code_official(text) == code


def test_stdin_programs_are_wrapped_with_imports_hoisted():
    program = official_program("stdin", "import sys\nx = 1\nfrom math import gcd\nprint(gcd(x, 2))")
    assert program.startswith(LCB_PRELUDE)
    tree = ast.parse(program[len(LCB_PRELUDE):])
    assert [type(s).__name__ for s in tree.body] == ["Import", "ImportFrom", "FunctionDef"]
    assert tree.body[-1].name == WRAPPER_NAME and len(tree.body[-1].body) == 2


def test_main_guard_is_unwrapped_only_when_last():
    guarded = "def main():\n    print(1)\nif __name__ == \"__main__\":\n    main()"
    assert unwrap_main_guard(guarded) == "def main():\n    print(1)\nmain()"
    assert unwrap_main_guard(guarded + "\nx = 1") == guarded + "\nx = 1"
    assert unwrap_main_guard("def broken(:") == "def broken(:"


def test_functional_programs_follow_the_prelude():
    assert official_program("functional", "def f(): pass") == LCB_PRELUDE + "\n\ndef f(): pass"
    with pytest.raises(ValueError, match="humaneval"):
        official_program("humaneval", "x")


def test_lcb_status_maps_result_codes():
    assert lcb_status("print(1)", [True, True]) == "passed"
    assert lcb_status("print(1)", [True, False]) == "wrong_answer"
    assert lcb_status("print(1)", [True, -3]) == "timeout"
    assert lcb_status("print(1)", [-4]) == "runtime_error"
    assert lcb_status("  \n", [-4]) == "no_code"


@pytest.mark.parametrize("semantics", ["official", "strict"])
def test_documented_verdicts(hand_written, semantics):
    problems, rows = hand_written
    verdicts = grade_samples(parity_corpus.as_samples(rows), problems, workers=2, semantics=semantics)
    got = {row.id: v.status for row, v in zip(rows, verdicts)}
    want = {row.id: row.expected(semantics) for row in rows}
    assert got == want


def test_official_verdicts_are_their_own_stage_and_strict_keeps_its_key(tmp_path):
    from ssd.cache import Stage
    from ssd.experiment.steps import grading_stage

    strict, official = grading_stage(tmp_path, "gen", "probs"), grading_stage(tmp_path, "gen", "probs", "official")
    before = Stage(tmp_path, "verdicts", {"grader": "ssd.grading", "dedupe": "program"},
                   inputs={"samples": "gen", "problems": "probs"})
    assert strict.dir == before.dir != official.dir


def test_official_preload_keeps_supervisors_single_threaded():
    from ssd.grading.grade import preload
    from ssd.sandbox import Limits, Sandbox

    assert "numpy" in preload("official") and "numpy" not in preload("strict")
    with Sandbox(1, Limits(), preload("official")) as sandbox:
        status = open(f"/proc/{sandbox.workers[0].proc.pid}/status").read()
    assert "\nThreads:\t1\n" in status


def test_grade_command_records_the_semantics(tmp_path, hand_written):
    from ssd.commands.grade import main
    from ssd.data.problems import write_problems
    from ssd.records import write_jsonl

    problems, rows = hand_written
    chosen = [r for r in rows if r.id in ("stdin/sys-exit-1-after-output", "extract/unclosed-final-fence")]
    write_problems(tmp_path / "problems.jsonl", problems)
    write_jsonl(tmp_path / "samples.jsonl", parity_corpus.as_samples(chosen))
    for semantics in ("official", "strict"):
        out = tmp_path / semantics
        assert main([str(tmp_path / "samples.jsonl"), "--problems", str(tmp_path / "problems.jsonl"),
                     "--out", str(out), "--semantics", semantics, "--workers", "1", "--ks", "1",
                     "--no-progress"]) == 0
        results = json.loads((out / "results.json").read_text())
        assert results["semantics"] == semantics
        assert results["limits"]["memory_mb"] == (None if semantics == "official" else 2048)
        verdicts = [json.loads(line) for line in (out / "verdicts.jsonl").read_text().splitlines()]
        assert {v["sample_index"]: v["status"] for v in verdicts} == {
            i: r.expected(semantics) for i, r in enumerate(chosen)}


# The sandbox's guarantees hold under official semantics too (LiveCodeBench's guard is not a sandbox: a program
# reaches os.fork or os.kill again through `posix`).
OFFICIAL_LIMITS = dict(per_test_timeout=1.0, program_timeout=3.0, memory_mb=None, max_output_bytes=1 << 16,
                       file_size_mb=1, max_processes=16)


@pytest.fixture(scope="module")
def official_sandbox():
    from ssd.grading.grade import preload
    from ssd.sandbox import Limits, Sandbox

    with Sandbox(2, Limits(**OFFICIAL_LIMITS), preload("official")) as sandbox:
        yield sandbox


def run_official(sandbox, code, inputs=("",)):
    from ssd.sandbox import Job

    [results] = sandbox.run([Job("stdin", official_program("stdin", code), list(inputs), semantics="official")])
    return results


def test_official_output_is_capped_in_memory_and_reported(official_sandbox):
    [result] = run_official(official_sandbox, "while True:\n    try:\n        print('x' * 1000)\n"
                                              "    except Exception:\n        pass")
    assert result.status == "output_limit" and result.seconds < OFFICIAL_LIMITS["per_test_timeout"]


def test_official_fork_bomb_through_posix_is_contained(official_sandbox):
    if not official_sandbox.info["privilege_drop"]:  # without it the process limit counts the user's processes
        pytest.skip("privilege_drop is not available on this host (documented in ssd.sandbox)")
    code = "import posix\nwhile True:\n    try:\n        posix.fork()\n    except OSError:\n        pass"
    assert run_official(official_sandbox, code)[0].status == "timeout"
    assert run_official(official_sandbox, "print(input())", ["7\n"])[0].stdout == "7\n"


def test_official_program_cannot_forge_progress_reports_or_kill_its_supervisor(official_sandbox):
    if not official_sandbox.info["privilege_drop"]:
        pytest.skip("privilege_drop is not available on this host (documented in ssd.sandbox)")
    workers = [w.proc.pid for w in official_sandbox.workers]
    forged = run_official(official_sandbox, "import posix\nposix.write(3, b'1 0\\n2 0\\n')\nprint(1)", ["", "", ""])
    assert [r.status for r in forged] == ["error"]
    run_official(official_sandbox, "import posix, signal\nposix.kill(posix.getppid(), signal.SIGKILL)")
    assert [w.proc.pid for w in official_sandbox.workers] == workers


def test_official_mode_works_when_the_package_lives_under_tmp(tmp_path):
    """A sandboxed child sees a private tmpfs at /tmp: everything official mode needs is imported before the fork
    (a clone under /tmp, as a CI checkout may be, once graded every official sample as runtime_error)."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import ssd

    assert str(tmp_path).startswith("/tmp/")
    shutil.copytree(Path(ssd.__file__).parent, tmp_path / "ssd", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(Path(ssd.__file__).parent.parent / "theory", tmp_path / "theory",
                    ignore=shutil.ignore_patterns("__pycache__"))
    script = (
        "import ssd\n"
        f"assert ssd.__file__.startswith({str(tmp_path)!r}), ssd.__file__\n"
        "from ssd.grading import grade_samples\n"
        "from ssd.records import Problem, Sample\n"
        "p = Problem('p', 't', 'q', 'stdin', [{'input': '1\\n', 'output': '1\\n'}])\n"
        "s = Sample('p', 0, '', '```python\\nprint(input())\\n```', 'stop', 1, {}, 0)\n"
        "print(grade_samples([s], {'p': p}, workers=1, semantics='official')[0].status)\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path), "SSD_THREADS": "1"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "passed"
