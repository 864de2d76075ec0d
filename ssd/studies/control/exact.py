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


def _prefix_sizes(ranked: _Ranked, temperature: float, k: int, top_ps: np.ndarray, order: str) -> np.ndarray:
    """Kept prefix length [len(top_ps), R] for one T and k under `order` (normal form, Prop. B.5)."""
    n_rows, vocab = ranked.logp.shape
    k_eff = np.minimum(ranked.finite, vocab if k == 0 else k)
    curve = ranked.logp / temperature if order.index("T") < order.index("P") else ranked.logp.copy()
    width = np.where(order.index("K") < order.index("P"), k_eff, ranked.finite)
    curve = np.where(np.arange(vocab)[None, :] < width[:, None], curve, -np.inf)
    probs = np.exp(curve - curve[:, :1])
    cumulative = np.cumsum(probs, axis=1) / probs.sum(axis=1, keepdims=True)
    mass_above = np.concatenate([np.zeros((n_rows, 1)), cumulative[:, :-1]], axis=1)
    # count of ranks with mass_above < p, for every p at once: one searchsorted on row-offset values
    offsets = 2.0 * np.arange(n_rows)[:, None]
    flat = (np.minimum(mass_above, 1.0) + offsets).ravel()
    queries = top_ps[:, None] + offsets[:, 0][None, :]
    sizes = np.searchsorted(flat, queries.ravel(), side="left").reshape(len(top_ps), n_rows)
    sizes = sizes - (np.arange(n_rows) * vocab)[None, :]
    sizes = np.where(top_ps[:, None] >= 1.0, width[None, :], sizes)
    return np.minimum(np.maximum(sizes, 1), k_eff[None, :])


def _log_normalisers(ranked: _Ranked, temperature: float, sizes: np.ndarray) -> np.ndarray:
    """log sum of p^(1/T) over the first `sizes` ranks of each row: [len(top_ps), R]."""
    tempered = ranked.logp / temperature
    shifted = np.where(np.isfinite(tempered), np.exp(tempered - tempered[:, :1]), 0.0)
    kept = np.take_along_axis(np.cumsum(shifted, axis=1), sizes.T - 1, axis=1).T
    return np.log(kept) + tempered[:, 0][None, :]


def sweep(table: PathTable, order: str, temperatures, top_ks, top_ps) -> np.ndarray:
    """Exact pass per problem for every decode-only policy of `order` on the grid: [k, top_p, T, problems]."""
    temperatures, top_ps = np.asarray(temperatures, float), np.asarray(top_ps, float)
    ranked, ranks = _rank(table.rows)
    rows, tokens = np.maximum(table.path_row, 0), np.maximum(table.path_token, 0)
    step_rank = ranks[rows, tokens]
    step_logp = table.rows[rows, tokens]
    out = np.empty((len(top_ks), len(top_ps), len(temperatures), table.n_problems))
    for i, k in enumerate(top_ks):
        for j, t in enumerate(temperatures):
            sizes = _prefix_sizes(ranked, t, int(k), top_ps, order)  # [top_p, R]
            log_norm = _log_normalisers(ranked, t, sizes)  # [top_p, R]
            kept = step_rank[None] < sizes[:, rows]
            step = np.where(kept, np.exp(step_logp[None] / t - log_norm[:, rows]), 0.0)
            out[i, :, j] = _combine(table, step)
    return out
