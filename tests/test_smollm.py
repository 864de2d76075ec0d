"""ssd.studies.smollm.run: the offline prompt pool is disjoint from HumanEval, the settings say what the issue asks,
bad configs stop with one error, and the headline comparison is the pre-registered one."""
import dataclasses
from pathlib import Path

import pytest
import yaml

from ssd.commands.smollm import main as smollm_main
from ssd.studies import smollm
from ssd.config import ConfigError
from ssd.data.pools import find_contaminated
from ssd.data.problems import load_humaneval, read_problems

REPO = Path(__file__).resolve().parent.parent
POOL = REPO / "experiments" / "smollm" / "stdlib_pool.jsonl"
SMALL = REPO / smollm.SETTINGS["small"]


@pytest.fixture(scope="module")
def pool():
    return list(read_problems(POOL).values())


@pytest.fixture(scope="module")
def humaneval():
    return list(load_humaneval().values())


def test_committed_pool_has_no_humaneval_match(pool, humaneval):
    assert find_contaminated(pool, humaneval) == []


def test_guard_flags_a_humaneval_prompt_slipped_into_the_pool(pool, humaneval):
    slipped = dataclasses.replace(pool[0], id="slipped", question="Solve this:\n" + humaneval[0].question)
    assert find_contaminated([*pool, slipped], humaneval) == [("slipped", humaneval[0].id)]


def test_committed_pool_is_what_the_builder_makes_from_this_stdlib(pool):
    assert [p.id for p in smollm.stdlib_prompt_pool()] == [p.id for p in pool]


def test_each_prompt_names_its_function_and_forbids_its_module():
    built = smollm.stdlib_prompt_pool(("textwrap",))
    assert built
    for p in built:
        assert f"`{p.func_name}(" in p.question
        assert "without importing the `textwrap` module" in p.question


@pytest.mark.parametrize("setting", sorted(smollm.SETTINGS))
def test_settings_use_pass_at_1_and_5_from_ten_samples_with_the_paper_prompt(setting):
    exp = smollm.load_smollm(REPO / smollm.SETTINGS[setting]).experiment
    assert (exp.n_eval_samples, exp.ks, exp.prompt_style) == (10, [1, 5], "paper")


def test_full_setting_evaluates_all_164_problems():
    cfg = smollm.load_smollm(REPO / smollm.SETTINGS["full"])
    assert len(smollm.humaneval_subset(cfg.humaneval_stride)) == 164


def test_subset_takes_every_stride_th_task_id():
    assert list(smollm.humaneval_subset(14)) == [f"HumanEval/{i}" for i in range(0, 164, 14)]


def test_unknown_key_is_one_config_error_naming_it(tmp_path):
    data = yaml.safe_load(SMALL.read_text())
    data["humaneval_strid"] = 3
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="humaneval_strid"):
        smollm.load_smollm(bad)


def test_repeated_sweep_temperature_is_a_config_error():
    with pytest.raises(ConfigError, match="ssd_temperatures"):
        smollm.load_smollm(SMALL, ["ssd_temperatures=[0.7, 0.7]"])


def test_first_two_arms_are_base_and_ssd_at_the_same_temperature():
    first, second = smollm.arms(smollm.load_smollm(SMALL))[:2]
    assert (first.label.split("@")[0], first.ssd, second.label.split("@")[0]) == ("base", None, "ssd")
    assert second.ssd is not None and list(first.decodings.values()) [0].temperature == \
        list(second.decodings.values())[0].temperature


def test_unmatched_first_temperatures_are_a_config_error():
    with pytest.raises(ConfigError, match="matched pair"):
        smollm.load_smollm(SMALL, ["ssd_temperatures=[0.2, 0.7]"])


def test_plan_prints_every_stage_and_a_total_before_running(capsys):
    assert smollm_main(["--plan"]) == 0
    out = capsys.readouterr().out
    assert "] plan:" in out and "estimated" in out
    for label in ("ssd@T0.7: SSD synthesis", "ssd@T0.7: SFT", *(a.label for a in smollm.arms(smollm.load_smollm(SMALL)))):
        assert f"  {label}" in out


