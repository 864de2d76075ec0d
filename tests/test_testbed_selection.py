"""Selections in the CPU study use the validation split only, and Table 2 runs the selected settings on eval."""
from pathlib import Path

import pytest

from ssd.config import build
from ssd.studies.testbed import study as st
from ssd.experiment.steps import Evaluation


def _fake_result(score: float) -> Evaluation:
    metric = {"value": score, "ci": [score, score]}
    summary = {"pass_at_k": {"pass@1": metric, "pass@5": metric}, "by_difficulty": {}, "health": {}}
    return Evaluation([], [], summary, Path(), Path())


@pytest.fixture()
def study(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(st, "build_base_model", lambda *a, **k: tmp_path / "base" / "model")

    def run_eval(self, model, split, dec):
        calls.append((str(model), split, dec.temperature, dec.top_k, dec.top_p))
        # val favours T=0.8 with top-k 20 for the base and T_train 1.4, T_eval 0.9 for students
        if model == self.base_model:
            return _fake_result(1 - abs(dec.temperature - 0.8) - 0.1 * (dec.top_k != 20))
        t_train = float(Path(model).name.split("-")[1])
        return _fake_result(1 - abs(t_train - 1.4) - abs(dec.temperature - 0.9))

    monkeypatch.setattr(st.Study, "run_eval", run_eval)
    monkeypatch.setattr(st.Study, "student",
                        lambda self, t, trunc, seed: (tmp_path, tmp_path / f"student-{t}-{trunc.top_k}-{seed}"))
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


def test_table2_runs_every_seed_of_the_selected_recipe_on_eval(study):
    s, calls = study
    f, g = s.frontier(), s.grid()
    calls.clear()
    t2 = s.table2(f, g)
    assert {split for _, split, *_ in calls} == {"eval"}
    assert sorted(t2["ssd"]) == [0, 1, 2]
    students = [c for c in calls if "student" in c[0]]
    assert all(c[0].startswith(str(s.root)) and "-1.4-20-" in c[0] and c[2] == 0.9 for c in students)
