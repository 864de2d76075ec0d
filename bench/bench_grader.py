"""Grader throughput: ssd.grading against a straightforward prior-art multiprocessing grader, like with like.

Writes bench/results/grader.json (how to read it: bench/README.md). Both graders get the same programs
(bench/grader_corpus.py: stdin and functional problems, correct, wrong, crashing and never-ending programs),
the same number of workers and the same per-test timeout. Each repetition runs both graders in a rotated
order on (1) the programs that finish, giving programs/s, and (2) the first `--hanging` never-ending
programs, giving seconds per timeout (to compare with per_test_timeout / workers). Figures are min / median
/ max over `--reps`; `ratios` divide ours by the baseline's within each repetition (programs/s: > 1 means
ours is faster; seconds per timeout: < 1 means ours wastes less time). Verdict counts and agreement with
the intended verdicts come from the first repetition; `verdicts_stable` says whether every repetition gave
the same verdicts.
The baseline follows the LiveCodeBench / apple/ml-ssd pattern: one multiprocessing.Process and one Manager per
program launched from a thread pool, programs exec'd in-process with a mocked stdin, a per-test SIGALRM and a
global join timeout. It exists only to be measured. Run: `python -m bench.bench_grader` (make bench-grader).
"""
from __future__ import annotations

import argparse
import collections
import concurrent.futures
import contextlib
import io
import json
import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

from bench.common import MachineWatch, environment, ratio_spread, spread
from bench.grader_corpus import build_corpus
from ssd.cache import atomic_write_json
from ssd.grading import grade_samples, make_limits, stdout_matches
from ssd.grading.extract import extract_code
from ssd.records import Problem, Sample

RESULTS = Path(__file__).resolve().parent / "results" / "grader.json"
BASELINE_CODES = {-2: "wrong_answer", -3: "timeout", -4: "runtime_error"}


class _Alarm(Exception):
    pass


def _raise_alarm(*_: object) -> None:
    raise _Alarm


def _baseline_child(problem: Problem, code: str, timeout: int, results: list) -> None:
    signal.signal(signal.SIGALRM, _raise_alarm)
    for test in problem.tests:
        signal.alarm(timeout)
        try:
            if problem.kind == "stdin":
                captured = io.StringIO()
                sys.stdin = io.StringIO(test["input"])
                with contextlib.redirect_stdout(captured):
                    exec(code, {"__name__": "__main__"})  # noqa: S102 - the baseline's (unsafe) design
                outcome = True if stdout_matches(captured.getvalue(), test["output"]) else -2
            else:
                namespace: dict = {}
                exec(code, namespace)  # noqa: S102
                holder = namespace["Solution"]() if "Solution" in namespace else None
                function = getattr(holder, problem.func_name) if holder else namespace[problem.func_name]
                prediction = function(*[json.loads(line) for line in test["input"].split("\n")])
                prediction = list(prediction) if isinstance(prediction, tuple) else prediction
                outcome = True if prediction == json.loads(test["output"]) else -2
        except _Alarm:
            outcome = -3
        except BaseException:  # noqa: BLE001
            outcome = -4
        finally:
            signal.alarm(0)
        results.append(outcome)
        if outcome is not True:
            break


def _baseline_one(problem: Problem, sample: Sample, timeout: int) -> str:
    code = extract_code(sample.completion)
    if code is None:
        return "no_code"
    manager = multiprocessing.Manager()
    try:
        results = manager.list()
        process = multiprocessing.get_context("fork").Process(target=_baseline_child,
                                                              args=(problem, code, timeout, results))
        process.start()
        process.join(timeout=(timeout + 1) * len(problem.tests) + 5)
        if process.is_alive():
            process.kill()
            process.join()
        outcomes = list(results)
    finally:
        manager.shutdown()
    if len(outcomes) == len(problem.tests) and all(o is True for o in outcomes):
        return "passed"
    failures = [o for o in outcomes if o is not True]
    return BASELINE_CODES[failures[0]] if failures else "timeout"


