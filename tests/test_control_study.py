"""The positive control's study: bootstrap over bases and problems, diagnostics against the truth, and the quick
config end to end (every stage cached: a re-run returns the same result)."""
import json

import numpy as np
import pytest

from ssd.config import load_config
from ssd.studies.control import benchmark
from ssd.studies.control.diagnostics import calibration, fit_summary, generator_probabilities, position_probabilities
from ssd.studies.control.policies import student_table
from ssd.studies.control.report import plot, render_markdown
from ssd.studies.control.study import ControlConfig, run_control
from ssd.studies.control.truth import TOKEN, truth_table
from theory.ssd import SSDRecipe


def test_the_truth_is_perfectly_calibrated_and_the_ideal_student_cuts_lock_tails():
    design = benchmark.Design()
    problems = benchmark.generate({"eval": 40}, seed=2)["eval"]
    table = truth_table(problems, design)
    model = position_probabilities(table, problems, TOKEN, decision_offset=0)
    report = calibration(model, generator_probabilities(problems, design))
    assert report["max_abs_diff"] < 1e-12
    locks = report["per_quantity"]["lock_dictated"]
    assert len(locks["mean_abs_diff_per_index"]) == len(problems[0].metadata["locks"])
    assert max(locks["mean_abs_diff_per_index"]) < 1e-12 and abs(locks["mean_diff"]) < 1e-12
    base = fit_summary(table, problems, TOKEN, decision_offset=0)
    student = fit_summary(student_table(table, SSDRecipe(1.0, 0, 0.7)), problems, TOKEN, decision_offset=0)
    assert base["lock_tail_mass"] == pytest.approx(design.lock_error)
    assert student["lock_tail_mass"] < 1e-12


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    cfg = load_config("experiments/cpu/control_quick.yaml", ControlConfig)
    root = tmp_path_factory.mktemp("control")
    return cfg, root, run_control(cfg, root)


def test_quick_control_reports_every_piece_and_selects_inside_its_grids(quick):
    cfg, _, result = quick
    json.dumps(result)
    for name in ("predicted_gain", "measured_gain"):
        assert np.isfinite(result[name]["value"]) and result[name]["ci"][0] <= result[name]["ci"][1]
    assert set(result["controls"]) == {"t_train_1_untruncated", "hot_t_train", "benign_twin"}
    assert len(result["bases"]) == len(cfg.base_seeds)
    for base in result["bases"]:
        assert base["a"]["T"] in cfg.decode.temperatures and base["a"]["order"] == "TKP"
        assert base["c"]["recipe"]["t_train"] in cfg.recipes.t_trains
        assert len(base["d"]["per_seed"]) == len(cfg.ssd_seeds)
        # the vLLM order is one of the orders (b) searches, so (b) is at least (a) on validation
        assert base["b"]["val"] >= base["a"]["val"] - 1e-12
    assert len(result["student_grid"]["runs"]) == len(cfg.students.t_trains) * 2 * len(cfg.students.lrs)
    check = result["sampling_check"]
    assert abs(check["sampled"] - check["exact"]) <= check["binomial_half_width_99"] + 1 / check["samples"]
    # T_train 1 without truncation leaves the base unchanged under ideal fit
    assert result["controls"]["t_train_1_untruncated"]["predicted"] == pytest.approx(0.0, abs=1e-9)


def test_quick_control_rerun_reads_the_cache_and_renders(quick, tmp_path):
    cfg, root, result = quick
    assert run_control(cfg, root)["measured_gain"] == result["measured_gain"]
    assert "Positive control" in render_markdown(result)
    assert plot(result, tmp_path / "control.png").stat().st_size > 0


def test_an_impossible_design_names_the_file_and_the_dotted_key(tmp_path):
    from ssd.config import ConfigError

    path = tmp_path / "control.yaml"
    path.write_text("design: {lock_error: 1.5}\n")
    with pytest.raises(ConfigError, match=r"control.yaml: design.lock_error: expected a value in \(0, 1\)"):
        load_config(path, ControlConfig)


@pytest.mark.parametrize("t_train, lr, edge", [(0.7, 3e-3, None), (0.5, 3e-3, "T_train"), (0.7, 1e-2, "lr")])
def test_the_report_says_when_the_selected_recipe_sits_on_the_grids_edge(t_train, lr, edge):
    from ssd.studies.control.report import _grid_edges

    runs = [{"recipe": {"t_train": t, "top_k": 0, "top_p": 0.8}, "lr": r} for t in (0.5, 0.7, 1.4)
            for r in (1e-3, 3e-3, 1e-2)]
    text = _grid_edges({"runs": runs, "selected": {"recipe": {"t_train": t_train, "top_k": 0, "top_p": 0.8}, "lr": lr}})
    assert ("inside the grid" in text) == (edge is None) and (edge is None or f"edge in {edge}" in text)


def test_calibration_separates_bias_from_scatter():
    truth = {"lock_dictated": np.full((4, 2), 0.75)}
    biased = calibration({"lock_dictated": np.full((4, 2), 0.70)}, truth)["per_quantity"]["lock_dictated"]
    scattered = calibration({"lock_dictated": np.array([[0.70, 0.80]] * 4)}, truth)["per_quantity"]["lock_dictated"]
    assert biased["mean_diff"] == pytest.approx(-0.05) and scattered["mean_diff"] == pytest.approx(0.0)
    assert biased["median_abs_diff"] == pytest.approx(0.05) == scattered["median_abs_diff"]
    assert scattered["mean_abs_diff_per_index"] == pytest.approx([0.05, 0.05])


def test_line_ids_come_in_the_same_order_in_every_process():
    import subprocess
    import sys

    code = "from ssd.studies.control.study import token_ids; print(list(token_ids())[:50])"
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": str(seed), "PATH": ""}).stdout for seed in (1, 2, 3)}
    assert len(runs) == 1


def test_the_report_names_each_quantity_whose_calibration_misses_the_target():
    from ssd.studies.control.report import _calibration_verdict

    def fit(lock: float) -> dict:
        return {"per_quantity": {"fork_popular": {"mean_abs_diff": 0.01}, "lock_dictated": {"mean_abs_diff": lock}}}

    result = {"bases": [{"seed": 3}, {"seed": 7}], "calibration": {"target": 0.03, "per_base": [fit(0.02), fit(0.05)]}}
    assert _calibration_verdict(result) == "mean |diff| per position above the target: lock dictated on base 7 (0.050)"
    result["calibration"]["per_base"][1] = fit(0.03)
    assert "within the target on every base" in _calibration_verdict(result)
