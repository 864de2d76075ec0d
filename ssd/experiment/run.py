"""The one experiment runner: `run_experiment(cfg, arms)`.

An arm is a model, a grid of evaluation decodings and, for an SSD arm, the recipe that turns the model into
its SSD student (synthesis on a prompt pool -> selection of the SFT data -> SFT). Every study (the paper
configs, the CPU testbed, SmolLM, the positive control) is a list of arms plus its own report.

Guarantees:
- Every stage goes through `ssd.experiment.steps` (stage-cached, resumable); arms that share a recipe share
  its stages, and the runner makes each student once per call.
- Each evaluation is `decoding.n` samples per problem of each problem set of `cfg.problems` (or the arm's
  `problems`), graded in the sandbox under `cfg.semantics`, summarised as pass@k with intervals and health.
- `independent_jobs(cfg, arms)` cuts the same work into jobs that share no stage (one per SSD student, one per
  distinct evaluation of an arm without SSD); run side by side (`ssd.runtime.run_in_processes`), they fill the
  cache that `run_experiment(cfg, arms)` then reads. Stage outputs depend on their keys only, so the results are
  the same either way.
- `stage_plan(cfg, arms)` lists the stages in run order; the runner prints one line per stage on stderr,
  `[stage 7/31] ssd@T0.7: sft ... elapsed 3m12s, ETA 9m05s`, the ETA from the measured stages (or from
  per-stage estimates a study passes in), ignoring stages read from the cache.

Does not: choose decodings or checkpoints, or write results (studies do, through `ssd.experiment.report`).
"""
from __future__ import annotations

import dataclasses
import functools
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from ssd.config import ConfigError, DecodingConfig
from ssd.experiment.steps import (
    Evaluation, evaluate, finetune, generate, intermediate_checkpoint, select_training_data, synthesize,
)
from ssd.records import Problem
from ssd.sft import SFTRecipe

CACHED_BELOW_SECONDS = 2.0  # a stage this fast was read from the cache and says nothing about speed


@dataclasses.dataclass(frozen=True)
class SSDRecipe:
    """How an arm's model becomes its SSD student: one raw sample per prompt (Eq. 1), selection, SFT (Eq. 2)."""

    prompts: Mapping[str, Problem]  # the unlabeled prompt pool
    synthesis: DecodingConfig  # n = 1, at T_train with the training-time truncation
    sft: SFTRecipe | None  # None: stop after synthesis
    sample_filter: str = "stubs"  # ssd.data.pools.select_samples rule
    launcher: tuple[str, ...] = ()  # e.g. (accelerate, launch, ...): the distributed engine, one process per GPU


@dataclasses.dataclass(frozen=True)
class Arm:
    label: str
    model: str | Path  # hub id or local folder: the evaluated model, or the teacher of an SSD arm
    decodings: Mapping[str, DecodingConfig] = dataclasses.field(default_factory=dict)  # name -> eval decoding
    ssd: SSDRecipe | None = None
    checkpoints: tuple[int, ...] = ()  # extra SFT steps of an SSD arm to evaluate, as "<decoding>@<step>"
    problems: tuple[str, ...] = ()  # names of `cfg.problems` to evaluate on; empty: all


@dataclasses.dataclass
class RunConfig:
    """What every arm of one run shares."""

    problems: Mapping[str, Mapping[str, Problem]]  # problem set name -> problems
    prompt_style: str
    root: str | Path  # the stage cache
    backend: str = "transformers"
    backend_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    template_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # chat-template variables
    ks: tuple[int, ...] = (1, 5)
    workers: int = 2
    semantics: str = "strict"  # grading rules (ssd.grading)
    eval_stage: str = "eval-generate"  # stage name of the evaluation generations
    generate_only: bool = False  # sample the evaluations without grading them (e.g. one arm per core)
    progress: StageClock | None = None  # shared across calls; default: a clock for this call's plan