def baseline_grade(samples: list[Sample], problems: dict[str, Problem], workers: int, timeout: int) -> list[str]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda s: _baseline_one(problems[s.problem_id], s, timeout), samples))


def _ours(samples: list[Sample], problems: dict[str, Problem], workers: int, timeout: int) -> list[str]:
    limits = make_limits(float(timeout))
    return [v.status for v in grade_samples(samples, problems, workers=workers, limits=limits)]


VERDICTS = ("passed", "wrong_answer", "runtime_error", "timeout", "memory_limit", "no_code", "harness_error")
GRADERS = {"ours": _ours, "baseline": baseline_grade}


def _timed(grader, samples, indices: list[int], problems, workers: int, timeout: int) -> tuple[float, list[str]]:
    start = time.perf_counter()
    statuses = grader([samples[i] for i in indices], problems, workers, timeout)
    return time.perf_counter() - start, statuses


def measure(samples, problems, intended: list[str], workers: int, timeout: int, reps: int,
            hanging_limit: int) -> dict:
    finishing = [i for i, kind in enumerate(intended) if kind != "timeout"]
    hanging = [i for i, kind in enumerate(intended) if kind == "timeout"][:hanging_limit]
    rate = {name: [] for name in GRADERS}
    per_timeout = {name: [] for name in GRADERS}
    verdicts: dict[str, list[list[str]]] = {name: [] for name in GRADERS}
    names = list(GRADERS)
    for rep in range(reps):
        for name in names[rep % 2:] + names[:rep % 2]:  # rotated: neither always runs first
            seconds, finished = _timed(GRADERS[name], samples, finishing, problems, workers, timeout)
            rate[name].append(len(finishing) / seconds)
            seconds, hung = _timed(GRADERS[name], samples, hanging, problems, workers, timeout)
            per_timeout[name].append(seconds / len(hanging))
            verdicts[name].append(finished + hung)
    measured = finishing + hanging
    rows = {}
    for name in GRADERS:
        first = verdicts[name][0]
        counts = collections.Counter(first)
        rows[name] = {
            "programs_per_s": spread(rate[name], 2), "seconds_per_timeout": spread(per_timeout[name], 4),
            "intended_verdict_rate": round(sum(v == intended[i] for v, i in zip(first, measured)) / len(measured), 4),
            "verdicts": {status: counts.get(status, 0) for status in VERDICTS},
            "verdicts_stable": all(v == first for v in verdicts[name]),
        }
    return {"programs_finishing": len(finishing), "programs_hanging_measured": len(hanging), "rows": rows,
            "ratios": {"programs_per_s_ours_vs_baseline": ratio_spread(rate["ours"], rate["baseline"]),
                       "seconds_per_timeout_ours_vs_baseline": ratio_spread(per_timeout["ours"],
                                                                            per_timeout["baseline"])}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=int, default=1, help="per-test timeout in seconds (both graders)")
    parser.add_argument("--copies", type=int, default=2, help="corpus size: 6 * copies problems x 50 programs")
    parser.add_argument("--hanging", type=int, default=20, help="never-ending programs timed per repetition")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    problems, samples, intended = build_corpus(seed=0, copies=args.copies)
    with MachineWatch() as watch:
        result = {
            "benchmark": "grader",
            "compared": "ssd.grading vs a prior-art-style multiprocessing grader on the same programs, workers "
                        "and per-test timeout",
            "same_on_every_row": {
                "programs": len(samples),
                "programs_stdin": sum(problems[s.problem_id].kind == "stdin" for s in samples),
                "programs_functional": sum(problems[s.problem_id].kind == "functional" for s in samples),
                "tests_per_program": len(problems[samples[0].problem_id].tests), "workers": args.workers,
                "per_test_timeout_s": args.timeout,
                "timeout_limit_over_workers_s": round(args.timeout / args.workers, 4),
            },
            "reps": args.reps,
            **measure(samples, problems, intended, args.workers, args.timeout, args.reps, args.hanging),
        }
    result["machine"] = watch.record()
    result.update(environment())
    atomic_write_json(args.out, result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
