"""ExperimentConfig loading, sweeps and the dry run (no weights, no torch work)."""
import copy
import json

import pytest
import yaml

from ssd.config import ConfigError
from ssd.experiment.config import expand_sweep, load_experiment
from ssd.experiment.estimate import describe_source, dry_run, fetch_command, memory_check, sweep_dry_run

BASE = {
    "name": "toy",
    "model": {"source": "org/toy-model", "total_params_b": 30.0, "active_params_b": 3.0,
              "hidden_size": 2048, "num_layers": 48, "vocab_size": 151936},
    "prompt_style": "paper",
    "benchmarks": [{"name": "lcb", "kind": "livecodebench", "path": "data/lcb", "hub": "org/lcb", "release": "v6",
                    "expected_problems": 100}],
    "prompt_pool": {"kind": "rstar_seed_sft", "path": "org/pool", "expected_prompts": 1000},
    "base_decoding": {"temperature": 0.7, "top_k": 20, "top_p": 0.8, "max_tokens": 1000},
    "synthesis_decoding": {"temperature": 1.6, "top_k": 20, "top_p": 0.8, "max_tokens": 1000},
    "ssd_decoding": {"temperature": 0.9, "top_k": 20, "top_p": 0.8, "max_tokens": 1000},
    "sft": {"max_steps": 100, "global_batch_size": 32, "micro_batch_size": 1, "max_seq_len": 65536,
            "save_every": 50},
    "gpus": {"name": "B200", "count": 8, "memory_gb": 180, "bf16_tflops": 2250},
    "estimate": {"mean_prompt_tokens": 500, "mean_completion_tokens": 1500,
                 "decode_tokens_per_gpu_second": 1000.0, "train_mfu": 0.3},
}


def write(tmp_path, data, name="exp.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def variant(**changes):
    data = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split("__")
        for p in parents:
            node = node[p]
        node[last] = value
    return data


def test_load_builds_nested_configs(tmp_path):
    cfg = load_experiment(write(tmp_path, BASE))
    assert cfg.model.params_per_token_b == 3.0
    assert cfg.benchmarks[0].release == "v6"
    assert cfg.eval_decoding("ssd").temperature == 0.9 and cfg.eval_decoding("ssd").n == 10
    assert cfg.eval_decoding("base").top_k == 20


def test_unknown_key_names_file_and_dotted_key(tmp_path):
    path = write(tmp_path, variant(model__params=1))
    with pytest.raises(ConfigError, match=r"exp\.yaml: model\.params: unknown key"):
        load_experiment(path)


def test_unknown_sft_field_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match=r"sft\.learning_rate: unknown key"):
        load_experiment(write(tmp_path, variant(sft__learning_rate=1e-5)))


def test_sft_fields_owned_by_the_pipeline_are_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"sft\.output_dir: set by the pipeline"):
        load_experiment(write(tmp_path, variant(sft__output_dir="/tmp/x")))


def test_synthesis_must_draw_one_sample_per_prompt(tmp_path):
    with pytest.raises(ConfigError, match="synthesis_decoding.n"):
        load_experiment(write(tmp_path, variant(synthesis_decoding__n=4)))


def test_pass_at_k_above_n_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="ks"):
        load_experiment(write(tmp_path, variant(ks=[1, 20])))


def test_evaluated_checkpoints_must_be_saved(tmp_path):
    with pytest.raises(ConfigError, match="ssd_eval_checkpoints: step 30 is not saved"):
        load_experiment(write(tmp_path, variant(ssd_eval_checkpoints=[30])))


def test_tensor_parallel_must_divide_gpu_count(tmp_path):
    with pytest.raises(ConfigError, match="tensor_parallel_size: expected a divisor of gpus.count=8, got 3"):
        load_experiment(write(tmp_path, variant(backend_options={"tensor_parallel_size": 3})))


def test_generation_memory_is_split_over_tensor_parallel_gpus(tmp_path):
    one = memory_check(load_experiment(write(tmp_path, BASE)), 65536)["generation"]["weights_gb_per_gpu"]
    cfg = load_experiment(write(tmp_path, variant(backend_options={"tensor_parallel_size": 4})))
    assert memory_check(cfg, 65536)["generation"]["weights_gb_per_gpu"] == pytest.approx(one / 4, abs=0.1)


