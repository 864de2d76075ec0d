"""pass@k and its uncertainty: the only place in the package where pass@k is computed.

Guarantees:
- `pass_at_k(n, c, k)` is the unbiased estimator 1 - C(n-c, k)/C(n, k) in the numerically stable product form
  (Chen et al. 2021; LiveCodeBench's `estimate_pass_at_k`). Asking for k > n, or impossible counts, raises
  ValueError instead of returning 1.0 (the human-eval#35 pitfall).
- `summarize` averages per-problem pass@k over problems, overall and per difficulty, each with a percentile
  bootstrap interval over problems (seeded, so reproducible), plus run-health counts. Every problem must have at
  least max(ks) samples; a verdict for an unknown problem or a problem without verdicts is an error.
- `paired_comparison(a, b, problems, k)` compares two runs on the same problems: delta = mean(b) - mean(a) with a
  paired bootstrap interval, and an exact two-sided sign test on the per-problem differences (ties dropped).
- `nested_bootstrap(groups)` is the interval for several independently trained models (bases), each measured by
  one or more arms (e.g. its own decoding, and its SSD students) whose runs are replicates (e.g. SSD seeds): each
  repetition resamples the bases, then the problems within each drawn base (the same problems for every arm, so
  arms stay paired), then the replicates of each arm. The interval so carries the base-to-base and the
  seed-to-seed variance as well as the problem sampling. A statistic of several arms (e.g. a ratio of two gains)
  is computed on every draw.
- `paired_comparison_over_bases(runs_a, runs_b, problems, k)` is `paired_comparison` for several bases, each with
  one or more runs per arm (e.g. the base's run a and the runs b of its SSD seeds): the arms' pass@k (per-problem
  pass@k averaged over a base's runs, i.e. the expected pass@k of one run) and their difference, each averaged over
  bases with a nested interval, and a sign test on the per-problem differences averaged over bases.

Does not: weight problems (each counts once), correct for multiple comparisons, or model grading noise.
"""
from __future__ import annotations

import collections
import math
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ssd.records import VERDICT_STATUSES, Problem, Sample, Verdict

CONFIDENCE = 0.95


def pass_at_k(n: int, c: int, k: int) -> float:
    for name, value in (("n", n), ("c", c), ("k", k)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"pass_at_k: {name} must be an integer, got {value!r}")
    if k < 1:
        raise ValueError(f"pass_at_k: k must be >= 1, got {k}")
    if not 0 <= c <= n:
        raise ValueError(f"pass_at_k: need 0 <= c <= n, got n={n}, c={c}")
    if k > n:
        raise ValueError(f"pass_at_k: k={k} exceeds the number of samples n={n}")
    if n - c < k:
        return 1.0
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def per_problem_counts(verdicts: Iterable[Verdict], problems: dict[str, Problem]) -> dict[str, tuple[int, int]]:
    """problem id -> (samples, passed); every problem must have verdicts and every verdict a known problem."""
    counts: dict[str, list[int]] = {pid: [0, 0] for pid in problems}
    seen: set[tuple[str, int]] = set()
    for v in verdicts:
        if v.problem_id not in counts:
            raise ValueError(f"verdict for unknown problem {v.problem_id!r}")
        key = (v.problem_id, v.sample_index)
        if key in seen:
            raise ValueError(f"duplicate verdict for problem {v.problem_id!r} sample {v.sample_index}")
        seen.add(key)
        counts[v.problem_id][0] += 1
        counts[v.problem_id][1] += v.status == "passed"
    missing = [pid for pid, (n, _) in counts.items() if n == 0]
    if missing:
        raise ValueError(f"{len(missing)} problem(s) have no verdicts, e.g. {missing[0]!r}")
    return {pid: (n, c) for pid, (n, c) in counts.items()}


def per_problem_scores(counts: dict[str, tuple[int, int]], k: int) -> dict[str, float]:
    short = [pid for pid, (n, _) in counts.items() if n < k]
    if short:
        n = counts[short[0]][0]
        raise ValueError(f"pass@{k} needs >= {k} samples per problem; {short[0]!r} has {n}")
    return {pid: pass_at_k(n, c, k) for pid, (n, c) in counts.items()}


def bootstrap_interval(values: Sequence[float], n_boot: int, seed: int) -> list[float]:
    """Percentile bootstrap interval of the mean (resampling the values with replacement)."""
    array = np.asarray(values, dtype=float)
    if len(array) == 0 or n_boot <= 0:
        return [float("nan"), float("nan")]
    rng = np.random.default_rng(seed)
    means = array[rng.integers(0, len(array), size=(n_boot, len(array)))].mean(axis=1)
    tail = (1 - CONFIDENCE) / 2 * 100
    return [float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))]


def _estimate(scores: list[float], n_boot: int, seed: int) -> dict[str, Any]:
    return {"value": float(np.mean(scores)), "ci": bootstrap_interval(scores, n_boot, seed), "n_problems": len(scores)}


