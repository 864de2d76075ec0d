"""The stage chain end to end on a tiny random Qwen3 (CPU, seconds): stages, reuse, results, identities."""
import json
from pathlib import Path

import pytest
import yaml

from ssd.cache import model_identity
from ssd.config import ConfigError, DecodingConfig
from ssd.experiment import steps
from ssd.experiment.config import load_experiment
from ssd.experiment.estimate import dry_run
from ssd.studies.paper import run_paper
from ssd.generation import Backend, Completion
from ssd.data.problems import write_problems
from ssd.records import Problem
from ssd.runtime import configure_threads
from ssd.models.tiny import TinySpec, create_model, train_tokenizer

QUESTIONS = ["Read n and print n + 1.", "Read a line and print it reversed.", "Print the sum of two numbers.",
             "Print hello.", "Read n and print n squared.", "Read a word and print its length."]


def problem(i, question, difficulty="easy"):
    return Problem(id=f"p{i}", source="test", question=question, kind="stdin",
                   tests=[{"input": "1\n", "output": "2\n"}], difficulty=difficulty)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    configure_threads()
    root = tmp_path_factory.mktemp("world")
    texts = QUESTIONS + ["```python\nprint(int(input()) + 1)\n```", "def f(x):\n    return x\n"] * 5
    model = create_model(train_tokenizer(texts, vocab_size=320), root / "model",
                         TinySpec(hidden_size=32, intermediate_size=64, head_dim=8, num_attention_heads=2,
                                  num_key_value_heads=1), seed=0)
    write_problems(root / "bench.jsonl", [problem(i, q, "easy" if i % 2 else "hard")
                                          for i, q in enumerate(QUESTIONS[:3])])
    # the pool's last prompt repeats a benchmark problem: the contamination guard must drop it
    write_problems(root / "pool.jsonl", [problem(10 + i, q + " (pool)") for i, q in enumerate(QUESTIONS[3:])]
                   + [problem(99, QUESTIONS[0])])
    return root, model


def experiment(root, model, **changes):
    data = {
        "name": "tiny", "model": {"source": str(model), "total_params_b": 0.0001}, "prompt_style": "paper",
        "benchmarks": [{"name": "bench", "kind": "problems", "path": str(root / "bench.jsonl")}],
        "prompt_pool": {"kind": "problems", "path": str(root / "pool.jsonl")},
        "backend": "transformers", "backend_options": {"device": "cpu"},
        "base_decoding": {"temperature": 1.0, "max_tokens": 8},
        "synthesis_decoding": {"temperature": 1.5, "top_k": 20, "max_tokens": 8},
        "ssd_decoding": {"temperature": 0.8, "max_tokens": 8},
        "n_eval_samples": 2, "ks": [1, 2], "grading_workers": 1, "sample_filter": "none",
        "sft": {"engine": "loop", "max_steps": 2, "micro_batch_size": 2, "max_seq_len": 256, "lr": 1e-3,
                "min_lr": 1e-4, "warmup_steps": 0, "save_every": 1, "progress": False},
        "ssd_eval_checkpoints": [1],
        "gpus": {"count": 1, "memory_gb": 1},
    }
    data.update(changes)
    path = root / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_experiment(path)


@pytest.fixture(scope="module")
def first_run(world):
    root, model = world
    cfg = experiment(root, model)
    return cfg, run_paper(cfg, root=root / "runs", results_root=root / "results")


def stage_dirs(root):
    return sorted(p.name for p in (root / "runs").iterdir() if p.is_dir())


def test_results_have_both_arms_with_intervals_and_a_paired_comparison(world, first_run):
    root, _ = world
    summary = json.loads((root / "results" / "tiny" / "summary.json").read_text())
    bench = summary["benchmarks"]["bench"]
    for arm in ("base", "ssd"):
        lo, hi = bench[arm]["summary"]["pass_at_k"]["pass@1"]["ci"]
        assert lo <= bench[arm]["summary"]["pass_at_k"]["pass@1"]["value"] <= hi
        assert set(bench[arm]["summary"]["by_difficulty"]) == {"easy", "hard"}
        assert summary[arm] == bench[arm]["summary"]["pass_at_k"]
    assert set(bench["paired"]) == {"pass@1", "pass@2"} and bench["paired"]["pass@1"]["n_problems"] == 3
    assert set(bench["ssd_by_step"]) == {"1"}
    assert "## bench (3 problems)" in (root / "results" / "tiny" / "report.md").read_text()
    assert summary["manifest"]["packages"]["torch"] and "commit" in summary["manifest"]["git"]


