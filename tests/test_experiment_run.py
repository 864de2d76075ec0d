"""The one runner's stage plan and its stage clock (progress lines with an ETA on stderr)."""
import io

from ssd.config import DecodingConfig
from ssd.experiment import run as runner
from ssd.experiment.run import Arm, RunConfig, SSDRecipe, StageClock, stage_plan
from ssd.records import Problem
from ssd.sft import SFTRecipe

PROBLEMS = {"p": Problem("p", "t", "q", "stdin", [])}


def lines(out: io.StringIO) -> list[str]:
    return out.getvalue().splitlines()


def test_stage_lines_count_the_plan_and_rescale_the_eta_by_measured_speed(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(runner.time, "time", lambda: now[0])
    out = io.StringIO()
    clock = StageClock([("a", 10.0), ("b", 20.0)], out=out)
    with clock.stage("a"):
        now[0] = 30.0  # three times slower than estimated
    with clock.stage("b"):
        pass
    assert lines(out) == ["[stage 1/2] a ... elapsed 0m00s, ETA 0m30s", "[stage 2/2] b ... elapsed 0m30s, ETA 1m00s"]


def test_stages_read_from_the_cache_say_nothing_about_speed(monkeypatch):
    monkeypatch.setattr(runner.time, "time", lambda: 0.0)
    out = io.StringIO()
    clock = StageClock([("a", 10.0), ("b", 20.0)], out=out)
    with clock.stage("a"):
        pass
    with clock.stage("b"):
        pass
    assert lines(out)[1] == "[stage 2/2] b ... elapsed 0m00s, ETA 0m20s"


def test_without_estimates_the_eta_is_the_mean_measured_stage_time(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(runner.time, "time", lambda: now[0])
    out = io.StringIO()
    clock = StageClock([("a", None), ("b", None), ("c", None)], out=out)
    with clock.stage("a"):
        now[0] = 60.0
    with clock.stage("b"):
        pass
    assert lines(out) == ["[stage 1/3] a ... elapsed 0m00s, ETA unknown",
                          "[stage 2/3] b ... elapsed 1m00s, ETA 2m00s"]


def test_the_plan_makes_a_shared_student_once_and_evaluates_every_decoding_and_problem_set():
    cfg = RunConfig(problems={"val": PROBLEMS, "eval": PROBLEMS}, prompt_style="paper", root="runs")
    recipe = SSDRecipe(PROBLEMS, DecodingConfig(temperature=1.5), SFTRecipe(max_steps=1))
    arms = [Arm("base", "m", {"T1": DecodingConfig()}, problems=("val",)),
            Arm("ssd", "m", {"T1": DecodingConfig(), "T2": DecodingConfig(temperature=2.0)}, ssd=recipe,
                checkpoints=(5,)),
            Arm("ssd-again", "m", {"T1": DecodingConfig()}, ssd=recipe, problems=("eval",))]
    assert [(s.kind, s.label) for s in stage_plan(cfg, arms)] == [
        ("evaluate", "base: T1 on val"), ("synthesis", "ssd: SSD synthesis"), ("sft", "ssd: SFT"),
        ("evaluate", "ssd: T1 on val"), ("evaluate", "ssd: T1 on eval"), ("evaluate", "ssd: T1@5 on val"),
        ("evaluate", "ssd: T1@5 on eval"), ("evaluate", "ssd: T2 on val"), ("evaluate", "ssd: T2 on eval"),
        ("evaluate", "ssd: T2@5 on val"), ("evaluate", "ssd: T2@5 on eval"), ("evaluate", "ssd-again: T1 on eval")]


def test_independent_jobs_fill_the_cache_in_processes_with_the_results_of_one_in_process_run(tmp_path):
    from ssd.models.tiny import TinySpec, create_model, train_tokenizer
    from ssd.runtime import run_in_processes

    questions = ["Read n and print n + 1.", "Print hello.", "Read a word and print its length."]
    problems = {f"p{i}": Problem(f"p{i}", "test", q, "stdin", [{"input": "1\n", "output": "2\n"}])
                for i, q in enumerate(questions)}
    texts = questions + ["```python\nprint(int(input()) + 1)\n```"] * 5
    model = create_model(train_tokenizer(texts, vocab_size=300), tmp_path / "model",
                         TinySpec(hidden_size=32, intermediate_size=64, head_dim=8, num_attention_heads=2,
                                  num_key_value_heads=1), seed=0)
    recipe = SSDRecipe(problems, DecodingConfig(temperature=1.5, max_tokens=8),
                       SFTRecipe(max_steps=2, micro_batch_size=2, max_seq_len=256, warmup_steps=0, progress=False),
                       sample_filter="none")
    warm, hot = DecodingConfig(temperature=0.8, max_tokens=8, n=2), DecodingConfig(temperature=1.2, max_tokens=8, n=2)
    arms = [Arm("base", model, {"warm": warm, "same as warm": warm, "hot": hot}),
            Arm("ssd", model, {"warm": warm}, ssd=recipe), Arm("ssd again", model, {"hot": hot}, ssd=recipe)]

    def config(root):
        return RunConfig(problems={"val": problems}, prompt_style="paper", root=root, workers=1)
    jobs = runner.independent_jobs(config(tmp_path / "parallel"), arms)
    assert len(jobs) == 3  # one student serving two arms; two distinct base decodings
    run_in_processes(jobs, threads=2)
    filled = sorted(p.name for p in (tmp_path / "parallel").iterdir())
    parallel = runner.run_experiment(config(tmp_path / "parallel"), arms)
    assert sorted(p.name for p in (tmp_path / "parallel").iterdir()) == filled  # every stage was read
    serial = runner.run_experiment(config(tmp_path / "serial"), arms)
    assert filled == sorted(p.name for p in (tmp_path / "serial").iterdir())
    for label in serial:
        for name, by_set in serial[label].evaluations.items():
            ours = parallel[label].evaluations[name]["val"]
            assert [x.completion for x in ours.samples] == [x.completion for x in by_set["val"].samples]
            assert ours.verdicts == by_set["val"].verdicts