def fake_results(pass1_by_arm):
    arms = {label: {"summary": {"pass_at_k": {"pass@1": {"value": v}}}} for label, v in pass1_by_arm.items()}
    paired = {f"{s} vs {b}": {"pass@1": f"{s}-{b}"} for s in arms if s.startswith("ssd") for b in arms
              if b.startswith("base")}
    return {"arms": arms, "paired": paired}


def test_headline_pairs_ssd_with_the_base_at_its_own_decoding():
    cfg = smollm.load_smollm(SMALL, ["base_temperatures=[0.7, 0.2]", "ssd_temperatures=[0.7, 0.2]"])
    results = fake_results({"base@T0.7": 0.1, "base@T0.2": 0.3, "ssd@T0.7": 0.2, "ssd@T0.2": 0.0})
    head = smollm.headline(results, cfg)
    assert head["vs_matched"] == {"pass@1": "ssd@T0.7-base@T0.7"}


def test_headline_also_reports_ssd_against_the_best_base_of_the_sweep():
    cfg = smollm.load_smollm(SMALL, ["base_temperatures=[0.7, 0.2]", "ssd_temperatures=[0.7, 0.2]"])
    results = fake_results({"base@T0.7": 0.1, "base@T0.2": 0.3, "ssd@T0.7": 0.2, "ssd@T0.2": 0.0})
    assert smollm.headline(results, cfg)["vs_best_base"] == {"pass@1": "ssd@T0.7-base@T0.2"}


def paired(delta, lo, hi):
    return {"delta": delta, "ci": [lo, hi], "p_value": 0.5, "n_better": 1, "n_worse": 0, "n_tied": 0}


def complete_results(cfg, matched_ci):
    metric = {"value": 0.1, "ci": [0.0, 0.2]}
    summary = {"pass_at_k": {"pass@1": metric, "pass@5": metric},
               "health": {"no_code_rate": 0.0, "max_token_hit_rate": 0.0, "mean_completion_tokens": 9.0}}
    labels = [a.label for a in smollm.arms(cfg)]
    results = {"experiment": "smollm", "config": {"experiment": {"ks": [1, 5], "n_eval_samples": 10}},
               "benchmark": {"problems": ["HumanEval/0"]}, "prompt_pool": {"n_prompts": 3}, "wall_seconds": 5.0,
               "arms": {label: {"summary": summary} for label in labels}, "stage_seconds": {"sft": 1.0},
               "paired": {f"{s} vs {b}": {"pass@1": paired(0.0, -0.1, 0.1), "pass@5": paired(0.0, -0.1, 0.1)}
                          for s in labels if s.startswith("ssd") for b in labels if b.startswith("base")}}
    results["paired"]["ssd@T0.7 vs base@T0.7"]["pass@1"] = paired(0.2, *matched_ci)
    results["headline"] = smollm.headline(results, cfg)
    return results


def test_report_says_ssd_helped_only_when_the_matched_interval_is_above_zero():
    cfg = smollm.load_smollm(SMALL)
    assert "SSD helped here" in smollm.render_report(complete_results(cfg, (0.1, 0.3)))
    assert "SSD helped here" not in smollm.render_report(complete_results(cfg, (-0.1, 0.3)))


def test_summary_has_the_cpu_testbed_headline_keys():
    cfg = smollm.load_smollm(SMALL)
    form = smollm.testbed_form(complete_results(cfg, (0.1, 0.3)), seed=0)
    assert set(form) == {"seeds", "base", "ssd", "delta"}
    assert form["delta"]["pass@1"]["value"] == 0.2


def test_only_an_unknown_arm_is_one_config_error(tmp_path):
    with pytest.raises(ConfigError, match="ssd@T9.9"):
        smollm.run(smollm.load_smollm(SMALL), model_dir=tmp_path, root=tmp_path, results_root=tmp_path,
                   only="ssd@T9.9")


def test_a_checkpoint_that_is_not_a_model_directory_is_one_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not a Hugging Face model directory"):
        smollm.run(smollm.load_smollm(SMALL), model_dir=tmp_path, root=tmp_path, results_root=tmp_path,
                   ssd_checkpoint=tmp_path / "missing")