def test_every_stage_folder_is_complete(world, first_run):
    root, _ = world
    names = stage_dirs(root)
    assert {n.split("-")[0] for n in names} == {"eval", "verdicts", "ssd", "sft"}
    assert all(json.loads((root / "runs" / n / "manifest.json").read_text())["complete"] for n in names)


def test_dry_run_stage_keys_are_the_folders_the_run_created(world, first_run):
    root, _ = world
    cfg, results = first_run
    report = dry_run(cfg, root=root / "runs")
    bench = results["benchmarks"]["bench"]
    arms = [bench["base"], bench["ssd"], *bench["ssd_by_step"].values()]
    created = [Path(results["stages"][name]).name for name in ("ssd_samples", "sft_data")]
    created += [Path(results["stages"]["sft"]).parent.name]
    created += [Path(arm[key]).name for arm in arms for key in ("samples_stage", "verdicts_stage")]
    planned = [name for cost in report["stages"].values() for name in cost["stages"]]
    assert report["stage_keys_exact"] and sorted(planned) == sorted(created)
    assert set(planned) <= set(stage_dirs(root))


def test_contaminated_pool_prompt_is_not_synthesized(first_run):
    _, results = first_run
    samples = steps.read_samples(results["stages"]["ssd_samples"])
    assert sorted(s.problem_id for s in samples) == ["p10", "p11", "p12"]
    assert results["prompt_pool"]["n_prompts"] == 3


def test_rerun_reuses_every_stage(world, first_run):
    root, _ = world
    cfg, results = first_run
    before = {n: (root / "runs" / n / "manifest.json").read_text() for n in stage_dirs(root)}
    again = run_paper(cfg, root=root / "runs", results_root=root / "results")
    assert {n: (root / "runs" / n / "manifest.json").read_text() for n in stage_dirs(root)} == before
    assert again["benchmarks"]["bench"]["ssd"] == results["benchmarks"]["bench"]["ssd"]


def test_new_eval_temperature_reuses_synthesis_and_sft(world, first_run):
    root, model = world
    before = set(stage_dirs(root))
    cfg = experiment(root, model, name="tiny-t", ssd_decoding={"temperature": 1.2, "max_tokens": 8},
                     stages=["ssd_eval"], ssd_eval_checkpoints=[])
    run_paper(cfg, root=root / "runs", results_root=root / "results")
    new = set(stage_dirs(root)) - before
    assert sorted(n.split("-")[0] for n in new) == ["eval", "verdicts"]


def test_model_identity_tracks_content(world, tmp_path, first_run):
    root, model = world
    assert model_identity("Qwen/Qwen3-4B-Instruct-2507") == "hub:Qwen/Qwen3-4B-Instruct-2507"
    assert model_identity(first_run[1]["stages"]["sft"]).startswith("stage:sft-")
    copy = tmp_path / "m"
    copy.mkdir()
    (copy / "w.bin").write_bytes(b"a")
    first = model_identity(copy)
    (copy / "w.bin").write_bytes(b"b")
    assert first.startswith("local:") and model_identity(copy) != first


def test_missing_local_model_is_a_config_error():
    with pytest.raises(ConfigError, match="local path not found"):
        model_identity("./no/such/model")


def test_grading_refuses_an_unfinished_generation(tmp_path):
    (tmp_path / "eval-generate-x").mkdir()
    with pytest.raises(ConfigError, match="not a complete generation stage"):
        steps.grade(tmp_path / "eval-generate-x", [problem(0, "q")], root=tmp_path)


def test_synthesis_refuses_several_samples_per_prompt(world):
    root, model = world
    with pytest.raises(ConfigError, match="N=1"):
        steps.synthesize(model, [problem(0, "q")], DecodingConfig(n=2), prompt_style="paper", root=root)


class ScriptedBackend(Backend):
    """A generator that answers every prompt with the same program, to check grading and summaries."""

    name, model, tokenizer = "scripted", "scripted/model", None

    def generate(self, prompts, cfg, *, seeds=None):
        program = "```python\nprint(int(input()) + 1)\n```"
        return [[Completion(program, [0, 1], "stop") for _ in range(cfg.n)] for _ in prompts]


