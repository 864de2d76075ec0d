"""Calibration and fit diagnostics at the labelled positions (the fork line and each lock line) of a path table.

Guarantees:
- `labelled_rows(table, problems)` finds, for every problem, the fork row and the lock rows on its first success
  path (the rows before the fork token agree across paths; lock rows after a correct fork form do too in the
  truth, and for a model this is the context the canonical solution sees).
- `calibration` compares a model's probabilities there with the generator's (truth.py): per fork kind the
  popular line, the correct forms together and the junk together; per lock the dictated line; it reports the
  largest and the mean absolute difference, per quantity and overall.
- `fit_summary` gives the two quantities of the issue for any table (base, ideal student, trained student):
  mean lock tail mass (1 - p(dictated line)) and mean fork correct-branch share (mass on the correct forms).
Does not: look at any position other than the fork and lock lines.
"""
from __future__ import annotations

import numpy as np

from ssd.records import Problem
from ssd.studies.control.benchmark import FORK_LINES, KIND_BY_NAME, Design, fork_distribution, lock_distribution
from ssd.studies.control.exact import PathTable

FORK_STEP = 2  # completion lines: fence, header, fork, locks...


def labelled_rows(table: PathTable, problems: list[Problem], decision_offset: int = FORK_STEP):
    """(fork rows [N], lock rows [N, L]) indices into table.rows, from each problem's first path."""
    first_path = np.array([int(np.flatnonzero(table.path_problem == i)[0]) for i in range(len(problems))])
    n_locks = len(problems[0].metadata["locks"])
    rows = table.path_row[first_path]
    return rows[:, decision_offset], rows[:, decision_offset + 1:decision_offset + 1 + n_locks]


def _probs(row: np.ndarray, token_of: dict[str, int], lines) -> float:
    return float(sum(np.exp(row[token_of[line]]) for line in lines))


def position_probabilities(table: PathTable, problems: list[Problem], token_of: dict[str, int],
                           decision_offset: int = FORK_STEP) -> dict[str, np.ndarray]:
    """Per problem: fork popular / correct / junk mass; per lock: dictated-line probability."""
    fork_rows, lock_rows = labelled_rows(table, problems, decision_offset)
    popular, correct, junk, dictated = [], [], [], []
    for problem, f, locks in zip(problems, fork_rows, lock_rows):
        kind = KIND_BY_NAME[problem.metadata["fork_kind"]]
        row = table.rows[f]
        popular.append(_probs(row, token_of, [kind.popular]))
        correct.append(_probs(row, token_of, kind.correct))
        own = {kind.popular, *kind.correct}
        junk.append(_probs(row, token_of, [line for line in token_of if line not in own and line in FORK_LINES]))
        dictated.append([_probs(table.rows[r], token_of, [line]) for r, line in zip(locks, problem.metadata["locks"])])
    return {"fork_popular": np.array(popular), "fork_correct": np.array(correct), "fork_junk": np.array(junk),
            "lock_dictated": np.array(dictated)}


def generator_probabilities(problems: list[Problem], design: Design) -> dict[str, np.ndarray]:
    """The same quantities under the design."""
    out = {"fork_popular": [], "fork_correct": [], "fork_junk": [], "lock_dictated": []}
    for problem in problems:
        kind = KIND_BY_NAME[problem.metadata["fork_kind"]]
        dist = fork_distribution(design, kind)
        out["fork_popular"].append(dist[kind.popular])
        out["fork_correct"].append(sum(dist[line] for line in kind.correct))
        out["fork_junk"].append(1.0 - out["fork_popular"][-1] - out["fork_correct"][-1])
        out["lock_dictated"].append([lock_distribution(design, line)[line] for line in problem.metadata["locks"]])
    return {k: np.array(v) for k, v in out.items()}


def calibration(model: dict[str, np.ndarray], truth: dict[str, np.ndarray]) -> dict:
    """Mean (over problems) model vs generator per quantity, and the largest / mean absolute difference; per
    quantity also the signed mean difference (bias), the median and 90th percentile of the absolute difference
    (scatter), and for the locks the mean absolute difference at each lock index."""
    per = {}
    for name in truth:
        diff = model[name] - truth[name]
        per[name] = {"model": float(model[name].mean()), "generator": float(truth[name].mean()),
                     "max_abs_diff": float(np.abs(diff).max()), "mean_abs_diff": float(np.abs(diff).mean()),
                     "mean_diff": float(diff.mean()), "median_abs_diff": float(np.median(np.abs(diff))),
                     "p90_abs_diff": float(np.quantile(np.abs(diff), 0.9))}
        if diff.ndim == 2:
            per[name]["mean_abs_diff_per_index"] = np.abs(diff).mean(axis=0).tolist()
    return {"per_quantity": per, "max_abs_diff": max(p["max_abs_diff"] for p in per.values()),
            "mean_abs_diff": float(np.mean([p["mean_abs_diff"] for p in per.values()]))}


def fit_summary(table: PathTable, problems: list[Problem], token_of: dict[str, int],
                decision_offset: int = FORK_STEP) -> dict:
    """Mean lock tail mass and mean fork correct-branch share (fragile problems: the correct forms only)."""
    probs = position_probabilities(table, problems, token_of, decision_offset)
    return {"lock_tail_mass": float(1.0 - probs["lock_dictated"].mean()),
            "fork_correct_share": float(probs["fork_correct"].mean()),
            "fork_popular_share": float(probs["fork_popular"].mean())}
