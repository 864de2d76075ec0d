"""Evaluation of one model and decoding on testbed problems: generate (ssd.experiment.steps), grade once per
distinct program (ssd.grading), summarise (ssd.metrics).

Guarantees:
- Generation is `ssd.experiment.steps.generate`: stage-cached and resumable, the same path every experiment uses.
- Grading runs every distinct (problem, extracted program) once in the sandbox and gives each sample the
  verdict of its program; `no_code` samples are never executed. Grading is deterministic for these pure
  problems, so this equals grading every sample, at a fraction of the sandbox time (a tiny model at low
  temperature repeats itself). Verdicts are cached in a stage keyed by the samples and problems.
- `Result` carries the summary of `ssd.metrics.summarize` (pass@k with bootstrap intervals, overall and per
  difficulty) and the verdicts for paired comparisons.

Does not: execute anything outside `ssd.grading`, or choose decoding settings.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ssd.cache import Stage, file_hash, problems_identity, read_manifest
from ssd.config import DecodingConfig
from ssd.experiment.steps import generate, read_samples
from ssd.grading import extract_code, grade_samples
from ssd.metrics import summarize
from ssd.records import Problem, Sample, Verdict, read_jsonl, write_jsonl


@dataclasses.dataclass
class Result:
    samples: list[Sample]
    verdicts: list[Verdict]
    summary: dict[str, Any]
    distinct_programs: int
    stage_dirs: tuple[Path, ...] = ()

    def metric(self, k: int = 1, difficulty: str | None = None) -> float:
        block = self.summary["by_difficulty"][difficulty] if difficulty else self.summary["pass_at_k"]
        return block[f"pass@{k}"]["value"]


def grade_distinct(samples: list[Sample], problems: dict[str, Problem], workers: int) -> tuple[list[Verdict], int]:
    """Verdicts in sample order, running each distinct (problem, program) once; also the distinct count."""
    first: dict[tuple[str, str | None], int] = {}
    for i, s in enumerate(samples):
        first.setdefault((s.problem_id, extract_code(s.completion)), i)
    unique = list(first.values())
    graded = grade_samples([samples[i] for i in unique], problems, workers=workers)
    by_key = {k: v for k, v in zip(first, graded)}
    verdicts = []
    for s in samples:
        v = by_key[(s.problem_id, extract_code(s.completion))]
        verdicts.append(dataclasses.replace(v, problem_id=s.problem_id, sample_index=s.sample_index))
    return verdicts, len(unique)


def evaluate(model: str | Path, problems: list[Problem], decoding: DecodingConfig, *, prompt_style: str,
             root: str | Path, workers: int = 2, batch_size: int = 64, ks: tuple[int, ...] = (1, 5)) -> Result:
    by_id = {p.id: p for p in problems}
    samples_dir = generate(model, by_id, decoding, prompt_style=prompt_style, root=root,
                           backend_options={"batch_size": batch_size}, stage_name="testbed-generate")
    samples = read_samples(samples_dir)
    stage = Stage(root, "testbed-verdicts", {"grader": "ssd.grading", "dedupe": "extracted-program"},
                  inputs={"samples": file_hash(samples_dir), "problems": problems_identity(by_id)})
    path = stage.dir / "verdicts.jsonl"
    if stage.complete:
        verdicts = list(read_jsonl(path, Verdict))
        distinct = stage_meta(stage.dir)["distinct_programs"]
    else:
        with stage:
            verdicts, distinct = grade_distinct(samples, by_id, workers)
            write_jsonl(path, verdicts)
            stage.finish({"distinct_programs": distinct, "n_verdicts": len(verdicts)})
    ks = tuple(k for k in ks if k <= decoding.n)
    return Result(samples, verdicts, summarize(verdicts, by_id, ks=ks, samples=samples), distinct,
                  (Path(samples_dir), stage.dir))


def stage_meta(directory: Path) -> dict[str, Any]:
    return read_manifest(directory) or {}
