"""Exact pass@1 of per-context decoding policies, by enumerating success paths: no sampling noise.

A `PathTable` holds, for a set of problems, every success path (each correct fork form x the correct lock lines x
the fixed lines, end included) as a sequence of (context row, target token) steps, where a row is the model's
next-token log-probabilities at that step. The pass@1 of a policy (a map from a row to a decode distribution) is
  pass(problem) = sum over its paths of prod over steps of policy(row)[target].
Paths are disjoint events (they differ in some token), so the sum is exact.

Guarantees:
- `pass_rates(table, policy)` evaluates any policy given as a function on a [rows, vocab] log-prob array.
- `sweep(table, order, temperatures, top_ks, top_ps)` evaluates a whole grid of decode-only policies (one operator
  order of theory.operators, e.g. "TKP" = vLLM) at once through the normal form of Prop. B.5: every order yields
  p^(1/T) on a rank prefix whose length is set by the curve the top-p operator sees. It agrees with
  theory.decoding.decode_distribution(tiebreak=True) / theory.operators.decode_only (tested).
- Rows may contain -inf (tokens outside a support, e.g. an ideal SSD student); every row needs a finite entry.
Does not: sample, or handle policies whose step distribution depends on anything but the row.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from theory.decoding import descending_order


@dataclasses.dataclass
class PathTable:
    """rows [R, V] log-probs; steps: (path_row [P, S], path_token [P, S], -1 = padding); path_problem [P]."""
    rows: np.ndarray
    path_row: np.ndarray
    path_token: np.ndarray
    path_problem: np.ndarray
    n_problems: int

    def __post_init__(self):
        if self.path_row.shape != self.path_token.shape:
            raise ValueError("path_row and path_token: expected the same shape")
        if not np.isfinite(self.rows).any(axis=1).all():
            raise ValueError("rows: every row needs at least one finite log-probability")

    def with_rows(self, rows: np.ndarray) -> "PathTable":
        return dataclasses.replace(self, rows=rows)


def build_table(problem_paths: list[list[list[tuple[int, int]]]], rows: np.ndarray) -> PathTable:
    """problem_paths[i] = the paths of problem i, each a list of (row index, target token)."""
    paths = [(i, path) for i, problem in enumerate(problem_paths) for path in problem]
    width = max((len(path) for _, path in paths), default=0)
    path_row = np.full((len(paths), width), -1, dtype=np.int64)
    path_token = np.full((len(paths), width), -1, dtype=np.int64)
    for p, (_, path) in enumerate(paths):
        for s, (row, token) in enumerate(path):
            path_row[p, s], path_token[p, s] = row, token
    return PathTable(np.asarray(rows, dtype=np.float64), path_row, path_token,
                     np.array([i for i, _ in paths], dtype=np.int64), len(problem_paths))


def _combine(table: PathTable, step_probs: np.ndarray) -> np.ndarray:
    """step_probs [..., P, S] (padding ignored) -> pass [..., problems]."""
    probs = np.where(table.path_row >= 0, step_probs, 1.0).prod(axis=-1)
    flat = probs.reshape(-1, probs.shape[-1])
    out = np.stack([np.bincount(table.path_problem, weights=f, minlength=table.n_problems) for f in flat])
    return out.reshape(probs.shape[:-1] + (table.n_problems,))


def pass_rates(table: PathTable, policy: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Exact pass@1 per problem of `policy` (log-prob rows [R, V] -> probabilities [R, V])."""
    probs = policy(table.rows)
    step = probs[np.maximum(table.path_row, 0), np.maximum(table.path_token, 0)]
    return _combine(table, step)


@dataclasses.dataclass
class _Ranked:
    logp: np.ndarray  # [R, V] descending, -inf last
    finite: np.ndarray  # [R] number of finite entries


def _rank(rows: np.ndarray) -> tuple[_Ranked, np.ndarray]:
    order = descending_order(rows)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(rows.shape[1]), rows.shape), axis=1)
    return _Ranked(np.take_along_axis(rows, order, axis=1), np.isfinite(rows).sum(axis=1)), ranks


def _cumulative(ranked: _Ranked, temperature: float) -> np.ndarray:
    """Running sums of p^(1/T) / p_(1)^(1/T) along the ranks [R, V] (-inf entries add 0)."""
    tempered = ranked.logp / temperature
    return np.cumsum(np.where(np.isfinite(tempered), np.exp(tempered - tempered[:, :1]), 0.0), axis=1)


def _prefix_sizes(curve_cumulative: np.ndarray, width: np.ndarray, k_eff: np.ndarray, top_ps: np.ndarray):
    """Kept prefix length [len(top_ps), R] when top-p sees the curve whose running sums are given, truncated to
    its first `width` ranks; capped at `k_eff` (normal form, Prop. B.5). top-p keeps rank i iff the mass strictly
    above it is < top-p (rank 1 always)."""
    n_rows, vocab = curve_cumulative.shape
    total = np.take_along_axis(curve_cumulative, (width - 1)[:, None], axis=1)
    mass_above = np.concatenate([np.zeros((n_rows, 1)), curve_cumulative[:, :-1] / total], axis=1)
    mass_above = np.where(np.arange(vocab)[None, :] < width[:, None], np.minimum(mass_above, 1.0), 1.5)
    # count of ranks with mass_above < p, for every p at once: one searchsorted on row-offset values
    offsets = 2.0 * np.arange(n_rows)
    sizes = np.searchsorted((mass_above + offsets[:, None]).ravel(), (top_ps[:, None] + offsets[None, :]).ravel(),
                            side="left").reshape(len(top_ps), n_rows) - (np.arange(n_rows) * vocab)[None, :]
    sizes = np.where(top_ps[:, None] >= 1.0, width[None, :], sizes)
    return np.minimum(np.maximum(sizes, 1), k_eff[None, :])


def sweep(table: PathTable, order: str, temperatures, top_ks, top_ps) -> np.ndarray:
    """Exact pass per problem for every decode-only policy of `order` on the grid: [k, top_p, T, problems]."""
    temperatures, top_ps = np.asarray(temperatures, float), np.asarray(top_ps, float)
    ranked, ranks = _rank(table.rows)
    rows, tokens = np.maximum(table.path_row, 0), np.maximum(table.path_token, 0)
    step_rank = ranks[rows, tokens]
    step_logp = table.rows[rows, tokens]
    raw = _cumulative(ranked, 1.0)
    tempered_before_p, truncated_before_p = order.index("T") < order.index("P"), order.index("K") < order.index("P")
    vocab = table.rows.shape[1]
    out = np.empty((len(top_ks), len(top_ps), len(temperatures), table.n_problems))
    for j, t in enumerate(temperatures):
        tempered = _cumulative(ranked, t)
        for i, k in enumerate(top_ks):
            k_eff = np.minimum(ranked.finite, vocab if k == 0 else int(k))
            sizes = _prefix_sizes(tempered if tempered_before_p else raw,
                                  k_eff if truncated_before_p else ranked.finite, k_eff, top_ps)  # [top_p, R]
            kept_mass = np.take_along_axis(tempered, sizes.T - 1, axis=1).T  # [top_p, R]
            log_norm = np.log(kept_mass) + ranked.logp[:, 0][None, :] / t
            kept = step_rank[None] < sizes[:, rows]
            step = np.where(kept, np.exp(step_logp[None] / t - log_norm[:, rows]), 0.0)
            out[i, :, j] = _combine(table, step)
    return out
