"""The generated CPU code benchmark: list-pipeline problems with hidden tests and fork/lock labels.

A problem is a key `(steps, reducer)`: one to three list transforms (filters and maps with a constant)
applied to a list of integers `nums`, then a scalar reducer. Difficulty is the composition depth
(easy = 1 transform, medium = 2, hard = 3). Each key is posed either as a function `solve(nums)`
(functional) or as a program reading one line of integers from stdin; both kinds share the key.

Guarantees:
- Deterministic: the same arguments give the same problems, tests, canonical solutions and labels.
- Splits are disjoint by construction: a key's split (pretrain, pool, val, eval) is a pure function of
  a hash of the key, so no key (in either kind) is in two splits; `check_disjoint` verifies it.
- Expected outputs come from a pure reference evaluation of the key (`reference_answer`), never from
  running generated code.
- `render(key, kind, choices)` writes one correct solution for any choice of its forks (the form of
  each step: comprehension, builtin or loop; the loop variable's name; operand order; reducer form; stdin
  parsing). Its labels are character spans: `fork` marks the first character where the correct
  alternatives of one choice diverge; `lock` marks characters fixed by what came before or by the
  statement (later uses of a variable, the constants and operators the statement dictates).

Does not: claim the labels are complete over all correct Python programs; they are exact relative to this
generator's grammar of correct solutions. Does not execute anything.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from typing import Iterable, Iterator

from ssd.records import Problem

SOURCE = "cpu-testbed"
DIFFICULTIES = ("easy", "medium", "hard")
DEPTH = {"easy": 1, "medium": 2, "hard": 3}
KINDS = ("functional", "stdin")
# Share of the 100 hash buckets per split: disjoint ranges.
SPLIT_BUCKETS = {"pretrain": range(0, 70), "pool": range(70, 80), "val": range(80, 90), "eval": range(90, 100)}
LOOP_VARS = ("x", "v", "n")
TESTS_PER_PROBLEM = 8


@dataclasses.dataclass(frozen=True)
class Op:
    """A list transform or reducer family: its statement phrase and its correct expression variants."""

    name: str
    phrase: str
    variants: tuple[str, ...]  # templates over {v} (the element) and {c} (the constant)
    constants: tuple[int, ...] = ()


FILTERS = {op.name: op for op in (
    Op("even", "keep only the even numbers", ("{v} % 2 == 0",)),
    Op("odd", "keep only the odd numbers", ("{v} % 2 == 1", "{v} % 2 != 0")),
    Op("gt", "keep only the numbers greater than {c}", ("{v} > {c}", "{c} < {v}"), tuple(range(1, 10))),
    Op("lt", "keep only the numbers less than {c}", ("{v} < {c}", "{c} > {v}"), tuple(range(1, 10))),
    Op("div", "keep only the multiples of {c}", ("{v} % {c} == 0",), tuple(range(2, 10))),
    Op("ndiv", "remove the multiples of {c}", ("{v} % {c} != 0", "{v} % {c} > 0"), tuple(range(2, 10))),
)}
MAPS = {op.name: op for op in (
    Op("mul", "multiply each number by {c}", ("{v} * {c}", "{c} * {v}"), tuple(range(2, 10))),
    Op("add", "add {c} to each number", ("{v} + {c}", "{c} + {v}"), tuple(range(1, 10))),
    Op("sub", "subtract {c} from each number", ("{v} - {c}",), tuple(range(1, 10))),
    Op("mod", "replace each number by its remainder modulo {c}", ("{v} % {c}",), tuple(range(2, 10))),
    Op("fdiv", "divide each number by {c}, rounding down", ("{v} // {c}",), tuple(range(2, 10))),
    Op("sq", "square each number", ("{v} * {v}", "{v} ** 2")),
    Op("abs", "replace each number by its absolute value", ("abs({v})",)),
    Op("neg", "negate each number", ("-{v}",)),
)}
# Reducer variants are expressions over `nums`; "loop" (a running total) is added for sum.
REDUCERS = {op.name: op for op in (
    Op("sum", "the sum of the numbers", ("sum(nums)",)),
    Op("count", "how many numbers remain", ("len(nums)",)),
    Op("max", "the largest number, or 0 if none remain", ("max(nums, default=0)", "max(nums) if nums else 0")),
    Op("min", "the smallest number, or 0 if none remain", ("min(nums, default=0)", "min(nums) if nums else 0")),
    Op("last", "the last number, or -1 if none remain", ("nums[-1] if nums else -1",)),
)}
STEP_FORMS = ("comprehension", "builtin", "loop")
STDIN_READS = ("nums = list(map(int, input().split()))", "nums = [int(t) for t in input().split()]")


@dataclasses.dataclass(frozen=True)
class Step:
    family: str  # filter | map
    op: str
    c: int | None = None

    def spec(self) -> Op:
        return (FILTERS if self.family == "filter" else MAPS)[self.op]


@dataclasses.dataclass(frozen=True)
class Key:
    steps: tuple[Step, ...]
    reducer: str

    def text(self) -> str:
        parts = [f"{s.family}:{s.op}" + (f":{s.c}" if s.c is not None else "") for s in self.steps]
        return "|".join(parts + [self.reducer])


def split_of(key: Key) -> str:
    bucket = int(hashlib.sha256(key.text().encode()).hexdigest(), 16) % 100
    return next(name for name, r in SPLIT_BUCKETS.items() if bucket in r)


# ---- reference semantics (pure; the source of expected outputs) ----

def _apply_step(step: Step, nums: list[int]) -> list[int]:
    c = step.c
    predicates = {
        "even": lambda x: x % 2 == 0, "odd": lambda x: x % 2 == 1, "gt": lambda x: x > c,
        "lt": lambda x: x < c, "div": lambda x: x % c == 0, "ndiv": lambda x: x % c != 0,
    }
    functions = {
        "mul": lambda x: x * c, "add": lambda x: x + c, "sub": lambda x: x - c, "mod": lambda x: x % c,
        "fdiv": lambda x: x // c, "sq": lambda x: x * x, "abs": abs, "neg": lambda x: -x,
    }
    if step.family == "filter":
        return [x for x in nums if predicates[step.op](x)]
    return [functions[step.op](x) for x in nums]


def reference_answer(key: Key, nums: list[int]) -> int:
    for step in key.steps:
        nums = _apply_step(step, nums)
    reducers = {
        "sum": lambda: sum(nums), "count": lambda: len(nums), "max": lambda: max(nums, default=0),
        "min": lambda: min(nums, default=0), "last": lambda: nums[-1] if nums else -1,
    }
    return reducers[key.reducer]()


# ---- statements ----

def statement(key: Key, kind: str) -> str:
    phrases = [s.spec().phrase.format(c=s.c) for s in key.steps]
    chain = phrases[0][0].upper() + phrases[0][1:]
    for p in phrases[1:]:
        chain += f", then {p}"
    if kind == "functional":
        return (f"Write a function solve(nums) that takes a list of integers nums. {chain}. "
                f"Return {REDUCERS[key.reducer].phrase}.")
    return (f"Read a line of space-separated integers from standard input. {chain}. "
            f"Print {REDUCERS[key.reducer].phrase}.")


# ---- rendering with fork/lock labels ----

Piece = tuple[str, str | None]  # (text, label): label is None, "lock", or "fork" (set by `_choose`)


@dataclasses.dataclass(frozen=True)
class Choices:
    """One point in a key's space of correct solutions; indices wrap modulo the number of variants."""

    forms: tuple[int, ...] = ()  # per step: index into STEP_FORMS
    loop_vars: tuple[int, ...] = ()  # per step (and the reducer loop last): index into LOOP_VARS
    orders: tuple[int, ...] = ()  # per step: index into the op's variants
    reducer_form: int = 0  # index into the reducer's variants, or len(variants) for the sum loop
    stdin_read: int = 0


