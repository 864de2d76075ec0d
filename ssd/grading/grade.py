"""Verdicts for samples: extraction, sandboxed execution (ssd.sandbox) and LiveCodeBench-compatible comparison.

Two semantics, chosen per call (`semantics=`) and recorded in every results.json:
- "strict" (the default): a program runs as `python solution.py` would, in our sandbox.
- "official": LiveCodeBench's execution and comparison rules (lcb_runner's testing_util.py and
  compute_code_generation_metrics.py, and its extract_code), the rules the paper's numbers were graded under.
  Stdin and functional problems only; HumanEval is graded the same way in both.

| rule | strict | official (LiveCodeBench) |
|---|---|---|
| code | the last fenced block (regex); a final block opened but never closed counts; `<think>` skipped | the lines between the last two lines that contain a fence; fewer than two (an unclosed final fence, a fence inside prose after the block) = no_code |
| stdin program | a real `__main__` on a real stdin pipe | imports hoisted, the rest inside `wrapped_function()`, a final `if __name__ == '__main__':` unwrapped (any other guard sees `__name__ == 'tmp_sol'`): `global x` for a module variable is a NameError |
| stdin input | the test's input on descriptor 0 | mocks: `sys.stdin.buffer.readline()` always returns the first line, `for line in sys.stdin` is a TypeError, `open(0)` is io.open (the import block shadows the mocked `open`) on an empty descriptor 0; `input()`, `sys.stdin.read/readline/readlines` and a hoisted `from sys import stdin` get the input |
| stdout | all bytes written to descriptor 1 | only what goes through `sys.stdout` while the wrapper runs (a StringIO: `sys.stdout.buffer` is an AttributeError); writes to descriptor 1 or a hoisted `stdout` are lost; past the 8 MB output cap the program is stopped (LiveCodeBench: unbounded, an endless print is its timeout, here wrong_answer) |
| exit | a nonzero exit status is runtime_error; threads are joined and atexit runs | `SystemExit` of any code ends the test normally; threads are not waited for (output they print later is lost) |
| removed functions | none | `quit`, `help`, 25 `os` functions (kill, remove, getcwd, ...), `shutil.rmtree/move/chown`, `subprocess.Popen` are None |
| functional | module executed per test (a fresh `Solution()` each) | module executed once per process (up to 8 tests), one `Solution()`, chosen by the text 'class Solution' in the code |
| limits | 6 s per test, (t + 1) * n + 5 s per program, 2 GB address space, 4,300-digit int/str | 6 s per test, (t + 1) * n + 5 s per program, no memory cap, 50,000 digits |
| MemoryError | memory_limit | runtime_error |

Measured (bench/parity_official.py -> bench/results/parity.json, LiveCodeBench 28fef95, 408 samples: 40
hand-written rows, 60 CPU-testbed and 308 HumanEval-as-functional canonical/mutant programs): official gives
LiveCodeBench's status on 407/408, the other being the endless print of the stdout row (its timeout, our
wrong_answer); strict on 389/408, and each of the 19 differences is a row above. Official mode still differs from
LiveCodeBench where state would carry across more than 8 tests of one program (we start a fresh process every
8 tests), and where a program kills its process (LiveCodeBench reports its global -1 for every test, a timeout
in our names; we say runtime_error).

Guarantees:
- Every comparison happens here, in the grader process, on plain data: stdout text for stdin problems, decoded
  builtin values for functional problems, and the trusted checker's report for HumanEval. Nothing the program
  prints or returns can make a wrong program pass.
- stdin and functional programs run after LCB's block of standard-library imports (`LCB_PRELUDE`, rebuilt in ssd.grading.official;
  `lcb_prelude=False` turns it off), as LCB's harness does, so `List[int]` or `Counter` need no import.
- stdin problems follow LCB's `grade_stdio`: output and expected are stripped, split into lines, each line stripped;
  line counts must match; a line matches exactly or, failing that, as whitespace-separated Decimals
  (exact numeric equality, as LCB; `rel_tol > 0` accepts close numbers instead).
- functional problems follow LCB's `grade_call_based`: each input line is a JSON value (one argument each), the
  method of `class Solution` (or a plain function) is called, a tuple result becomes a list, and the parsed value
  must `==` the JSON-parsed expected output. The module is re-executed for every test, so each test gets a fresh
  `Solution()` (LCB reuses one instance across tests).
- HumanEval problems: the program is prompt + completion (or prompt + the extracted block); the trusted prompt +
  test code runs in a separate checker process where `candidate` (and the entry point's name) is a proxy that
  calls the program's function and receives plain values, so the program cannot patch `check` or fake equality.
- Tests run in order under a per-test timeout (LCB's 6 s by default) and a per-program cap (LCB's global
  (t + 1) * n + 5 s by default); a program stops at its first test that does not exit cleanly (LCB stops at the
  first failure); the verdict is the first failing test's status. A crashed or unresponsive grader worker is
  `harness_error`, never a wrong answer. No extractable code is `no_code` and is not executed.
- `grade_file` is resumable: verdicts already in `out_dir/verdicts.jsonl` are not re-run; new ones are appended as
  they finish; `results.json` (metrics from ssd.metrics) is written atomically at the end.

Does not: apply LCB's ERRATA, special-case problems with several accepted answers, or calibrate timeouts.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import sys
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterator, Sequence

from tqdm import tqdm

from ssd.cache import atomic_write_json
from ssd.config import ConfigError
from ssd.data import load_problems
from ssd.grading.extract import extract_code
from ssd.grading.official import LCB_PRELUDE, PRELUDE_MODULES, extract_code_official, official_program
from ssd.metrics import summarize
from ssd.records import JsonlWriter, Problem, RecordError, Sample, Verdict, read_jsonl
from ssd.sandbox import Job, Limits, Sandbox, TestResult, decode_value, encode_value
from ssd.sandbox.official import ALREADY_IMPORTED

SEMANTICS = ("strict", "official")
RAW_TO_VERDICT = {"error": "runtime_error", "timeout": "timeout", "memory": "memory_limit",
                  "output_limit": "wrong_answer", "harness": "harness_error"}
DETAIL_CHARS = 300


# ---------------------------------------------------------------------------------------------------------------
# Comparison (LiveCodeBench semantics)

def _stripped_lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().split("\n")]


def _decimals(line: str) -> list[Decimal] | None:
    try:
        return [Decimal(token) for token in line.split()]
    except InvalidOperation:
        return None


def _numbers_close(a: list[Decimal], b: list[Decimal], rel_tol: float) -> bool:
    return len(a) == len(b) and all(math.isclose(float(x), float(y), rel_tol=rel_tol, abs_tol=rel_tol)
                                    for x, y in zip(a, b))


def stdout_matches(output: str, expected: str, rel_tol: float = 0.0) -> bool:
    got, want = _stripped_lines(output), _stripped_lines(expected)
    if len(got) != len(want):
        return False
    for line, target in zip(got, want):
        if line == target:
            continue
        a, b = _decimals(line), _decimals(target)
        if a is None or b is None:
            return False
        try:
            if a != b and not (rel_tol > 0 and _numbers_close(a, b, rel_tol)):
                return False
        except (ArithmeticError, ValueError):  # e.g. a signalling NaN printed by the program
            return False
    return True


def value_matches(encoded: Any, expected: Any) -> bool:
    try:
        prediction = decode_value(encoded)
        if isinstance(prediction, tuple):
            prediction = list(prediction)
        return bool(prediction == expected)
    except (ValueError, TypeError, RecursionError):
        return False


# ---------------------------------------------------------------------------------------------------------------
# Programs and jobs

@dataclasses.dataclass
class _Prepared:
    """A problem's tests in the form the sandbox and the comparison need, parsed once."""

    mode: str
    inputs: list[str]
    expected: list[Any]
    checker: str = ""


