"""Grader throughput: ssd.grading against a straightforward prior-art multiprocessing grader, on one corpus.

Writes bench/results/grader.json (one flat object): programs_per_s on the programs that finish (timeouts
excluded), seconds_per_timeout on the never-ending ones (to compare with per_test_timeout / workers), verdict
counts, agreement with the intended verdicts, and the same figures for the baseline, plus machine and date.
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
import platform
import signal
import sys
import time
from pathlib import Path

from bench.grader_corpus import build_corpus
from ssd import __version__
from ssd.grading.extract import extract_code
from ssd.grading import grade_samples, make_limits, stdout_matches
from ssd.records import Problem, Sample
from ssd.cache import atomic_write_json

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


def _measure(grader, name: str, samples, problems, intended, workers: int, timeout: int) -> dict[str, float]:
    finishing = [i for i, kind in enumerate(intended) if kind != "timeout"]
    hanging = [i for i, kind in enumerate(intended) if kind == "timeout"]
    statuses: dict[int, str] = {}
    timings = {}
    for label, indices in (("finishing", finishing), ("hanging", hanging)):
        start = time.perf_counter()
        for index, status in zip(indices, grader([samples[i] for i in indices], problems, workers, timeout)):
            statuses[index] = status
        timings[label] = time.perf_counter() - start
    counts = collections.Counter(statuses.values())
    figures = {
        f"{name}programs_per_s": round(len(finishing) / timings["finishing"], 2),
        f"{name}seconds_per_timeout": round(timings["hanging"] / len(hanging), 4),
        f"{name}wall_s": round(sum(timings.values()), 2),
        f"{name}intended_verdict_rate": round(sum(statuses[i] == intended[i] for i in statuses) / len(intended), 4),
    }
    figures.update({f"{name}verdict_{status}": counts.get(status, 0) for status in
                    ("passed", "wrong_answer", "runtime_error", "timeout", "memory_limit", "no_code", "harness_error")})
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=int, default=1, help="per-test timeout in seconds (both graders)")
    parser.add_argument("--copies", type=int, default=4, help="corpus size: 6 * copies problems x 50 programs")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    problems, samples, intended = build_corpus(seed=0, copies=args.copies)
    load_before = os.getloadavg()[0]
    result = {
        "programs": len(samples), "programs_stdin": sum(problems[s.problem_id].kind == "stdin" for s in samples),
        "programs_functional": sum(problems[s.problem_id].kind == "functional" for s in samples),
        "programs_timing_out": intended.count("timeout"),
        "tests_per_program": len(problems[samples[0].problem_id].tests),
        "workers": args.workers, "per_test_timeout_s": args.timeout,
        "timeout_limit_over_workers_s": round(args.timeout / args.workers, 4),
    }
    result.update(_measure(_ours, "", samples, problems, intended, args.workers, args.timeout))
    result.update(_measure(baseline_grade, "baseline_", samples, problems, intended, args.workers, args.timeout))
    result.update({
        "load_average_before": round(load_before, 2), "load_average_after": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(), "machine": platform.platform(), "python": platform.python_version(),
        "ssd_version": __version__, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })
    atomic_write_json(args.out, result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