def _text(pieces: list[Piece]) -> str:
    return "".join(t for t, _ in pieces)


def _expr(template: str, v: str, c: int | None) -> list[Piece]:
    """Pieces of an op template: the element variable and the constant are locks, the rest too."""
    return [(template.format(v=v, c=c), "lock")]


def _step_pieces(step: Step, form: str, v: str, order: int, indent: str) -> list[Piece]:
    spec = step.spec()
    body = _expr(spec.variants[order % len(spec.variants)], v, step.c)
    if form == "comprehension":
        head = [(v, None)] if step.family == "filter" else body
        cond = [(" if ", None), *body] if step.family == "filter" else []
        return [(indent + "nums = [", None), *head, (" for ", None), (v, "lock"), (" in ", None),
                ("nums", "lock"), *cond, ("]\n", None)]
    if form == "builtin":
        fn = "filter" if step.family == "filter" else "map"
        return [(indent + f"nums = list({fn}(lambda ", None), (v, None), (": ", None), *body,
                (", ", None), ("nums", "lock"), ("))\n", None)]
    inner = indent + "    "
    if step.family == "filter":
        action = [(inner + "if ", None), *body, (":\n" + inner + "    ", None), ("out", "lock"),
                  (".append(", None), (v, "lock"), (")\n", None)]
    else:
        action = [(inner, None), ("out", "lock"), (".append(", None), *body, (")\n", None)]
    return [(indent + "out = []\n" + indent + "for ", None), (v, None), (" in ", None), ("nums", "lock"),
            (":\n", None), *action, (indent + "nums = ", None), ("out", "lock"), ("\n", None)]