def summarize(verdicts: Iterable[Verdict], problems: dict[str, Problem], ks: Sequence[int] = (1, 5),
              n_boot: int = 2000, seed: int = 0, samples: Iterable[Sample] | None = None) -> dict[str, Any]:
    """pass@k overall and per difficulty with bootstrap intervals, and run health (see the module docstring)."""
    verdicts = list(verdicts)
    counts = per_problem_counts(verdicts, problems)
    groups: dict[str, list[str]] = collections.defaultdict(list)
    for pid in counts:
        groups[problems[pid].difficulty or "unknown"].append(pid)
    result: dict[str, Any] = {"pass_at_k": {}, "by_difficulty": {}}
    for k in ks:
        scores = per_problem_scores(counts, k)
        result["pass_at_k"][f"pass@{k}"] = _estimate(list(scores.values()), n_boot, seed)
        for difficulty, pids in sorted(groups.items()):
            estimate = _estimate([scores[p] for p in pids], n_boot, seed)
            result["by_difficulty"].setdefault(difficulty, {})[f"pass@{k}"] = estimate
    result["health"] = run_health(verdicts, samples)
    return result


def run_health(verdicts: Sequence[Verdict], samples: Iterable[Sample] | None = None) -> dict[str, Any]:
    status_counts = {s: 0 for s in VERDICT_STATUSES}
    for v in verdicts:
        status_counts[v.status] += 1
    total = len(verdicts)
    health: dict[str, Any] = {
        "n_verdicts": total, "status_counts": status_counts,
        "no_code_rate": status_counts["no_code"] / total if total else 0.0,
        "harness_error_rate": status_counts["harness_error"] / total if total else 0.0,
    }
    if samples is not None:
        health.update(sample_health(list(samples)))
    return health


def sample_health(samples: Sequence[Sample]) -> dict[str, Any]:
    """Decoding health of samples, as fractions of all samples: EOS, max-token hits, empty completions, and the
    completion length statistics (tokens)."""
    n = len(samples)
    if n == 0:
        return {"n_samples": 0}
    lengths = sorted(s.n_completion_tokens for s in samples)
    return {
        "n_samples": n,
        "eos_rate": sum(s.finish_reason == "stop" for s in samples) / n,
        "max_token_hit_rate": sum(s.finish_reason == "length" for s in samples) / n,
        "empty_rate": sum(not s.completion.strip() for s in samples) / n,
        "mean_completion_tokens": float(np.mean(lengths)),
        "tokens_median": float(np.median(lengths)),
        "tokens_p90": lengths[min(n - 1, int(0.9 * n))],
        "tokens_min": lengths[0],
        "tokens_max": lengths[-1],
        "tokens_total": sum(lengths),
    }