def test_plan_adds_prerequisites_in_order(tmp_path):
    assert load_experiment(write(tmp_path, variant(stages=["ssd_eval"]))).plan() == ["synthesis", "sft", "ssd_eval"]
    assert load_experiment(write(tmp_path, variant(stages=["base_eval"]))).plan() == ["base_eval"]


def test_source_kinds():
    assert describe_source("Qwen/Qwen3-4B-Instruct-2507") == {
        "source": "Qwen/Qwen3-4B-Instruct-2507", "kind": "hub id", "present": False}
    assert describe_source("./models/mine")["kind"] == "local path"


def test_missing_local_model_fails_the_dry_run(tmp_path):
    report = dry_run(load_experiment(write(tmp_path, variant(model__source="./no/such/model"))))
    assert not report["ok"]
    assert any("model: local path ./no/such/model not found" in p for p in report["problems"])


def test_training_memory_shrinks_with_more_gpus(tmp_path):
    cfg = load_experiment(write(tmp_path, BASE))
    eight = memory_check(cfg, 65536)["training"]["sharded_state_gb"]
    cfg.gpus.count = 16
    assert memory_check(cfg, 65536)["training"]["sharded_state_gb"] == pytest.approx(eight / 2, abs=0.1)


def test_a_30b_model_at_64k_tokens_does_not_fit_80gb_gpus(tmp_path):
    cfg = load_experiment(write(tmp_path, variant(gpus={"name": "H100", "count": 8, "memory_gb": 80,
                                                       "bf16_tflops": 989})))
    report = dry_run(cfg)
    assert not report["memory"]["training"]["ok"] and not report["ok"]
    assert any("GPU memory (training)" in p for p in report["problems"])


def test_generation_hours_scale_inversely_with_throughput(tmp_path):
    slow = dry_run(load_experiment(write(tmp_path, BASE)))["stages"]["synthesis"]
    fast = dry_run(load_experiment(write(tmp_path, variant(estimate__decode_tokens_per_gpu_second=2000.0))))
    assert slow["generate_tokens"] == 1000 * 1500
    assert fast["stages"]["synthesis"]["gpu_hours"] == pytest.approx(slow["gpu_hours"] / 2)


def test_sweep_is_the_cartesian_product_of_its_grid(tmp_path):
    write(tmp_path, BASE)
    sweep = write(tmp_path, {"name": "s", "artefact": "Fig X", "bases": ["exp.yaml"],
                             "set": {"synthesis_decoding.top_k": 0},
                             "grid": {"synthesis_decoding.temperature": [1.0, 2.0],
                                      "ssd_decoding.temperature": [0.5, 0.7, 0.9]}}, "sweep.yaml")
    configs = expand_sweep(sweep)
    assert len(configs) == 6 and len({c.name for c in configs}) == 6
    assert {(c.synthesis_decoding.temperature, c.ssd_decoding.temperature) for c in configs} == {
        (a, b) for a in (1.0, 2.0) for b in (0.5, 0.7, 0.9)}
    assert all(c.synthesis_decoding.top_k == 0 for c in configs)


def test_sweep_counts_shared_stages_once(tmp_path):
    write(tmp_path, BASE)
    sweep = write(tmp_path, {"name": "s", "artefact": "Fig X", "bases": ["exp.yaml"],
                             "grid": {"ssd_decoding.temperature": [0.5, 0.7, 0.9]}}, "sweep.yaml")
    report = sweep_dry_run(expand_sweep(sweep))
    # one base evaluation, one synthesis, one SFT, three SSD evaluations
    assert report["points"] == 3 and report["distinct_stages"] == 6


def test_bad_sweep_point_names_the_sweep_and_point(tmp_path):
    write(tmp_path, BASE)
    sweep = write(tmp_path, {"name": "s", "artefact": "Fig X", "bases": ["exp.yaml"],
                             "grid": {"ssd_decoding.top_p": [0.5, 1.5]}}, "sweep.yaml")
    with pytest.raises(ConfigError, match=r"sweep\.yaml: point \{'ssd_decoding.top_p': 1.5\}"):
        expand_sweep(sweep)


def test_missing_data_with_a_hub_source_is_listed_for_fetching(tmp_path):
    cfg = load_experiment(write(tmp_path, variant(prompt_pool={"kind": "rstar_seed_sft", "path": "data/pool/seed_sft",
                                                               "hub": "org/pool:seed_sft"})))
    report = dry_run(cfg, tmp_path)
    assert report["ok"]
    assert report["fetch"] == [
        "hf download org/pool --repo-type dataset --include 'seed_sft/*' --local-dir data/pool",
        "hf download org/lcb --repo-type dataset --local-dir data/lcb"]