def _first_var_is_lock(pieces: list[Piece], v: str) -> list[Piece]:
    """Mark every later use of the bound variable `v` as a lock (its first occurrence is the fork)."""
    seen = False
    out: list[Piece] = []
    for text, label in pieces:
        if text == v:
            out.append((text, "lock" if seen else label))
            seen = True
        else:
            out.append((text, label))
    return out


def _choose(alternatives: list[list[Piece]], index: int) -> list[Piece]:
    """The chosen alternative, with a fork label on every character where the alternatives that agree
    with it so far continue differently (the branching points of their trie along the chosen path)."""
    chosen = alternatives[index]
    text = _text(chosen)
    live = [_text(a) for a in alternatives]
    fork_at = []
    for i, ch in enumerate(text):
        if len({t[i:i + 1] for t in live}) > 1:
            fork_at.append(i)
        live = [t for t in live if t[i:i + 1] == ch]
    return _overlay_forks(chosen, fork_at)


def _fork_offsets(pieces: list[Piece]) -> list[int]:
    offsets, pos = [], 0
    for text, label in pieces:
        if label == "fork":
            offsets.append(pos)
        pos += len(text)
    return offsets


def _overlay_forks(base: list[Piece], offsets: list[int]) -> list[Piece]:
    """`base` with the single characters at `offsets` split out and labelled as forks."""
    fork_chars = set(offsets)
    out: list[Piece] = []
    pos = 0
    for text, label in base:
        start = 0
        for i in range(len(text)):
            if pos + i in fork_chars:
                out += [p for p in ((text[start:i], label), (text[i], "fork")) if p[0]]
                start = i + 1
        if text[start:]:
            out.append((text[start:], label))
        pos += len(text)
    return out


def _with_forks(make, choice: dict, options: dict[str, int]) -> list[Piece]:
    """Render `make(**choice)` and mark one fork per choice name, varying that choice alone."""
    choice = {name: value % options[name] for name, value in choice.items()}
    pieces = make(**choice)
    for name, count in options.items():
        alternatives = [make(**{**choice, name: i}) for i in range(count)]
        pieces = _overlay_forks(pieces, _fork_offsets(_choose(alternatives, choice[name])))
    return pieces


def _step_block(step: Step, form: int, var: int, order: int, indent: str) -> list[Piece]:
    v = LOOP_VARS[var % len(LOOP_VARS)]
    return _first_var_is_lock(_step_pieces(step, STEP_FORMS[form % 3], v, order, indent), v)