def sign_test(n_better: int, n_worse: int) -> float:
    """Exact two-sided binomial sign test p-value (ties already dropped)."""
    n = n_better + n_worse
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(n_better, n_worse) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def paired_comparison(verdicts_a: Iterable[Verdict], verdicts_b: Iterable[Verdict], problems: dict[str, Problem],
                      k: int = 1, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Run b against run a on the same problems (e.g. a = base, b = SSD); see the module docstring."""
    scores_a = per_problem_scores(per_problem_counts(verdicts_a, problems), k)
    scores_b = per_problem_scores(per_problem_counts(verdicts_b, problems), k)
    ids = sorted(problems)
    diffs = np.array([scores_b[p] - scores_a[p] for p in ids])
    n_better, n_worse = int((diffs > 0).sum()), int((diffs < 0).sum())
    return {
        "k": k, "n_problems": len(ids),
        "a": float(np.mean([scores_a[p] for p in ids])), "b": float(np.mean([scores_b[p] for p in ids])),
        "delta": float(diffs.mean()), "ci": bootstrap_interval(diffs, n_boot, seed),
        "n_better": n_better, "n_worse": n_worse, "n_tied": len(ids) - n_better - n_worse,
        "p_value": sign_test(n_better, n_worse),
    }


def nested_bootstrap(groups: Sequence[Sequence[Any]], n_boot: int = 2000, seed: int = 0,
                     statistic=None) -> dict[str, Any]:
    """Point value and percentile interval of `statistic` over bases, problems and replicates.

    `groups[b]` is base b's list of arms; an arm is one value per problem (one run), or a replicates x problems
    array (several runs, e.g. SSD seeds). Every arm of a base covers the same problems. The point value is
    `statistic` of the arms' means (over replicates and problems) averaged over bases, each base weighing the same;
    the interval resamples bases with replacement, then the problems within each drawn base (shared by its arms),
    then each arm's replicates. `statistic` maps the vector of arm means to a number (default: the first arm's
    mean); a non-finite draw is left out.
    """
    bases, draws = _nested_draws(groups, n_boot, seed)
    return _nested_estimate(bases, draws, statistic or (lambda arms: arms[0]))


def _nested_draws(groups, n_boot: int, seed: int) -> tuple[list[list[np.ndarray]], np.ndarray]:
    """The arms as replicates x problems arrays, and the base-averaged arm means of every draw (n_boot x arms)."""
    bases = [[np.atleast_2d(np.asarray(arm, dtype=float)) for arm in group] for group in groups]
    if not bases or any(not arms or any(arm.size == 0 for arm in arms) for arms in bases):
        raise ValueError("nested_bootstrap: expected at least one base, each with at least one arm of one problem")
    for b, arms in enumerate(bases):
        if len({arm.shape[1] for arm in arms}) != 1 or len(arms) != len(bases[0]):
            raise ValueError(f"nested_bootstrap: base {b} has arms over {[arm.shape[1] for arm in arms]} problems; "
                             f"expected {len(bases[0])} arms over the same problems")
    rng = np.random.default_rng(seed)
    draws = np.empty((n_boot, len(bases[0])))
    for r in range(n_boot):
        drawn = []
        for b in rng.integers(len(bases), size=len(bases)):
            arms = bases[b]
            n_problems = arms[0].shape[1]
            rows = rng.integers(n_problems, size=n_problems)
            drawn.append([(arm if len(arm) == 1 else arm[rng.integers(len(arm), size=len(arm))])[:, rows].mean()
                          for arm in arms])
        draws[r] = np.mean(drawn, axis=0)
    return bases, draws


def _nested_estimate(bases: list[list[np.ndarray]], draws: np.ndarray, statistic) -> dict[str, Any]:
    values = np.array([statistic(d) for d in draws], dtype=float)
    values = values[np.isfinite(values)]
    tail = (1 - CONFIDENCE) / 2
    value = float(statistic(np.mean([[arm.mean() for arm in arms] for arms in bases], axis=0)))
    ci = [float(np.quantile(values, tail)), float(np.quantile(values, 1 - tail))] if len(values) else [math.nan] * 2
    return {"value": value, "ci": ci, "n_groups": len(bases), "n_problems": [arms[0].shape[1] for arms in bases],
            "n_replicates": [[len(arm) for arm in arms] for arms in bases]}


def format_interval(estimate: Mapping[str, Any], signed: bool = False) -> str:
    """`value [lo, hi]` in percent, of a `{value, ci}` rate or a `{delta, ci}` difference (signed: with + / -,
    for differences); one decimal, or up to three where one decimal would print a nonzero number as 0.0."""
    value = estimate["value"] if "value" in estimate else estimate["delta"]
    lo, hi = estimate["ci"]
    numbers = [100 * value, 100 * lo, 100 * hi]
    decimals = 1
    while decimals < 3 and any(0 < abs(x) < 0.5 * 10 ** -decimals for x in numbers):
        decimals += 1
    number = f"{{:{'+' if signed else ''}.{decimals}f}}"
    return f"{number.format(numbers[0])} [{number.format(numbers[1])}, {number.format(numbers[2])}]"


def paired_comparison_over_bases(runs_a: Sequence[Sequence[Iterable[Verdict]]],
                                 runs_b: Sequence[Sequence[Iterable[Verdict]]], problems: dict[str, Problem],
                                 k: int = 1, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Arm b against arm a of each base: `runs_a[i]` and `runs_b[i]` are the runs (replicates, e.g. SSD seeds) of
    base i's two arms; see the module docstring."""
    if len(runs_a) != len(runs_b) or not runs_a or not all(runs_a) or not all(runs_b):
        raise ValueError(f"expected one or more runs a and one or more runs b per base, got {len(runs_a)} and "
                         f"{len(runs_b)} bases")
    ids = sorted(problems)

    def scores(runs) -> np.ndarray:  # replicates x problems
        return np.array([[s[p] for p in ids] for s in
                         (per_problem_scores(per_problem_counts(run, problems), k) for run in runs)])
    groups = [[scores(a), scores(b)] for a, b in zip(runs_a, runs_b)]
    bases, draws = _nested_draws(groups, n_boot, seed)  # one set of draws for both arms and their difference
    arm_a, arm_b, delta = (_nested_estimate(bases, draws, f) for f in
                           (lambda m: m[0], lambda m: m[1], lambda m: m[1] - m[0]))
    mean_diffs = np.mean([b.mean(axis=0) - a.mean(axis=0) for a, b in groups], axis=0)
    n_better, n_worse = int((mean_diffs > 0).sum()), int((mean_diffs < 0).sum())
    return {
        "k": k, "n_problems": len(ids), "n_bases": len(groups),
        "n_runs": {"a": [len(a) for a in runs_a], "b": [len(b) for b in runs_b]},
        "a": {"value": arm_a["value"], "ci": arm_a["ci"]}, "b": {"value": arm_b["value"], "ci": arm_b["ci"]},
        "delta": delta["value"], "ci": delta["ci"],
        "n_better": n_better, "n_worse": n_worse, "n_tied": len(ids) - n_better - n_worse,
        "p_value": sign_test(n_better, n_worse),
    }
