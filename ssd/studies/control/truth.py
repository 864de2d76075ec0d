"""The generator's true next-line distributions as an exact.PathTable: the bases' target, with no model.

Guarantees: the vocabulary is every fork line then every lock line (`VOCABULARY`); one row per distinct decision
context (a fork kind, a dictated lock line) holding the design's corpus log-probabilities (-inf off that context's
lines). Fixed lines (fences, header, return) are point masses in the corpus, so every policy gives them
probability 1 and they are left out of the paths.
Does not: involve a model or sampling.
"""
from __future__ import annotations

import numpy as np

from ssd.records import Problem
from ssd.studies.control.benchmark import (
    FORK_KINDS, FORK_LINES, KIND_BY_NAME, LOCK_OPS, Design, fork_distribution, fork_successes, lock_distribution,
)
from ssd.studies.control.exact import PathTable, build_table

VOCABULARY = FORK_LINES + tuple(op.line for op in LOCK_OPS)
TOKEN = {line: i for i, line in enumerate(VOCABULARY)}


def _row(dist: dict[str, float]) -> np.ndarray:
    row = np.full(len(VOCABULARY), -np.inf)
    for line, p in dist.items():
        row[TOKEN[line]] = np.log(p)
    return row


def context_rows(design: Design) -> tuple[np.ndarray, dict[str, int]]:
    """Rows [contexts, V] and context name ("fork:<kind>" | "lock:<line>") -> row index."""
    names = [f"fork:{kind.name}" for kind in FORK_KINDS] + [f"lock:{op.line}" for op in LOCK_OPS]
    rows = [_row(fork_distribution(design, kind)) for kind in FORK_KINDS]
    rows += [_row(lock_distribution(design, op.line)) for op in LOCK_OPS]
    return np.stack(rows), {name: i for i, name in enumerate(names)}


def truth_table(problems: list[Problem], design: Design) -> PathTable:
    """Success paths of `problems` under the design's true distributions."""
    rows, index = context_rows(design)
    problem_paths = []
    for problem in problems:
        kind = KIND_BY_NAME[problem.metadata["fork_kind"]]
        locks = [(index[f"lock:{line}"], TOKEN[line]) for line in problem.metadata["locks"]]
        problem_paths.append([[(index[f"fork:{kind.name}"], TOKEN[f])] + locks for f in fork_successes(kind)])
    return build_table(problem_paths, rows)
