"""Decode-only realizability of the ideal-fit student (Prop. B.8 witness, Obs. B.9, X1-X4)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.distributions import log_normalize
from theory.realizability import b8_witness, count_realizing, realizing_policies, student_policy
from theory.ssd import SSDRecipe
from theory.toy import TOY_RECIPE, teacher_states


def test_b8_witness_student_keeps_a_point_mass_and_a_five_token_head():
    contexts, recipe, tau = b8_witness()
    assert [int(np.isfinite(student_policy(c, recipe, tau)).sum()) for c in contexts] == [1, 5]


def test_b8_witness_is_not_realizable_by_any_single_pass_policy():
    contexts, recipe, tau = b8_witness()
    assert count_realizing(contexts, recipe, tau) == 0


def test_b8_witness_alone_per_context_is_realizable():
    contexts, recipe, tau = b8_witness()
    assert all(count_realizing([c], recipe, tau) > 0 for c in contexts)


def test_toy_triple_is_realized_by_truncate_then_temper():
    contexts = list(teacher_states().values())
    targets = [student_policy(c, TOY_RECIPE, 2.09) for c in contexts]
    policies = realizing_policies(contexts, targets)
    assert any(p.order == "KPT" and p.top_k == 5 for p in policies)
    assert all(abs(p.alpha - 1 / (0.9 * 2.09)) < 1e-9 for p in policies)


@settings(max_examples=max(10, settings.default.max_examples // 4))  # each example enumerates ~2000 policies
@given(st.integers(0, 2**32 - 1), st.integers(2, 3), st.floats(0.3, 3.0), st.floats(0.3, 3.0))
def test_without_truncation_the_student_is_a_single_temperature(seed, n_contexts, t_train, t_eval):
    rng = np.random.default_rng(seed)
    contexts = [log_normalize(rng.normal(0, 1.5, 6)) for _ in range(n_contexts)]
    targets = [student_policy(c, SSDRecipe(t_train), t_eval) for c in contexts]
    policies = realizing_policies(contexts, targets)
    assert any(abs(p.alpha - 1 / (t_train * t_eval)) < 1e-6 for p in policies)


def test_inconsistent_exponents_are_not_realizable():
    contexts = [log_normalize(np.log([0.5, 0.3, 0.2]))] * 2
    targets = [contexts[0] * 1.0, log_normalize(contexts[0] * 2.0)]
    assert realizing_policies(contexts, targets) == []
