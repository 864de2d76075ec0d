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