def test_evaluate_grades_in_the_sandbox_and_summarises(tmp_path):
    right = Problem(id="ok", source="t", question="n+1", kind="stdin", tests=[{"input": "1\n", "output": "2\n"}],
                    difficulty="easy")
    wrong = Problem(id="no", source="t", question="n+4", kind="stdin", tests=[{"input": "1\n", "output": "5\n"}],
                    difficulty="hard")
    result = steps.evaluate("scripted/model", [right, wrong], DecodingConfig(n=2, max_tokens=4),
                               prompt_style="official-raw", ks=(1, 2, 5), backend=ScriptedBackend(),
                               root=tmp_path, workers=1)
    assert sorted((v.problem_id, v.status) for v in result.verdicts) == [
        ("no", "wrong_answer"), ("no", "wrong_answer"), ("ok", "passed"), ("ok", "passed")]
    assert result.summary["pass_at_k"]["pass@1"]["value"] == 0.5
    assert set(result.summary["pass_at_k"]) == {"pass@1", "pass@2"}  # k = 5 > n is dropped
    assert result.summary["by_difficulty"]["easy"]["pass@1"]["value"] == 1.0


def test_gpu_smoke_script_runs_every_stage_on_cpu(tmp_path, capsys):
    from scripts.gpu_smoke import main

    assert main(["--scale", "cpu", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for step in ("base model (format SFT)", "base eval: grade", "SSD synthesis", "SSD SFT", "SSD eval: grade"):
        assert step in out
    assert json.loads((tmp_path / "results" / "gpu-smoke-cpu" / "summary.json").read_text())["ssd"]["pass@1"]


def test_launched_sft_runs_in_a_subprocess_and_is_then_reused(world, first_run, tmp_path):
    import sys

    from ssd.experiment.config import sft_recipe

    root, model = world
    cfg, results = first_run
    data = Path(results["stages"]["sft_data"]) / "train.jsonl"
    final = steps.finetune(model, data, sft_recipe(cfg), root=tmp_path, launcher=[sys.executable])
    assert (final / "config.json").exists() and final.parent.parent == tmp_path
    # complete now: a launcher that would fail is never called
    assert steps.finetune(model, data, sft_recipe(cfg), root=tmp_path, launcher=["false"]) == final


def test_paper_command_runs_a_sweep_and_tabulates_its_points(world, first_run, capsys):
    from ssd.commands.paper import main

    root, _ = world
    sweep = root / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"name": "tiny-sweep", "artefact": "test", "bases": ["tiny.yaml"],
                                     "grid": {"ssd_decoding.temperature": [0.8, 1.2]}}), encoding="utf-8")
    assert main(["--config", str(sweep), "--root", str(root / "runs"), "--results", str(root / "results"),
                 "--no-figures"]) == 0
    table = json.loads((root / "results" / "tiny-sweep" / "points.json").read_text())
    assert [p["ssd_decoding.temperature"] for p in table["points"]] == [0.8, 1.2]
    best = table["points"][0]["ssd_best_over_checkpoints"]["pass@1"]
    assert best["checkpoint"] in ("final", "1") and 0 <= best["value"] <= 1
    assert "dry run: sweep of 2 points" in capsys.readouterr().out


def test_synthesis_only_run_needs_no_benchmark(world, first_run):
    root, model = world
    cfg = experiment(root, model, name="tiny-synth", stages=["synthesis"], benchmarks=[], ssd_eval_checkpoints=[])
    results = run_paper(cfg, root=root / "runs", results_root=root / "results")
    assert results["plan"] == ["synthesis"] and "base" not in results and "ssd" not in results
    assert len(steps.read_samples(results["stages"]["ssd_samples"])) == 4  # nothing to exclude against


def test_a_changed_prompt_text_is_a_new_generation_stage(tmp_path, monkeypatch):
    import ssd.prompts

    problems = [problem(0, "Print hello.")]
    first = steps.generate("scripted/model", problems, DecodingConfig(max_tokens=4), prompt_style="official-raw",
                              backend=ScriptedBackend(), root=tmp_path)
    monkeypatch.setattr(ssd.prompts, "LCB_HEAD", ssd.prompts.LCB_HEAD + " Be brief.")
    second = steps.generate("scripted/model", problems, DecodingConfig(max_tokens=4), prompt_style="official-raw",
                               backend=ScriptedBackend(), root=tmp_path)
    assert first != second