def _prepare(problem: Problem) -> _Prepared:
    if not problem.tests:
        raise RecordError(f"problem {problem.id!r}: field 'tests': empty (every program would pass)")
    if problem.kind == "stdin":
        return _Prepared("stdin", [str(t["input"]) for t in problem.tests], [str(t["output"]) for t in problem.tests])
    if problem.kind == "functional":
        inputs, expected = [], []
        for i, test in enumerate(problem.tests):
            try:
                args = [json.loads(line) for line in str(test["input"]).rstrip("\n").split("\n")]
                expected.append(json.loads(test["output"]) if isinstance(test["output"], str) else test["output"])
            except json.JSONDecodeError as e:
                raise RecordError(f"problem {problem.id!r}: field 'tests[{i}]': expected JSON values ({e})") from None
            inputs.append(json.dumps(encode_value(args)))
        return _Prepared("call", inputs, expected)
    return _Prepared("check", [""], [None], problem.question + "\n" + str(problem.tests[0]["output"]))


def uses_official_rules(problem: Problem, semantics: str) -> bool:
    """Whether `problem` runs under LiveCodeBench's rules (official semantics cover stdin and functional)."""
    return semantics == "official" and problem.kind in ("stdin", "functional")


def program_for(problem: Problem, completion: str, which: str = "last", semantics: str = "strict") -> str | None:
    """The code to run for a completion, or None (no code)."""
    if uses_official_rules(problem, semantics):
        code = extract_code_official(completion)
        return None if code is None else official_program(problem.kind, code)
    block = extract_code(completion, which=which)
    if problem.kind != "humaneval":
        return block
    body = block if block is not None else completion
    return problem.question + body if body.strip() else None


