"""The fixed grader benchmark corpus: stdin and functional problems with seeded tests, and programs for them.

Guarantees: `build_corpus(seed)` is deterministic; each problem has `TESTS_PER_PROBLEM` tests; programs are
60% correct, 20% wrong answers, 10% runtime errors and 10% never-ending (a busy loop or a long sleep on the
first test), half of them stdin and half functional. `intended` gives the verdict each program should get.
Does not: model realistic solution difficulty or runtime; the programs are deliberately cheap.
"""
from __future__ import annotations

import json
import random

from ssd.records import Problem, Sample

TESTS_PER_PROBLEM = 4
SAMPLES_PER_PROBLEM = 50

STDIN_TASKS = {  # name: (input maker, answer, correct program, wrong program)
    "sum": (lambda r: " ".join(str(r.randint(-99, 99)) for _ in range(r.randint(1, 8))),
            lambda s: str(sum(map(int, s.split()))),
            "print(sum(map(int, input().split())))", "print(sum(map(int, input().split())) + 1)"),
    "sort": (lambda r: " ".join(str(r.randint(0, 50)) for _ in range(r.randint(1, 8))),
             lambda s: " ".join(map(str, sorted(map(int, s.split())))),
             "import sys\nprint(*sorted(map(int, sys.stdin.read().split())))",
             "import sys\nprint(*map(int, sys.stdin.read().split()))"),
    "max": (lambda r: "\n".join([str(n := r.randint(1, 6))] + [str(r.randint(-9, 9)) for _ in range(n)]),
            lambda s: str(max(map(int, s.split("\n")[1:]))),
            "n = int(input())\nprint(max(int(input()) for _ in range(n)))",
            "n = int(input())\nprint(min(int(input()) for _ in range(n)))"),
}
FUNCTIONAL_TASKS = {  # name: (argument maker, answer, correct program, wrong program)
    "addTwo": (lambda r: [r.randint(-99, 99), r.randint(-99, 99)], lambda a: a[0] + a[1],
               "class Solution:\n    def addTwo(self, a: int, b: int) -> int:\n        return a + b",
               "class Solution:\n    def addTwo(self, a: int, b: int) -> int:\n        return a - b"),
    "reverse": (lambda r: [[r.randint(0, 9) for _ in range(r.randint(1, 6))]], lambda a: a[0][::-1],
                "def reverse(xs):\n    return xs[::-1]", "def reverse(xs):\n    return sorted(xs)"),
    "distinct": (lambda r: [[r.randint(0, 4) for _ in range(r.randint(1, 6))]], lambda a: len(set(a[0])),
                 "class Solution:\n    def distinct(self, xs):\n        return len(set(xs))",
                 "class Solution:\n    def distinct(self, xs):\n        return len(xs)"),
}
ERROR_PROGRAM = "xs = []\nprint(xs[1])"
HANGING_PROGRAMS = ("while True:\n    pass", "import time\ntime.sleep(3600)")


def _problems(rng: random.Random, copies: int) -> dict[str, Problem]:
    problems = {}
    for copy in range(copies):
        for name, (make, answer, _, _) in STDIN_TASKS.items():
            inputs = [make(rng) for _ in range(TESTS_PER_PROBLEM)]
            problems[f"{name}-{copy}"] = Problem(f"{name}-{copy}", "bench", name, "stdin",
                                                 [{"input": s + "\n", "output": answer(s) + "\n"} for s in inputs])
        for name, (make, answer, _, _) in FUNCTIONAL_TASKS.items():
            args = [make(rng) for _ in range(TESTS_PER_PROBLEM)]
            problems[f"{name}-{copy}"] = Problem(
                f"{name}-{copy}", "bench", name, "functional",
                [{"input": "\n".join(json.dumps(a) for a in arg), "output": json.dumps(answer(arg))} for arg in args],
                func_name=name)
    return problems


def build_corpus(seed: int = 0, copies: int = 4) -> tuple[dict[str, Problem], list[Sample], list[str]]:
    """(problems, samples, intended verdict per sample): 6 * copies problems, SAMPLES_PER_PROBLEM samples each."""
    rng = random.Random(seed)
    problems = _problems(rng, copies)
    samples, intended = [], []
    for pid, problem in problems.items():
        task = pid.rsplit("-", 1)[0]
        _, _, correct, wrong = {**STDIN_TASKS, **FUNCTIONAL_TASKS}[task]
        for index in range(SAMPLES_PER_PROBLEM):
            plan = [("passed", correct)] * 6 + [("wrong_answer", wrong)] * 2 + [
                ("runtime_error", ERROR_PROGRAM), ("timeout", HANGING_PROGRAMS[index // 10 % 2])]
            kind, code = plan[index % 10]
            if problem.kind == "functional" and kind == "runtime_error":
                code = f"def {problem.func_name}(*args):\n    return [][1]"
            samples.append(Sample(pid, index, problem.question, f"```python\n{code}\n```", "stop", len(code),
                                  {"temperature": 1.0}))
            intended.append(kind)
    return problems, samples, intended
