"""pass@k estimator, summaries with bootstrap intervals, and the paired comparison."""
import math

import numpy as np

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssd.metrics import format_interval, pass_at_k, paired_comparison, sample_health, sign_test, summarize
from ssd.records import Problem, Sample, Verdict


@given(st.integers(1, 60).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_pass_at_k_equals_the_combinatorial_definition(nck):
    n, c, k = nck
    assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k), abs=1e-12)


def test_pass_at_k_is_stable_where_binomials_overflow_floats():
    assert 0 < pass_at_k(2000, 1, 1) == pytest.approx(1 / 2000)
    assert pass_at_k(2000, 3, 1000) == pytest.approx(1 - math.comb(1997, 1000) / math.comb(2000, 1000))


@pytest.mark.parametrize("n, c, k", [(3, 0, 4), (3, 3, 4), (5, 6, 1), (5, -1, 1), (5, 1, 0), (5.0, 1, 1)])
def test_pass_at_k_rejects_impossible_requests(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_pass_at_1_is_the_pass_fraction():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)


def make_run(passes: dict[str, list[bool]]) -> list[Verdict]:
    return [Verdict(pid, i, "passed" if ok else "wrong_answer", int(ok), 1, 0.1)
            for pid, row in passes.items() for i, ok in enumerate(row)]


PROBLEMS = {f"p{i}": Problem(f"p{i}", "t", "q", "stdin", [], difficulty=("easy" if i < 2 else "hard"))
            for i in range(4)}
RUN = make_run({"p0": [True] * 4, "p1": [True, False, False, False], "p2": [False] * 4,
                "p3": [True, True, False, False]})


def test_summarize_averages_per_problem_estimates_overall_and_by_difficulty():
    summary = summarize(RUN, PROBLEMS, ks=(1, 2), n_boot=200)
    assert summary["pass_at_k"]["pass@1"]["value"] == pytest.approx((1 + 0.25 + 0 + 0.5) / 4)
    assert summary["by_difficulty"]["easy"]["pass@1"]["value"] == pytest.approx((1 + 0.25) / 2)
    assert summary["by_difficulty"]["hard"]["pass@2"]["value"] == pytest.approx((0 + pass_at_k(4, 2, 2)) / 2)


def test_bootstrap_interval_brackets_the_value_and_is_seeded():
    a = summarize(RUN, PROBLEMS, ks=(1,), n_boot=300, seed=3)["pass_at_k"]["pass@1"]
    b = summarize(RUN, PROBLEMS, ks=(1,), n_boot=300, seed=3)["pass_at_k"]["pass@1"]
    assert a["ci"][0] <= a["value"] <= a["ci"][1] and a["ci"][0] < a["ci"][1]
    assert a == b


def test_summarize_reports_run_health():
    run = RUN[:-1] + [Verdict("p3", 3, "no_code", 0, 1, 0.0)]
    health = summarize(run, PROBLEMS, ks=(1,), n_boot=10)["health"]
    assert health["status_counts"]["no_code"] == 1 and health["status_counts"]["passed"] == 7
    assert health["no_code_rate"] == pytest.approx(1 / 16)


def test_summarize_refuses_k_above_samples_and_missing_problems():
    with pytest.raises(ValueError, match="pass@5 needs >= 5"):
        summarize(RUN, PROBLEMS, ks=(1, 5))
    with pytest.raises(ValueError, match="no verdicts"):
        summarize(RUN, {**PROBLEMS, "p9": PROBLEMS["p0"]}, ks=(1,))
    with pytest.raises(ValueError, match="duplicate verdict"):
        summarize(RUN + RUN[:1], PROBLEMS, ks=(1,))


def test_sign_test_is_exact():
    assert sign_test(10, 0) == pytest.approx(2 / 1024)
    assert sign_test(3, 3) == 1.0
    assert sign_test(0, 0) == 1.0
    assert sign_test(8, 2) == pytest.approx(2 * sum(math.comb(10, i) for i in range(3)) / 1024)


def test_paired_comparison_of_a_better_run():
    better = make_run({"p0": [True] * 4, "p1": [True] * 4, "p2": [True, False, False, False], "p3": [True] * 4})
    result = paired_comparison(RUN, better, PROBLEMS, k=1, n_boot=500)
    assert result["delta"] == pytest.approx(result["b"] - result["a"]) and result["delta"] > 0
    assert (result["n_better"], result["n_worse"], result["n_tied"]) == (3, 0, 1)
    assert result["p_value"] == pytest.approx(0.25)
    assert result["ci"][0] <= result["delta"] <= result["ci"][1]


def test_paired_comparison_of_identical_runs_is_null():
    result = paired_comparison(RUN, RUN, PROBLEMS, k=1, n_boot=100)
    assert (result["delta"], result["ci"], result["p_value"]) == (0.0, [0.0, 0.0], 1.0)


def test_nested_bootstrap_widens_with_base_to_base_spread():
    from ssd.metrics import nested_bootstrap

    rng = np.random.default_rng(0)
    same = [[rng.normal(0.1, 0.2, 60)] for _ in range(3)]
    spread = [[rng.normal(offset, 0.2, 60)] for offset in (-0.2, 0.1, 0.4)]
    narrow = nested_bootstrap(same, n_boot=400)
    wide = nested_bootstrap(spread, n_boot=400)
    assert narrow["ci"][0] <= narrow["value"] <= narrow["ci"][1]
    assert wide["ci"][1] - wide["ci"][0] > 2 * (narrow["ci"][1] - narrow["ci"][0])
    assert wide["value"] == pytest.approx(np.mean([g[0].mean() for g in spread]))


