"""Selections in the CPU study use the validation split only, and Table 2 runs the selected settings on eval."""
from pathlib import Path

import pytest

from ssd.config import build
from ssd.studies.testbed import study as st
from ssd.experiment.run import ArmResult
from ssd.experiment.steps import Evaluation


def _fake_result(score: float) -> Evaluation:
    metric = {"value": score, "ci": [score, score]}
    summary = {"pass_at_k": {"pass@1": metric, "pass@5": metric}, "by_difficulty": {}, "health": {}}
    return Evaluation([], [], summary, Path(), Path())


@pytest.fixture()
def study(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(st, "build_base_model", lambda settings, seed, *a, **k: tmp_path / f"base{seed}" / "model")

    def run_experiment(run_cfg, arms):  # the runner, faked: val favours T=0.8 with top-k 20 for the base
        (split,) = run_cfg.problems  # and T_train 1.4, T_eval 0.9 for students
        results = {}
        for arm in arms:
            model = arm.model
            if arm.ssd is not None:
                synthesis = arm.ssd.synthesis
                model = Path(run_cfg.root) / f"student-{synthesis.temperature}-{synthesis.top_k}-{arm.ssd.sft.seed}"
            evaluations = {}
            for name, dec in arm.decodings.items():
                calls.append((str(model), split, dec.temperature, dec.top_k, dec.top_p))
                if arm.ssd is None:
                    score = 1 - abs(dec.temperature - 0.8) - 0.1 * (dec.top_k != 20)
                else:
                    score = 1 - abs(arm.ssd.synthesis.temperature - 1.4) - abs(dec.temperature - 0.9)
                evaluations[name] = {split: _fake_result(score)}
            results[arm.label] = ArmResult(arm, model, {}, evaluations, {})
        return results

    monkeypatch.setattr(st, "run_experiment", run_experiment)
    cfg = build(st.StudyConfig, {"pool": {"easy": 1}, "val": {"easy": 1}, "eval": {"easy": 1},
                                 "base_temperatures": [0.2, 0.8, 1.4], "train_temperatures": [0.8, 1.4, 2.0],
                                 "ssd_eval_temperatures": [0.5, 0.9, 1.3]})
    s = st.Study(cfg, tmp_path)
    return s, calls


def test_frontier_and_grid_evaluate_on_validation_only(study):
    s, calls = study
    s.frontier()
    s.grid()
    assert calls and {split for _, split, *_ in calls} == {"val"}


def test_selected_settings_are_the_validation_argmax(study):
    s, _ = study
    f, g = s.frontier(), s.grid()
    assert (f["best_joint"]["temperature"], f["best_joint"]["top_k"]) == (0.8, 20)
    assert f["best_temperature_only"]["top_k"] == 0
    assert (g["selected"]["t_train"], g["selected"]["t_eval"], g["selected"]["train_top_k"]) == (1.4, 0.9, 20)


def test_table2_runs_every_seed_of_the_selected_recipe_on_eval_for_every_base(study):
    s, calls = study
    f, g = s.frontier(), s.grid()
    assert {c[0] for c in calls if "student" not in c[0]} == {str(s.base_models[0])}  # selection: primary base only
    calls.clear()
    t2 = s.table2(f, g)
    assert {split for _, split, *_ in calls} == {"eval"}
    assert sorted(t2["bases"]) == sorted(s.base_models) == [0, 1, 2] and len(set(s.base_models.values())) == 3
    assert all(sorted(runs["ssd"]) == [0, 1, 2] for runs in t2["bases"].values())
    assert {c[0] for c in calls if "student" not in c[0]} == {str(m) for m in s.base_models.values()}
    students = [c for c in calls if "student" in c[0]]
    assert len(students) == 9
    assert all(c[0].startswith(str(s.root)) and "-1.4-20-" in c[0] and c[2] == 0.9 for c in students)