def _verdict(sample: Sample, prepared: _Prepared, results: list[TestResult]) -> Verdict:
    passed, status, detail = 0, "passed", ""
    for result, expected in zip(results, prepared.expected):
        status, detail = _test_status(prepared.mode, result, expected)
        if status != "passed":
            break
        passed += 1
    if status == "passed" and len(results) < len(prepared.expected):
        status, detail = "timeout", "per-program time limit reached before all tests ran"
    return Verdict(problem_id=sample.problem_id, sample_index=sample.sample_index, status=status,
                   tests_passed=passed, tests_total=len(prepared.expected),
                   seconds=round(sum(r.seconds for r in results), 4), detail=detail[:DETAIL_CHARS])


def _test_status(mode: str, result: TestResult, expected: Any) -> tuple[str, str]:
    if result.status != "exited":
        return RAW_TO_VERDICT[result.status], result.detail
    if mode == "stdin":
        return ("passed", "") if stdout_matches(result.stdout, expected) else ("wrong_answer", "output differs")
    if mode == "call":
        return ("passed", "") if value_matches(result.value, expected) else ("wrong_answer", "return value differs")
    report = result.value if isinstance(result.value, dict) else {}
    outcome, detail = report.get("outcome"), str(report.get("detail", ""))
    if outcome == "passed":
        return "passed", ""
    if outcome == "failed":
        return "wrong_answer", detail
    if outcome == "candidate_error":
        return ("memory_limit" if detail.startswith("memory: ") else "runtime_error"), detail
    return "harness_error", f"unreadable checker report: {str(report)[:100]}"


# ---------------------------------------------------------------------------------------------------------------
# Grading