def test_nested_bootstrap_widens_with_seed_to_seed_spread_and_keeps_the_point_value():
    from ssd.metrics import nested_bootstrap

    rng = np.random.default_rng(2)
    base = rng.uniform(0.3, 0.7, 80)
    students = base + np.array([[-0.15], [0.0], [0.15]])  # three seeds of one base, offset per seed
    pooled = [[students.mean(axis=0), base] for _ in range(3)]  # the seeds averaged before resampling
    per_seed = [[students, base] for _ in range(3)]
    gain = lambda m: m[0] - m[1]  # noqa: E731
    narrow = nested_bootstrap(pooled, n_boot=400, statistic=gain)
    wide = nested_bootstrap(per_seed, n_boot=400, statistic=gain)
    assert wide["value"] == pytest.approx(narrow["value"]) and abs(narrow["value"]) < 1e-12
    assert narrow["ci"] == pytest.approx([0.0, 0.0], abs=1e-12)  # students - base is 0 on every problem
    assert wide["ci"][0] < -0.05 and wide["ci"][1] > 0.05
    assert wide["n_replicates"] == [[3, 1]] * 3


def test_nested_bootstrap_draws_the_same_problems_for_every_arm():
    from ssd.metrics import nested_bootstrap

    rng = np.random.default_rng(1)
    predicted = [rng.uniform(0.05, 0.2, 50) for _ in range(3)]
    arms = [[0.5 * p, p] for p in predicted]  # measured is exactly half of predicted, per problem
    ratio = nested_bootstrap(arms, n_boot=300, statistic=lambda m: m[0] / m[1])
    assert ratio["value"] == pytest.approx(0.5)
    assert ratio["ci"] == pytest.approx([0.5, 0.5])
    with pytest.raises(ValueError, match="at least one arm of one problem"):
        nested_bootstrap([[[]]])
    with pytest.raises(ValueError, match="same problems"):
        nested_bootstrap([[np.ones(3), np.ones(4)]])


def test_sample_health_counts_rates_and_lengths():
    def sample(text, reason, n):
        return Sample(problem_id="p", sample_index=0, prompt="", completion=text, finish_reason=reason,
                      n_completion_tokens=n, decoding={})
    samples = [sample("```python\nx\n```", "stop", 10), sample("no code", "length", 30), sample("", "stop", 2),
               sample("```python\ny\n```", "stop", 20)]
    health = sample_health(samples)
    assert (health["eos_rate"], health["max_token_hit_rate"], health["empty_rate"]) == (0.75, 0.25, 0.25)
    assert (health["tokens_min"], health["tokens_max"], health["tokens_median"], health["tokens_total"]) == (
        2, 30, 15, 62)
    assert health["mean_completion_tokens"] == 15.5


def test_paired_comparison_over_bases_of_one_base_matches_the_single_base_comparison():
    from ssd.metrics import paired_comparison_over_bases

    better = [Verdict(v.problem_id, v.sample_index, "passed", 1, 1, 0.0) for v in RUN]
    single = paired_comparison(RUN, better, PROBLEMS, k=1, n_boot=300)
    pooled = paired_comparison_over_bases([[RUN]], [[better]], PROBLEMS, k=1, n_boot=300)
    assert pooled["delta"] == pytest.approx(single["delta"])
    assert (pooled["n_better"], pooled["n_worse"], pooled["p_value"]) == (
        single["n_better"], single["n_worse"], single["p_value"])
    assert pooled["b"]["value"] == pytest.approx(1.0) and pooled["n_bases"] == 1
    with pytest.raises(ValueError, match="one or more runs a and one or more runs b per base"):
        paired_comparison_over_bases([[RUN], [RUN]], [[better]], PROBLEMS)
    with pytest.raises(ValueError, match="one or more runs a and one or more runs b per base"):
        paired_comparison_over_bases([[RUN]], [[]], PROBLEMS)


def test_paired_comparison_over_seeds_averages_each_seeds_pass_at_k():
    from ssd.metrics import paired_comparison_over_bases

    better = [Verdict(v.problem_id, v.sample_index, "passed", 1, 1, 0.0) for v in RUN]
    result = paired_comparison_over_bases([[RUN]], [[RUN, better]], PROBLEMS, k=1, n_boot=300)
    base = paired_comparison(RUN, RUN, PROBLEMS, k=1)["a"]
    assert result["b"]["value"] == pytest.approx((base + 1.0) / 2)
    assert result["n_runs"] == {"a": [1], "b": [2]}
    assert result["ci"][0] == pytest.approx(0.0) and result["ci"][1] > result["delta"]  # the seeds are resampled


@pytest.mark.parametrize("estimate, signed, text", [
    ({"value": 0.531, "ci": [0.296, 0.86]}, False, "53.1 [29.6, 86.0]"),
    ({"delta": -0.000207, "ci": [-0.000526, -0.0000464]}, True, "-0.021 [-0.053, -0.005]"),
    ({"delta": 0.0, "ci": [0.0, 0.0]}, True, "+0.0 [+0.0, +0.0]"),
])
def test_an_interval_never_prints_a_nonzero_number_as_zero(estimate, signed, text):
    assert format_interval(estimate, signed=signed) == text
