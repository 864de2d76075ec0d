"""The positive-control benchmark: problems whose data-generating process has the paper's lock and fork archetypes.

A problem is a key (fork kind, lock ops). Its statement is one line per decision: the fork kind's phrase
("start from the largest number, or 0 if the list is empty"), then one line per lock ("add 7"). Its solution is
a fixed sequence of code lines:
    ```python / def solve(nums): / <fork line> / <lock line> x LOCK_COUNT / return v / ```
Every fork or lock decision is one code line, and the tokenizer (tokenizer.py) makes every line one token.

The corpus distribution of each decision is set directly by `Design`:
- lock: the statement-dictated line with probability 1 - lock_error; otherwise one of the other 30 lock lines,
  weighted by a fixed geometric prior (ratio lock_tail_ratio) over a fixed shuffled order of the lock lines.
- fork: the kind's popular line with probability fork_popular; its m correct forms share fork_correct
  (geometric, ratio fork_correct_ratio, in listed order); every line of the other kinds (junk) shares the rest
  (geometric, ratio fork_junk_ratio, fixed shuffled order). m is 3 for "first"/"last", 5 for "mean", 10 for
  "max"/"min": no global top-k keeps exactly the correct forms everywhere.
- the fragile family: the popular line has no empty-list guard; it passes the visible tests and fails the
  hidden empty-list test every fragile problem carries. The benign twin ("the list is never empty") has no
  empty-list test, so its popular line is correct.

Guarantees:
- Deterministic: the same `Design` and counts give the same problems, tests and distributions.
- Splits (pretrain, pool, val, eval) are disjoint: a key's split is a pure function of a hash of the key.
- Expected outputs come from pure reference semantics of the lines (`LINE_SEMANTICS`), never from running code;
  the test inputs are chosen so that every wrong line (each lock distractor, each junk fork line, the popular
  line of a fragile kind) changes some expected output, by the same pure semantics. checks.verify_by_execution
  confirms this in the sandbox.
Does not: execute generated code outside the sandbox, or claim these are the only correct programs.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from typing import Callable

import numpy as np

from ssd.config import ConfigError
from ssd.records import Problem

SOURCE = "positive-control"
SPLITS = ("pretrain", "pool", "val", "eval")
SPLIT_BUCKETS = {"pretrain": range(0, 70), "pool": range(70, 80), "val": range(80, 90), "eval": range(90, 100)}
LOCK_COUNT = 4
OPEN_FENCE, HEADER, RETURN, CLOSE_FENCE = "```python", "def solve(nums):", "    return v", "```"
FAMILIES = ("fragile", "benign")


def _guarded(f: Callable[[list[int]], int]) -> Callable[[list[int]], int]:
    return lambda nums: f(nums) if nums else 0


# ---- lock lines: statement line -> code line -> pure semantics ----

@dataclasses.dataclass(frozen=True)
class LockOp:
    op: str  # add | sub | mul
    c: int

    @property
    def statement(self) -> str:
        return {"add": f"add {self.c}", "sub": f"subtract {self.c}", "mul": f"multiply by {self.c}"}[self.op]

    @property
    def line(self) -> str:
        return f"    v = v {dict(add='+', sub='-', mul='*')[self.op]} {self.c}"

    def apply(self, v: int) -> int:
        return {"add": v + self.c, "sub": v - self.c, "mul": v * self.c}[self.op]


LOCK_OPS = tuple([LockOp("add", c) for c in range(1, 12)] + [LockOp("sub", c) for c in range(1, 11)]
                 + [LockOp("mul", c) for c in range(2, 12)])
LOCK_BY_LINE = {op.line: op for op in LOCK_OPS}


# ---- fork kinds: phrase, popular line, correct forms; every line's pure semantics (None = raises) ----

@dataclasses.dataclass(frozen=True)
class ForkKind:
    name: str
    family: str  # fragile | benign
    statement: str
    popular: str
    correct: tuple[str, ...]


def _forms(expr: str, guarded: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    return f"    v = {expr}", tuple(f"    v = {g}" for g in guarded)


_BASE = {
    "max": ("the largest number", _forms("max(nums)", (
        "max(nums, default=0)", "max(nums) if nums else 0", "0 if not nums else max(nums)",
        "max(nums) if len(nums) else 0", "max(nums) if len(nums) > 0 else 0", "0 if len(nums) == 0 else max(nums)",
        "max(nums or [0])", "sorted(nums)[-1] if nums else 0", "max(nums, default=0) if nums else 0",
        "max([*nums]) if nums else 0"))),
    "min": ("the smallest number", _forms("min(nums)", (
        "min(nums, default=0)", "min(nums) if nums else 0", "0 if not nums else min(nums)",
        "min(nums) if len(nums) else 0", "min(nums) if len(nums) > 0 else 0", "0 if len(nums) == 0 else min(nums)",
        "min(nums or [0])", "sorted(nums)[0] if nums else 0", "min(nums, default=0) if nums else 0",
        "min([*nums]) if nums else 0"))),
    "first": ("the first number", _forms("nums[0]", (
        "nums[0] if nums else 0", "(nums or [0])[0]", "0 if not nums else nums[0]"))),
    "last": ("the last number", _forms("nums[-1]", (
        "nums[-1] if nums else 0", "(nums or [0])[-1]", "0 if not nums else nums[-1]"))),
    "mean": ("the average rounded down", _forms("sum(nums) // len(nums)", (
        "sum(nums) // len(nums) if nums else 0", "sum(nums) // max(len(nums), 1)",
        "0 if not nums else sum(nums) // len(nums)", "sum(nums) // (len(nums) or 1)",
        "(sum(nums) // len(nums)) if nums else 0"))),
}
_VALUE: dict[str, Callable[[list[int]], int]] = {
    "max": max, "min": min, "first": lambda n: n[0], "last": lambda n: n[-1], "mean": lambda n: sum(n) // len(n),
}
FORK_KINDS = tuple(
    ForkKind(name if family == "fragile" else f"{name}-nonempty", family,
             f"start from {phrase}, or 0 if the list is empty" if family == "fragile"
             else f"start from {phrase} (the list is never empty)", popular, correct)
    for family in FAMILIES for name, (phrase, (popular, correct)) in _BASE.items())
KIND_BY_NAME = {kind.name: kind for kind in FORK_KINDS}
FORK_LINES = tuple(dict.fromkeys(line for kind in FORK_KINDS for line in (kind.popular, *kind.correct)))


def _line_semantics() -> dict[str, Callable[[list[int]], int | None]]:
    """Fork line -> pure function of nums (None where the line raises)."""
    semantics = {}
    for name, (_, (popular, correct)) in _BASE.items():
        value = _VALUE[name]
        semantics[popular] = lambda nums, f=value: f(nums) if nums else None
        for line in correct:
            semantics[line] = _guarded(value)
    return semantics


LINE_SEMANTICS = _line_semantics()


# ---- the design: corpus statistics set directly ----

@dataclasses.dataclass(frozen=True)
class Design:
    lock_error: float = 0.25
    lock_tail_ratio: float = 0.85
    fork_popular: float = 0.30
    fork_correct: float = 0.45
    fork_correct_ratio: float = 0.8
    fork_junk_ratio: float = 0.85
    order_seed: int = 0

    def validate(self) -> None:
        for name in ("lock_error", "fork_popular", "fork_correct"):
            if not 0 < getattr(self, name) < 1:
                raise ConfigError(f"{name}: expected a value in (0, 1), got {getattr(self, name)!r}")
        if self.fork_popular + self.fork_correct >= 1:
            raise ConfigError("fork_correct: expected fork_popular + fork_correct < 1 (the junk tail needs mass)")
        for name in ("lock_tail_ratio", "fork_correct_ratio", "fork_junk_ratio"):
            if not 0 < getattr(self, name) <= 1:
                raise ConfigError(f"{name}: expected a value in (0, 1], got {getattr(self, name)!r}")


def _geometric(n: int, ratio: float, total: float) -> np.ndarray:
    weights = ratio ** np.arange(n, dtype=np.float64)
    return total * weights / weights.sum()


def _shuffled(items, seed: int) -> list:
    items = list(items)
    random.Random(seed).shuffle(items)
    return items


def lock_distribution(design: Design, target: str) -> dict[str, float]:
    """Corpus probabilities of the lock lines given the dictated line `target`."""
    distractors = [line for line in _shuffled((op.line for op in LOCK_OPS), design.order_seed) if line != target]
    probs = dict(zip(distractors, _geometric(len(distractors), design.lock_tail_ratio, design.lock_error)))
    return {target: 1.0 - design.lock_error, **probs}


def fork_distribution(design: Design, kind: ForkKind) -> dict[str, float]:
    """Corpus probabilities of the fork lines for `kind`: popular, correct forms, junk (other kinds' lines)."""
    own = {kind.popular, *kind.correct}
    junk = [line for line in _shuffled(FORK_LINES, design.order_seed + 1) if line not in own]
    junk_mass = 1.0 - design.fork_popular - design.fork_correct
    return {kind.popular: design.fork_popular,
            **dict(zip(kind.correct, _geometric(len(kind.correct), design.fork_correct_ratio, design.fork_correct))),
            **dict(zip(junk, _geometric(len(junk), design.fork_junk_ratio, junk_mass)))}


def fork_successes(kind: ForkKind) -> tuple[str, ...]:
    """The fork lines that pass every test of a problem of this kind."""
    return (kind.popular, *kind.correct) if kind.family == "benign" else kind.correct


# ---- problems ----

@dataclasses.dataclass(frozen=True)
class Key:
    kind: str
    ops: tuple[LockOp, ...]

    def text(self) -> str:
        return "|".join([self.kind] + [op.statement for op in self.ops])


def split_of(key: Key) -> str:
    bucket = int(hashlib.sha256(key.text().encode()).hexdigest(), 16) % 100
    return next(name for name, r in SPLIT_BUCKETS.items() if bucket in r)


def statement_lines(key: Key) -> list[str]:
    return [KIND_BY_NAME[key.kind].statement] + [op.statement for op in key.ops]


def completion_lines(fork_line: str, lock_lines) -> list[str]:
    return [OPEN_FENCE, HEADER, fork_line, *lock_lines, RETURN, CLOSE_FENCE]


def completion_text(lines) -> str:
    return "\n".join(lines) + "\n"


def reference_value(fork_line: str, lock_lines, nums: list[int]) -> int | None:
    """What the program with these lines returns on `nums` (None: it raises)."""
    v = LINE_SEMANTICS[fork_line](nums)
    if v is None:
        return None
    for line in lock_lines:
        v = LOCK_BY_LINE[line].apply(v)
    return v


def _wrong_programs(key: Key):
    """(fork line, lock lines) of every single-decision mistake the tests must catch."""
    kind = KIND_BY_NAME[key.kind]
    canonical_locks = [op.line for op in key.ops]
    successes = set(fork_successes(kind))
    for line in FORK_LINES:
        if line not in successes:
            yield line, canonical_locks
    for i in range(len(key.ops)):
        for op in LOCK_OPS:
            if op != key.ops[i]:
                yield kind.correct[0], canonical_locks[:i] + [op.line] + canonical_locks[i + 1:]


def _random_list(rng: random.Random) -> list[int]:
    return [rng.randint(-9, 9) for _ in range(rng.randint(2, 6))]


def test_inputs(key: Key, rng: random.Random, visible: int = 3, hidden: int = 2) -> tuple[list, int]:
    """(inputs, number visible): nonempty lists chosen so every wrong program differs on some input; fragile
    kinds add the hidden empty list."""
    kind = KIND_BY_NAME[key.kind]
    for _ in range(1000):
        inputs = [_random_list(rng) for _ in range(visible + hidden)]
        if kind.family == "fragile":
            inputs.append([])
        canonical = [reference_value(kind.correct[0], [op.line for op in key.ops], nums) for nums in inputs]
        if all(any(reference_value(f, locks, nums) != want for nums, want in zip(inputs, canonical))
               for f, locks in _wrong_programs(key)):
            return inputs, visible
    raise RuntimeError(f"key {key.text()!r}: no test set separating every wrong program in 1000 tries")


def make_problem(key: Key, index: int, split: str) -> Problem:
    rng = random.Random(f"tests|{key.text()}")
    inputs, visible = test_inputs(key, rng)
    kind = KIND_BY_NAME[key.kind]
    canonical_locks = [op.line for op in key.ops]
    tests = [{"input": json.dumps(nums), "output": json.dumps(reference_value(kind.correct[0], canonical_locks, nums))}
             for nums in inputs]
    return Problem(
        id=f"control-{split}-{index:05d}", source=SOURCE,
        question="".join(f"{line}\n" for line in statement_lines(key)),
        kind="functional", tests=tests, starter_code="", func_name="solve", difficulty=kind.family,
        metadata={"split": split, "key": key.text(), "fork_kind": kind.name, "family": kind.family,
                  "locks": canonical_locks, "visible_tests": visible},
    )


def key_of(problem: Problem) -> Key:
    parts = problem.metadata["key"].split("|")
    by_statement = {op.statement: op for op in LOCK_OPS}
    return Key(parts[0], tuple(by_statement[s] for s in parts[1:]))


def generate(counts: dict[str, int], seed: int = 0) -> dict[str, list[Problem]]:
    """Problems per split (counts: split -> number), keys drawn uniformly (fork kind uniform over both
    families, locks uniform over LOCK_OPS), each key landing in its hash split; duplicates skipped."""
    unknown = sorted(set(counts) - set(SPLITS))
    if unknown:
        raise ValueError(f"counts: unknown split {unknown[0]!r}; expected some of {SPLITS}")
    rng = random.Random(seed)
    out: dict[str, list[Problem]] = {split: [] for split in counts}
    seen: set[str] = set()
    while any(len(out[s]) < n for s, n in counts.items()):
        key = Key(rng.choice(FORK_KINDS).name, tuple(rng.choice(LOCK_OPS) for _ in range(LOCK_COUNT)))
        split = split_of(key)
        if key.text() in seen or split not in out or len(out[split]) >= counts[split]:
            continue
        seen.add(key.text())
        out[split].append(make_problem(key, len(out[split]), split))
    return out


def sample_completion(design: Design, key: Key, rng: np.random.Generator) -> list[str]:
    """One corpus completion (lines) drawn from the design's distributions."""
    def draw(dist: dict[str, float]) -> str:
        lines = list(dist)
        return lines[int(rng.choice(len(lines), p=np.asarray(list(dist.values())) / sum(dist.values())))]
    fork = draw(fork_distribution(design, KIND_BY_NAME[key.kind]))
    return completion_lines(fork, [draw(lock_distribution(design, op.line)) for op in key.ops])