@dataclasses.dataclass
class ArmResult:
    arm: Arm
    model: str | Path  # the evaluated model: the arm's, or its SSD student
    stages: dict[str, Path]  # ssd_samples, sft_data, sft (SSD arms)
    evaluations: dict[str, dict[str, Evaluation]]  # decoding name -> problem set -> Evaluation
    samples: dict[str, dict[str, Path]]  # decoding name -> problem set -> generation stage


@dataclasses.dataclass(frozen=True)
class PlannedStage:
    kind: str  # synthesis | sft | evaluate
    label: str


def _problem_sets(cfg: RunConfig, arm: Arm) -> list[str]:
    unknown = [name for name in arm.problems if name not in cfg.problems]
    if unknown:
        raise ConfigError(f"arm {arm.label}: problems: unknown problem set {unknown[0]!r} "
                          f"(known: {sorted(cfg.problems)})")
    return list(arm.problems or cfg.problems)


def _evaluated(arm: Arm) -> list[tuple[str, str, int | None]]:
    """(name, decoding name, SFT step or None for the final model) of every evaluation of `arm`."""
    out = []
    for name in arm.decodings:
        out.append((name, name, None))
        out += [(f"{name}@{step}", name, step) for step in arm.checkpoints]
    return out


def _student_key(arm: Arm) -> tuple[str, SSDRecipe | None]:
    return str(arm.model), arm.ssd


def stage_plan(cfg: RunConfig, arms: Sequence[Arm]) -> list[PlannedStage]:
    """The stages `run_experiment(cfg, arms)` runs, in order (a student shared by several arms once)."""
    plan, students = [], []
    for arm in arms:
        if arm.ssd is not None and _student_key(arm) not in students:
            students.append(_student_key(arm))
            plan.append(PlannedStage("synthesis", f"{arm.label}: SSD synthesis"))
            if arm.ssd.sft is not None:
                plan.append(PlannedStage("sft", f"{arm.label}: SFT"))
        plan += [PlannedStage("evaluate", f"{arm.label}: {name} on {problems}")
                 for name, _, _ in _evaluated(arm) for problems in _problem_sets(cfg, arm)]
    return plan


def run_experiment(cfg: RunConfig, arms: Sequence[Arm]) -> dict[str, ArmResult]:
    """Run (or read from the cache) every stage of every arm, in order; returns each arm's result by label."""
    labels = [arm.label for arm in arms]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"arms: labels must be unique, got {labels}")
    clock = cfg.progress or StageClock([(stage.label, None) for stage in stage_plan(cfg, arms)])
    common = {"prompt_style": cfg.prompt_style, "backend": cfg.backend, "backend_options": cfg.backend_options,
              "root": cfg.root, "template_kwargs": cfg.template_kwargs}
    students: list[tuple[tuple[str, SSDRecipe | None], str | Path, dict[str, Path]]] = []
    results: dict[str, ArmResult] = {}
    for arm in arms:
        model, stages = arm.model, {}
        if arm.ssd is not None:
            made = [(m, s) for key, m, s in students if key == _student_key(arm)]
            if made:
                model, stages = made[0]
            else:
                model, stages = _make_student(arm, cfg, clock, common)
                students.append((_student_key(arm), model, stages))
        result = ArmResult(arm, model, stages, {}, {})
        for name, decoding_name, step in _evaluated(arm):
            checkpoint = model if step is None else intermediate_checkpoint(model, step)
            decoding = arm.decodings[decoding_name]
            for problem_set in _problem_sets(cfg, arm):
                problems = cfg.problems[problem_set]
                with clock.stage(f"{arm.label}: {name} on {problem_set}"):
                    if cfg.generate_only:
                        samples = generate(checkpoint, problems, decoding, stage_name=cfg.eval_stage, **common)
                        result.samples.setdefault(name, {})[problem_set] = samples
                        continue
                    evaluation = evaluate(checkpoint, problems, decoding, ks=cfg.ks, workers=cfg.workers,
                                          semantics=cfg.semantics, stage_name=cfg.eval_stage, **common)
                result.evaluations.setdefault(name, {})[problem_set] = evaluation
                result.samples.setdefault(name, {})[problem_set] = evaluation.samples_dir
        results[arm.label] = result
    return results


