"""Exact pass@1 by success paths: the grid sweep equals the decoding oracle, and the truth table equals sampling."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.decoding import decode_distribution
from theory.operators import ORDERS, decode_only
from theory.ssd import SSDRecipe
from ssd.studies.control import benchmark
from ssd.studies.control.exact import build_table, pass_rates, sweep
from ssd.studies.control.policies import DecodeGrid, RecipeGrid, recipe_result, select_decode, student_table
from ssd.studies.control.truth import truth_table


def random_table(seed: int, vocab: int = 9, n_rows: int = 7, n_problems: int = 4):
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(n_rows, vocab)) * rng.uniform(0.5, 3.0)
    rows[rng.random(rows.shape) < 0.15] = -np.inf
    rows[np.arange(n_rows), rng.integers(0, vocab, n_rows)] = 0.0
    rows = rows - np.log(np.exp(rows).sum(axis=1, keepdims=True))
    paths = [[[(int(rng.integers(n_rows)), int(rng.integers(vocab))) for _ in range(int(rng.integers(1, 4)))]
              for _ in range(int(rng.integers(1, 4)))] for _ in range(n_problems)]
    return build_table(paths, rows)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), t=st.sampled_from([0.3, 0.7, 1.0, 1.6, 3.0]), k=st.sampled_from([0, 1, 2, 4, 9]),
       p=st.sampled_from([0.2, 0.5, 0.8, 0.95, 1.0]))
def test_vllm_sweep_equals_the_decoding_oracle(seed, t, k, p):
    table = random_table(seed)
    swept = sweep(table, "TKP", [t], [k], [p])[0, 0, 0]
    oracle = pass_rates(table, lambda rows: decode_distribution(rows, temperature=t, top_k=k, top_p=p, tiebreak=True))
    np.testing.assert_allclose(swept, oracle, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), order=st.sampled_from(ORDERS), t=st.sampled_from([0.4, 1.0, 2.5]),
       k=st.sampled_from([0, 2, 5]), p=st.sampled_from([0.3, 0.7, 1.0]))
def test_every_order_sweep_equals_the_operators(seed, order, t, k, p):
    table = random_table(seed)

    def policy(rows):
        return np.exp(np.stack([decode_only(row, order, 1.0 / t, k, p) for row in rows]))
    np.testing.assert_allclose(sweep(table, order, [t], [k], [p])[0, 0, 0], pass_rates(table, policy), atol=1e-12)


def test_exact_pass_is_a_sum_over_disjoint_paths_of_step_products():
    rows = np.log(np.array([[0.5, 0.3, 0.2], [0.9, 0.05, 0.05]]))
    table = build_table([[[(0, 1), (1, 0)], [(0, 2), (1, 0)]], [[(1, 2)]]], rows)
    np.testing.assert_allclose(pass_rates(table, np.exp), [(0.3 + 0.2) * 0.9, 0.05])


PROBLEMS = benchmark.generate({"val": 60, "eval": 60}, seed=3)
DESIGN = benchmark.Design()


def fragile(split):
    return [p for p in PROBLEMS[split] if p.metadata["family"] == "fragile"]


def test_truth_rows_are_distributions():
    table = truth_table(PROBLEMS["val"], DESIGN)
    np.testing.assert_allclose(np.exp(table.rows).sum(axis=1), 1.0)


def test_untruncated_t_train_one_student_is_the_base():
    table = truth_table(fragile("val"), DESIGN)
    np.testing.assert_allclose(student_table(table, SSDRecipe(1.0, 0, 1.0)).rows, table.rows, atol=1e-12)


def test_theory_predicts_a_gain_on_the_fragile_family_and_none_on_the_benign_twin():
    grid = DecodeGrid(temperatures=(0.5, 1.0, 1.2, 2.0, 4.0), top_ks=(0, 6, 20), top_ps=(0.6, 0.7, 0.9, 1.0))
    for family, sign in (("fragile", 1), ("benign", -1)):
        val = truth_table([p for p in PROBLEMS["val"] if p.metadata["family"] == family], DESIGN)
        test = truth_table([p for p in PROBLEMS["eval"] if p.metadata["family"] == family], DESIGN)
        decode = select_decode(val, test, grid)["eval"]
        student = max((recipe_result(val, test, r, grid) for r in RecipeGrid(t_trains=(0.9, 1.0)).recipes()),
                      key=lambda r: r["val"])["eval"]
        assert (student - decode > 0.05) if sign > 0 else (student - decode <= 1e-12)
