"""The pretraining corpus: statistics set directly, so a maximum-likelihood fit reproduces the design.

Guarantees: for every decision context (a fork kind; a dictated lock line at one lock position), the corpus holds
each line with count equal to its design probability times the context's number of occurrences, rounded by
largest remainders (so empirical frequencies match the design to within 1/occurrences, not to sampling noise, at
every position a model can tell apart); which problem gets which line is a seeded shuffle. Records are SFT
examples {prompt, completion} (plain text). `CORPUS_VERSION` is part of the base stage's key.
Does not: add samples from any model.
"""
from __future__ import annotations

import random
from collections import defaultdict

import numpy as np

from ssd.records import Problem
from ssd.studies.control.benchmark import (
    KIND_BY_NAME, Design, completion_lines, completion_text, fork_distribution, lock_distribution,
)

CORPUS_VERSION = 2  # 2: lock lines allocated per (lock position, dictated line); 1 pooled the positions


def prompt_text(problem: Problem) -> str:
    """The prompt the model sees: the statement lines as they are (prompt style "raw")."""
    return problem.question


def allocate(dist: dict[str, float], n: int) -> list[str]:
    """n lines with counts proportional to `dist`, largest-remainder rounding (ties: dict order)."""
    lines = list(dist)
    exact = np.asarray([dist[line] for line in lines]) * n / sum(dist.values())
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable")[: n - counts.sum()]:
        counts[i] += 1
    return [line for line, c in zip(lines, counts) for _ in range(c)]


def corpus_records(problems: list[Problem], design: Design, seed: int = 0) -> list[dict]:
    """One {prompt, completion} record per problem, decisions allocated per context as the docstring says."""
    rng = random.Random(seed)
    slots: dict[tuple, list[tuple[int, int]]] = defaultdict(list)  # context -> (problem index, position)
    for i, problem in enumerate(problems):
        slots[("fork", problem.metadata["fork_kind"])].append((i, 0))
        for j, line in enumerate(problem.metadata["locks"]):
            slots[("lock", j, line)].append((i, j + 1))
    chosen: list[list[str]] = [[""] * (1 + len(p.metadata["locks"])) for p in problems]
    for context in sorted(slots):
        dist = (fork_distribution(design, KIND_BY_NAME[context[1]]) if context[0] == "fork"
                else lock_distribution(design, context[2]))
        lines = allocate(dist, len(slots[context]))
        rng.shuffle(lines)
        for (i, position), line in zip(slots[context], lines):
            chosen[i][position] = line
    return [{"prompt": prompt_text(p), "completion": completion_text(completion_lines(c[0], c[1:]))}
            for p, c in zip(problems, chosen)]