def _reducer_block(reducer: str, form: int, var: int, kind: str, indent: str) -> list[Piece]:
    variants = REDUCERS[reducer].variants
    emit = "return " if kind == "functional" else "print("
    close = "\n" if kind == "functional" else ")\n"
    if reducer == "sum" and form % (len(variants) + 1) == len(variants):
        v = LOOP_VARS[var % len(LOOP_VARS)]
        pieces = [(indent + "total = 0\n" + indent + "for ", None), (v, None), (" in ", None),
                  ("nums", "lock"), (":\n" + indent + "    ", None), ("total", "lock"), (" += ", None),
                  (v, "lock"), ("\n" + indent + emit, None), ("total", "lock"), (close, None)]
        return pieces
    expr = variants[form % len(variants)].replace("nums", "\0").split("\0")
    pieces: list[Piece] = [(indent + emit, None)]
    for i, part in enumerate(expr):
        if i:
            pieces.append(("nums", "lock"))
        if part:
            pieces.append((part, None))
    return pieces + [(close, None)]


def reducer_form_count(reducer: str) -> int:
    return len(REDUCERS[reducer].variants) + (1 if reducer == "sum" else 0)


def render(key: Key, kind: str, choices: Choices) -> tuple[str, list[dict]]:
    """One correct solution (a python code block body) and its fork/lock character spans."""
    indent = "    " if kind == "functional" else ""
    pieces: list[Piece] = []
    if kind == "functional":
        pieces.append(("def solve(nums):\n", None))
    else:
        pieces += _choose([[(line, None), ("\n", None)] for line in STDIN_READS], choices.stdin_read % 2)
    for i, step in enumerate(key.steps):
        choice = {"form": _pick(choices.forms, i), "var": _pick(choices.loop_vars, i),
                  "order": _pick(choices.orders, i)}
        make = lambda form, var, order, s=step: _step_block(s, form, var, order, indent)  # noqa: E731
        pieces += _with_forks(make, choice, {"form": 3, "var": len(LOOP_VARS),
                                             "order": len(step.spec().variants)})
    choice = {"form": choices.reducer_form, "var": _pick(choices.loop_vars, len(key.steps))}
    make = lambda form, var: _reducer_block(key.reducer, form, var, kind, indent)  # noqa: E731
    pieces += _with_forks(make, choice, {"form": reducer_form_count(key.reducer), "var": len(LOOP_VARS)})
    return _spans(pieces)


def _pick(values: tuple[int, ...], i: int) -> int:
    return values[i] if i < len(values) else 0


def _spans(pieces: list[Piece]) -> tuple[str, list[dict]]:
    text, spans, pos = "", [], 0
    for piece, label in pieces:
        if label is not None and piece:
            spans.append({"start": pos, "end": pos + len(piece), "label": label})
        text += piece
        pos += len(piece)
    return text, spans


def random_choices(key: Key, rng: random.Random, form_weights: tuple[float, ...] = (0.5, 0.25, 0.25)) -> Choices:
    """Fork choices as the pre-training corpus draws them: comprehensions most often, as in real code."""
    n = len(key.steps)
    return Choices(
        forms=tuple(rng.choices(range(3), weights=form_weights)[0] for _ in range(n)),
        loop_vars=tuple(rng.choices(range(3), weights=(0.6, 0.25, 0.15))[0] for _ in range(n + 1)),
        orders=tuple(rng.choices(range(2), weights=(0.7, 0.3))[0] for _ in range(n)),
        reducer_form=rng.randrange(reducer_form_count(key.reducer)),
        stdin_read=rng.choices(range(2), weights=(0.7, 0.3))[0],
    )


def completion_text(code: str) -> str:
    """The assistant response for a solution: one fenced python block."""
    return f"```python\n{code}```"


# ---- problems ----

def _random_step(rng: random.Random) -> Step:
    family = rng.choice(("filter", "map"))
    ops = FILTERS if family == "filter" else MAPS
    op = ops[rng.choice(sorted(ops))]
    return Step(family, op.name, rng.choice(op.constants) if op.constants else None)


