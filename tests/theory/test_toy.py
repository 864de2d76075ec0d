"""The Appendix C.4 toy: every number the paper reports, and the wider decode-only sweep."""
import numpy as np
import pytest

from theory import toy
from theory.operators import decode_only


def close(ours, paper, unit):
    return all(abs(a - b) <= unit + 1e-12 for a, b in zip(np.atleast_1d(ours), np.atleast_1d(paper)))


@pytest.fixture(scope="module")
def summary():
    return toy.toy_summary()


def test_archetypes_are_distributions_with_the_table6_heads():
    for name, logp in toy.teacher_states().items():
        p = np.exp(logp)
        assert p.sum() == pytest.approx(1.0, abs=1e-12) and np.allclose(p[:4], toy.HEADS[name])


def test_student_lock_keeps_two_tokens(summary):
    assert close(summary["student_lock_masses"], toy.PAPER["student_lock_masses"], 1e-3)


def test_student_fork_keeps_five_tokens_led_by_tok1(summary):
    assert summary["student_fork_size"] == 5 and summary["student_fork_ranking"][:2] == [1, 0]
    assert close([summary["student_fork_tok1"], summary["student_fork_tok0"]], [0.344, 0.169], 1e-3)


def test_student_root_keeps_four_tokens_with_the_fail_token(summary):
    assert summary["student_root_size"] == 4 and close(summary["student_root_fail"], 0.406, 1e-3)


def test_teacher_optimum(summary):
    assert close(summary["teacher_best_pass"], 0.0832, 1e-4) and close(summary["teacher_best_T"], 0.639, 1e-3)


def test_student_optimum_is_the_closed_form_switch(summary):
    assert close(summary["student_best_pass"], 0.1377, 1e-4)
    assert summary["student_switch_T"] == pytest.approx(np.log(0.75 / 0.055) / (0.9 * np.log(4)), rel=1e-12)
    assert summary["student_switch_T"] - 0.001 <= summary["student_best_T"] <= summary["student_switch_T"]


def test_pass_drops_just_after_each_switch_temperature(summary):
    for model in toy.MODELS:
        switch = summary[f"{model}_switch_T"]
        below, above = toy.pass_curve(model, [switch - 1e-9, switch + 1e-9])
        assert below > above + 0.01


def test_fork_nuclei_at_the_optima(summary):
    assert close(summary["teacher_fork_nucleus"], toy.PAPER["teacher_fork_nucleus"], 1e-3)
    assert close(summary["student_fork_nucleus"], toy.PAPER["student_fork_nucleus"], 1e-3)


def test_fig14_readouts_and_pruning(summary):
    assert close(summary["fig14_teacher"], toy.PAPER["fig14_teacher"], 1e-3)
    assert close(summary["fig14_student"], toy.PAPER["fig14_student"], 1e-3)
    assert summary["fig14_kept_teacher"] == {"fork": [4, 5, 7], "lock": [1, 2, 9]}
    assert summary["fig14_kept_student"] == {"fork": [4, 4, 4], "lock": [1, 1, 1]}


def test_top_p_robustness_gaps(summary):
    gaps = summary["gap_by_top_p"]
    assert all(g > 0 for g in gaps.values())
    assert close([summary["gap_top_p_min"], summary["gap_top_p_max"]], [0.014, 0.054], 1e-3)
    assert max(gaps, key=gaps.get) == "0.8"


def test_fig4_conflict_panel():
    panel = toy.conflict_panel()
    assert close([panel[0.5]["lock_top1"], panel[1.5]["lock_top1"]], [0.985, 0.488], 1e-3)
    assert close([panel[0.5]["fork_entropy_bits"], panel[1.5]["fork_entropy_bits"]], [2.24, 3.13], 1e-2)


def test_no_single_temperature_serves_the_toy_lock_and_fork():
    interval = toy.conflict_interval()
    assert close([interval["tau_lock_max"], interval["tau_fork_min"]], [0.63, 0.67], 0.01) and interval["conflict"]


def test_fig5_plateau_and_spike():
    example = toy.plateau_spike_example()
    fork = example["fork"]
    assert example["fork"]["kept"] == 10 and example["lock"]["kept"] == 1
    assert fork["teacher"][0] / fork["teacher"][9] == pytest.approx(34.7, abs=0.05)
    assert fork["student"][0] / fork["student"][9] == pytest.approx(9.2, abs=0.05)


def test_effective_temperature_overlay_depends_only_on_the_product_without_truncation():
    grid = toy.effective_temperature_overlay([0.8, 1.6], [1.0, 0.5])
    assert grid["t_eff"][0, 0] == grid["t_eff"][1, 1] == 0.8
    assert grid["pass"][0, 0] == pytest.approx(grid["pass"][1, 1], rel=1e-12)


def test_effective_temperature_overlay_depends_on_t_train_under_truncation():
    grid = toy.effective_temperature_overlay([0.9, 1.8], [2.0, 1.0], top_p_train=0.85)
    assert abs(grid["pass"][0, 0] - grid["pass"][1, 1]) > 1e-3


def test_wide_sweep_normal_form_matches_the_operators():
    rng = np.random.default_rng(0)
    for _ in range(30):
        model, order = rng.choice(toy.MODELS), rng.choice(["TKP", "TPK", "KTP", "KPT", "PTK", "PKT"])
        k, top_p, t = int(rng.integers(1, 17)), float(np.round(rng.uniform(0.3, 1.0), 2)), float(rng.uniform(0.2, 4))
        policy = {n: np.exp(decode_only(lp, order, 1 / t, k, top_p)) for n, lp in toy.states(model).items()}
        best = toy.wide_sweep(model, orders=(order,), top_ks=[k], top_ps=[top_p], temperatures=[t])
        assert best["pass"] == pytest.approx(float(toy.success_probability(policy)), rel=1e-9, abs=1e-15)


def test_wide_sweep_reports_what_the_narrow_sweep_leaves_out():
    teacher_any, student_any = toy.wide_sweep("teacher"), toy.wide_sweep("student")
    teacher_vllm = toy.wide_sweep("teacher", orders=("TKP",))
    assert close([teacher_vllm["pass"], teacher_any["pass"], student_any["pass"]], [0.2399, 0.2932, 0.2888], 1e-4)
    assert teacher_any["order"] == "KPT" and teacher_any["pass"] > student_any["pass"]


def test_unknown_model_raises():
    with pytest.raises(ValueError, match="model"):
        toy.states("oracle")