def test_the_fetch_command_exists_with_these_options():
    """The printed command runs with the huggingface_hub that `make install` brings (it has no huggingface-cli)."""
    import shutil
    import subprocess

    program, verb, *_ = fetch_command("org/pool:seed_sft", "data/pool/seed_sft").split()
    assert shutil.which(program), f"{program} is not installed"
    usage = subprocess.run([program, verb, "--help"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 0
    assert all(option in usage.stdout for option in ("--repo-type", "--include", "--local-dir"))


def test_local_problem_count_is_checked_against_the_expected_count(tmp_path):
    from ssd.data.problems import write_problems
    from ssd.records import Problem

    write_problems(tmp_path / "bench.jsonl", [
        Problem(id=f"p{i}", source="t", question="q", kind="stdin", tests=[]) for i in range(2)])
    cfg = load_experiment(write(tmp_path, variant(benchmarks=[
        {"name": "mine", "kind": "problems", "path": "bench.jsonl", "expected_problems": 3}])))
    report = dry_run(cfg, tmp_path)
    assert report["benchmarks"][0]["problems"] == 2
    assert "benchmark mine: 2 problems, expected 3" in report["problems"] and not report["ok"]


def test_unknown_prompt_style_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="prompt_style: expected one of"):
        load_experiment(write(tmp_path, variant(prompt_style="fancy")))


def test_backend_options_the_backend_factory_does_not_take_fail_the_dry_run(tmp_path):
    report = dry_run(load_experiment(write(tmp_path, variant(backend_options={"dtype": "bfloat16", "warp": 9}))))
    assert [p for p in report["problems"] if "backend_options" in p] == [
        "backend_options.warp: not accepted by ssd.generation.make_backend (accepts ['batch_size', 'device', 'dtype', "
        "'gpu_memory_utilization', 'max_model_len', 'tensor_parallel_size'])"]


def test_sft_recipe_supplies_defaults_that_sft_overrides(tmp_path):
    recipe = write(tmp_path, {"model": "ignored", "seed": 99, "lr": 3.0e-6, "min_lr": 1.0e-6, "warmup_steps": 7, "max_steps": 10},
                   name="recipe.yaml")
    cfg = load_experiment(write(tmp_path, variant(sft_recipe=str(recipe))))
    assert cfg.sft["lr"] == 3.0e-6 and cfg.sft["warmup_steps"] == 7
    assert cfg.sft["max_steps"] == 100  # the experiment's own sft block wins
    assert "model" not in cfg.sft and "seed" not in cfg.sft


def test_missing_sft_recipe_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="sft_recipe: file nowhere.yaml not found"):
        load_experiment(write(tmp_path, variant(sft_recipe="nowhere.yaml")))


def test_a_livecodebench_window_is_a_config_field_and_selects_by_date(tmp_path):
    from ssd.data import load_benchmark
    from ssd.data.problems import encode_private_tests
    from ssd.experiment.config import BenchmarkSpec

    def row(qid, date):
        tests = [{"input": "1\n", "output": "1\n", "testtype": "stdin"}]
        return {"question_id": qid, "question_content": "q", "contest_date": f"{date}T00:00:00",
                "difficulty": "easy", "public_test_cases": json.dumps(tests),
                "private_test_cases": encode_private_tests(tests)}

    path = tmp_path / "lcb.jsonl"
    path.write_text("".join(json.dumps(row(q, d)) + "\n" for q, d in
                            [("a", "2024-05-31"), ("b", "2024-06-01"), ("c", "2024-09-01"), ("d", "2025-02-01")]))
    release_only = BenchmarkSpec("v5", "livecodebench", str(path), release="v5")
    widened = BenchmarkSpec("v5", "livecodebench", str(path), release="v5", window=["2024-06-01", "2025-02-01"])
    assert sorted(load_benchmark(release_only)) == ["c"]
    assert sorted(load_benchmark(widened)) == ["b", "c"]
    with pytest.raises(ConfigError, match="window"):
        BenchmarkSpec("v5", "livecodebench", str(path), release="v5", window=["2025-02-01", "2024-06-01"]).validate()