def _random_key(rng: random.Random, depth: int) -> Key:
    return Key(tuple(_random_step(rng) for _ in range(depth)), rng.choice(sorted(REDUCERS)))


def _tests(key: Key, kind: str, rng: random.Random) -> list[dict]:
    """An empty list, then random lists that also draw values next to the key's constants (off-by-one
    solutions must fail)."""
    near = sorted({c + d for s in key.steps if s.c is not None for c in (s.c, -s.c) for d in (-1, 0, 1)})
    pool = list(range(-9, 21)) + near * 3
    inputs = [[]] + [[rng.choice(pool) for _ in range(rng.randint(2, 9))] for _ in range(TESTS_PER_PROBLEM - 1)]
    if kind == "functional":
        return [{"input": json.dumps(x), "output": json.dumps(reference_answer(key, x))} for x in inputs]
    return [{"input": " ".join(map(str, x)) + "\n", "output": f"{reference_answer(key, x)}\n"} for x in inputs]


def make_problem(key: Key, kind: str, split: str, index: int, seed: int) -> Problem:
    rng = random.Random(f"{seed}:{key.text()}:{kind}")
    difficulty = DIFFICULTIES[len(key.steps) - 1]
    canonical, spans = render(key, kind, random_choices(key, rng))
    return Problem(
        id=f"cpu-{split}-{difficulty}-{index:05d}",
        source=SOURCE,
        question=statement(key, kind),
        kind=kind,
        tests=_tests(key, kind, rng),
        starter_code="def solve(nums):\n" if kind == "functional" else "",
        func_name="solve" if kind == "functional" else "",
        difficulty=difficulty,
        metadata={"split": split, "key": key.text(), "canonical": completion_text(canonical),
                  "canonical_offset": len("```python\n"), "labels": spans},
    )


def iter_keys(split: str, difficulty: str, seed: int) -> Iterator[tuple[Key, str]]:
    """Distinct keys of one split and difficulty, each with a kind, in a deterministic order."""
    if split not in SPLIT_BUCKETS:
        raise ValueError(f"split: expected one of {sorted(SPLIT_BUCKETS)}, got {split!r}")
    rng = random.Random(f"{seed}:{split}:{difficulty}")
    seen: set[Key] = set()
    misses = 0
    while misses < 20000:
        key = _random_key(rng, DEPTH[difficulty])
        kind = rng.choice(KINDS)
        if key in seen or split_of(key) != split:
            misses += 1
            continue
        misses = 0
        seen.add(key)
        yield key, kind


def make_split(split: str, counts: dict[str, int], seed: int = 0) -> list[Problem]:
    """`counts[difficulty]` problems of `split`; raises if the key space of that split is too small."""
    problems: list[Problem] = []
    for difficulty in DIFFICULTIES:
        want = counts.get(difficulty, 0)
        keys = iter_keys(split, difficulty, seed)
        for i in range(want):
            try:
                key, kind = next(keys)
            except StopIteration:
                raise ValueError(f"split {split!r}: only {i} distinct {difficulty} keys, {want} requested") from None
            problems.append(make_problem(key, kind, split, len(problems), seed))
    return problems


def parse_key(text: str) -> Key:
    *steps, reducer = text.split("|")
    parsed = []
    for s in steps:
        family, op, *c = s.split(":")
        parsed.append(Step(family, op, int(c[0]) if c else None))
    return Key(tuple(parsed), reducer)


def check_disjoint(splits: dict[str, Iterable[Problem]]) -> None:
    """Raise ValueError if any key or statement occurs in two splits, or sits in the wrong split."""
    owner: dict[str, str] = {}
    for name, problems in splits.items():
        for p in problems:
            key = p.metadata["key"]
            if split_of(parse_key(key)) != p.metadata["split"]:
                raise ValueError(f"problem {p.id}: key {key!r} does not hash to split {p.metadata['split']!r}")
            for item in (key, p.question):
                if owner.setdefault(item, name) != name:
                    raise ValueError(f"{item!r} occurs in splits {owner[item]!r} and {name!r}")