def independent_jobs(cfg: RunConfig, arms: Sequence[Arm]) -> list[Callable[[], None]]:
    """`run_experiment(cfg, arms)` as jobs that share no stage, the SSD students first (the longest): one job per
    student with every arm it serves, and one per distinct (model, decoding, problem sets) of the arms without
    SSD. Each job runs with its own progress lines."""
    student_groups: list[tuple[tuple[str, SSDRecipe | None], list[Arm]]] = []
    evaluations: dict[tuple[str, str, tuple[str, ...]], Arm] = {}
    for arm in arms:
        if arm.ssd is not None:
            group = next((g for key, g in student_groups if key == _student_key(arm)), None)
            if group is None:
                student_groups.append((_student_key(arm), group := []))
            group.append(arm)
            continue
        for name, decoding in arm.decodings.items():
            evaluations.setdefault((str(arm.model), repr(decoding), arm.problems),
                                   dataclasses.replace(arm, decodings={name: decoding}))
    job_cfg = dataclasses.replace(cfg, progress=None)
    return [functools.partial(_fill_cache, job_cfg, group) for group in
            [*(g for _, g in student_groups), *([arm] for arm in evaluations.values())]]


def _fill_cache(cfg: RunConfig, arms: list[Arm]) -> None:
    run_experiment(cfg, arms)


def _make_student(arm: Arm, cfg: RunConfig, clock: StageClock,
                  common: dict[str, Any]) -> tuple[str | Path, dict[str, Path]]:
    recipe = arm.ssd
    with clock.stage(f"{arm.label}: SSD synthesis"):
        samples = synthesize(arm.model, recipe.prompts, recipe.synthesis, **common)
    stages = {"ssd_samples": samples}
    if recipe.sft is None:
        return arm.model, stages
    with clock.stage(f"{arm.label}: SFT"):
        data = select_training_data(samples, recipe.sample_filter, root=cfg.root)
        checkpoint = finetune(arm.model, data, recipe.sft, root=cfg.root, launcher=recipe.launcher)
    return checkpoint, {**stages, "sft_data": data.parent, "sft": checkpoint}


def hms(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m{rest % 60:02d}s" if hours else f"{rest // 60}m{rest % 60:02d}s"


class StageClock:
    """Stage-level progress on stderr: `[stage i/N] label ... elapsed E, ETA R` when a stage starts.

    `plan` lists (label, estimated seconds or None) in run order. The ETA of the stages left is their
    estimates scaled by how much slower or faster the measured stages ran than estimated; without estimates,
    the mean measured stage time times the stages left. Stages faster than CACHED_BELOW_SECONDS were read
    from the cache and are not measured. A stage not in the plan extends it.
    """

    def __init__(self, plan: Sequence[tuple[str, float | None]], out: Any = None):
        self.plan = list(plan)
        self.done = 0
        self.started = time.time()
        self.spent = self.estimated_spent = 0.0
        self.measured: list[float] = []
        self.out = out

    def eta(self) -> float | None:
        left = [estimate for _, estimate in self.plan[self.done:]]
        if left and all(estimate is not None for estimate in left):
            speed = self.spent / self.estimated_spent if self.estimated_spent else 1.0
            return speed * sum(left)
        return sum(self.measured) / len(self.measured) * len(left) if self.measured else None

    @contextmanager
    def stage(self, label: str) -> Iterator[None]:
        if self.done >= len(self.plan):
            self.plan.append((label, None))
        eta = self.eta()
        print(f"[stage {self.done + 1}/{len(self.plan)}] {label} ... elapsed {hms(time.time() - self.started)}, "
              f"ETA {hms(eta) if eta is not None else 'unknown'}", file=self.out or sys.stderr, flush=True)
        t0 = time.time()
        yield
        seconds = time.time() - t0
        if seconds >= CACHED_BELOW_SECONDS:
            self.measured.append(seconds)
            self.spent += seconds
            self.estimated_spent += self.plan[self.done][1] or 0.0
        self.done += 1