def _iter_verdicts(samples: Sequence[Sample], problems: dict[str, Problem], sandbox: Sandbox,
                   which: str, lcb_prelude: bool, semantics: str) -> Iterator[tuple[int, Verdict]]:
    prepared: dict[str, _Prepared] = {}
    jobs: list[Job] = []
    job_samples: list[int] = []
    for index, sample in enumerate(samples):
        problem = problems.get(sample.problem_id)
        if problem is None:
            raise RecordError(f"sample {index}: field 'problem_id': unknown problem {sample.problem_id!r}")
        if problem.id not in prepared:
            prepared[problem.id] = _prepare(problem)
        code = program_for(problem, sample.completion, which, semantics)
        if code is None:
            yield index, Verdict(sample.problem_id, sample.sample_index, "no_code", 0,
                                 len(prepared[problem.id].expected), 0.0, "no code block in the completion")
            continue
        spec = prepared[problem.id]
        if uses_official_rules(problem, semantics):  # the program text already holds the import block
            jobs.append(Job(spec.mode, code, spec.inputs, problem.func_name, semantics="official"))
        else:
            prelude = LCB_PRELUDE if lcb_prelude and problem.kind != "humaneval" else ""
            jobs.append(Job(spec.mode, code, spec.inputs, problem.func_name, spec.checker, prelude))
        job_samples.append(index)
    for job_index, results in sandbox.run_unordered(jobs):
        index = job_samples[job_index]
        sample = samples[index]
        try:
            yield index, _verdict(sample, prepared[sample.problem_id], results)
        except Exception as e:  # noqa: BLE001 - a grader bug is a harness error for this sample, not a verdict
            yield index, Verdict(sample.problem_id, sample.sample_index, "harness_error", 0,
                                 len(prepared[sample.problem_id].expected), 0.0, f"grader: {type(e).__name__}: {e}")


def _progress_bar(total: int, enabled: bool) -> Any:
    return tqdm(total=total, disable=not enabled, desc="grading", unit="sample", file=sys.stderr)


def check_semantics(semantics: str, which: str = "last", lcb_prelude: bool = True) -> None:
    if semantics not in SEMANTICS:
        raise ConfigError(f"semantics: expected one of {SEMANTICS}, got {semantics!r}")
    if semantics == "official" and (which != "last" or not lcb_prelude):
        raise ConfigError("semantics: 'official' fixes the extraction rule and the import block "
                          "(which='first' and lcb_prelude=False are strict-mode options)")


def preload(semantics: str) -> tuple[str, ...]:
    """Modules each sandbox supervisor imports once (speed only): the import block's, and under official semantics
    what LiveCodeBench's process had already imported (ssd.sandbox.official.ALREADY_IMPORTED), where installed."""
    if semantics != "official":
        return PRELUDE_MODULES
    return PRELUDE_MODULES + tuple(m for m in ALREADY_IMPORTED if importlib.util.find_spec(m.split(".")[0]))


def make_limits(per_test_timeout: float = 6.0, semantics: str = "strict", **overrides: Any) -> Limits:
    """Sandbox limits; official semantics default to no memory cap, as LiveCodeBench."""
    check_semantics(semantics)
    if semantics == "official":
        overrides.setdefault("memory_mb", None)
    try:
        return Limits(per_test_timeout=per_test_timeout, **overrides)
    except (ValueError, TypeError) as e:
        raise ConfigError(str(e)) from None


def grade_samples(samples: Sequence[Sample], problems: dict[str, Problem], *, workers: int | None = None,
                  per_test_timeout: float = 6.0, progress: bool = False, limits: Limits | None = None,
                  which: str = "last", lcb_prelude: bool = True, semantics: str = "strict") -> list[Verdict]:
    """Verdicts in the order of `samples`."""
    check_semantics(semantics, which, lcb_prelude)
    limits = limits or make_limits(per_test_timeout, semantics)
    verdicts: list[Verdict | None] = [None] * len(samples)
    with Sandbox(workers, limits, preload(semantics)) as sandbox, _progress_bar(len(samples), progress) as bar:
        for index, verdict in _iter_verdicts(samples, problems, sandbox, which, lcb_prelude, semantics):
            verdicts[index] = verdict
            bar.update(1)
    return verdicts  # type: ignore[return-value]


def grade_distinct_programs(samples: Sequence[Sample], problems: dict[str, Problem], *, which: str = "last",
                            **options: Any) -> tuple[list[Verdict], int]:
    """Verdicts in the order of `samples`, running each distinct (problem, program) once, and the number of
    distinct programs. A sample gets the verdict of its program (`program_for`), so this equals
    `grade_samples` for programs whose outcome depends only on their code and the tests (a sampled model at
    low temperature repeats itself, so it saves most of the sandbox time). `options` go to `grade_samples`."""
    def key(sample: Sample) -> tuple[str, str | None]:
        problem = problems.get(sample.problem_id)
        return sample.problem_id, None if problem is None else program_for(problem, sample.completion, which,
                                                                            options.get("semantics", "strict"))

    first: dict[tuple[str, str | None], int] = {}
    for index, sample in enumerate(samples):
        first.setdefault(key(sample), index)
    graded = dict(zip(first, grade_samples([samples[i] for i in first.values()], problems, which=which, **options)))
    verdicts = [dataclasses.replace(graded[key(s)], problem_id=s.problem_id, sample_index=s.sample_index)
                for s in samples]
    return verdicts, len(first)


def default_ks(samples_per_problem: int) -> list[int]:
    """The official evaluator's ladder: pass@1, then pass@k only where n >= 2k."""
    return [1] + [k for k in (5, 10, 16, 20, 32) if samples_per_problem >= 2 * k]


def grade_file(samples_path: str | Path, problems_path: str | Path, out_dir: str | Path, *,
               workers: int | None = None, limits: Limits | None = None, ks: Sequence[int] | None = None,
               which: str = "last", lcb_prelude: bool = True, progress: bool = False, n_boot: int = 2000,
               seed: int = 0, semantics: str = "strict") -> dict[str, Any]:
    """Grade a samples JSONL into out_dir/verdicts.jsonl (resumable) and out_dir/results.json."""
    started = time.time()
    check_semantics(semantics, which, lcb_prelude)
    limits = limits or make_limits(semantics=semantics)
    problems = load_problems(problems_path)
    samples = list(read_jsonl(samples_path, Sample))
    if not samples:
        raise RecordError(f"{samples_path}: no samples to grade")
    keys = {(s.problem_id, s.sample_index) for s in samples}
    if len(keys) != len(samples):
        raise RecordError(f"{samples_path}: duplicate (problem_id, sample_index) pairs")
    for lineno, sample in enumerate(samples, start=1):
        if sample.problem_id not in problems:
            raise RecordError(f"{samples_path}: record {lineno}: field 'problem_id': unknown problem "
                              f"{sample.problem_id!r} (not in {problems_path})")
    evaluated = {pid: problems[pid] for pid in sorted({s.problem_id for s in samples})}
    min_n = min((sum(1 for s in samples if s.problem_id == pid) for pid in evaluated), default=0)
    ks = list(ks) if ks is not None else default_ks(min_n)
    if ks and max(ks) > min_n:
        raise ConfigError(f"ks: pass@{max(ks)} needs >= {max(ks)} samples per problem; some problem has {min_n}")
    out = Path(out_dir)
    verdicts_path = out / "verdicts.jsonl"
    done = {(v.problem_id, v.sample_index): v for v in
            (read_jsonl(verdicts_path, Verdict, drop_partial_tail=True) if verdicts_path.exists() else [])}
    stray = set(done) - keys
    if stray:
        raise RecordError(f"{verdicts_path}: holds verdicts for samples not in {samples_path}, e.g. {min(stray)}")
    todo = [s for s in samples if (s.problem_id, s.sample_index) not in done]
    with JsonlWriter(verdicts_path) as writer, Sandbox(workers, limits, preload(semantics)) as sandbox, \
            _progress_bar(len(todo), progress) as bar:
        info = dict(sandbox.info)
        for _, verdict in _iter_verdicts(todo, evaluated, sandbox, which, lcb_prelude, semantics):
            writer.write(verdict)
            done[(verdict.problem_id, verdict.sample_index)] = verdict
            bar.update(1)
    verdicts = [done[(s.problem_id, s.sample_index)] for s in samples]
    results = {
        "metrics": summarize(verdicts, evaluated, ks=ks, n_boot=n_boot, seed=seed, samples=samples),
        "ks": ks, "samples": str(samples_path), "problems": str(problems_path), "semantics": semantics,
        "which_block": which, "lcb_prelude": lcb_prelude,
        "limits": dataclasses.asdict(limits), "sandbox": info, "newly_graded": len(todo),
        "wall_seconds": round(time.time() - started, 3),
    }
    atomic_write_json(out / "results.json", results)
    return results
