"""Checks by execution in the sandbox: the generator's labels, and exact pass@1 against sampling.

Guarantees:
- `verify_by_execution(problems)` grades, for each problem, every success path (each must pass all tests), the
  popular fork line of a fragile problem (must pass the visible tests and fail the hidden ones), every other
  single-decision mistake (each must fail), through ssd.grading.grade_samples; it returns the counts and the
  list of violations (empty when the labels hold).
- `sampled_pass_rate(problems, design, policy, n, seed)` draws n completions per problem from the generator's
  true distributions under a decode policy (vLLM order) and grades them in the sandbox: the sampling estimate
  that the exact value of exact.py must match within its binomial interval.
Does not: run generated code outside the sandbox.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from theory.decoding import decode_distribution
from ssd.config import DecodingConfig
from ssd.generation import make_backend
from ssd.grading import grade_samples, make_limits
from ssd.records import Problem, Sample
from ssd.studies.control.benchmark import (
    FORK_LINES, KIND_BY_NAME, LOCK_OPS, Design, completion_lines, completion_text, fork_distribution,
    fork_successes, lock_distribution,
)
from ssd.studies.control.corpus import prompt_text


def _sample(problem: Problem, index: int, lines: list[str]) -> Sample:
    return Sample(problem.id, index, problem.question, completion_text(lines), "stop", len(lines), {})


def _grade(samples: list[Sample], problems: list[Problem], workers: int):
    by_id = {p.id: p for p in problems}
    return grade_samples(samples, by_id, workers=workers, limits=make_limits(2.0, program_timeout=10.0))


def verify_by_execution(problems: list[Problem], workers: int = 2) -> dict:
    """Grade every labelled program variant of `problems`; see the module docstring."""
    samples, expect, visible_problems = [], [], []
    for problem in problems:
        kind = KIND_BY_NAME[problem.metadata["fork_kind"]]
        locks = problem.metadata["locks"]
        successes = set(fork_successes(kind))
        for line in FORK_LINES:
            samples.append(_sample(problem, len(samples), completion_lines(line, locks)))
            expect.append((line in successes, problem.id, f"fork {line!r}"))
        for i in range(len(locks)):
            for op in LOCK_OPS:
                if op.line != locks[i]:
                    wrong = locks[:i] + [op.line] + locks[i + 1:]
                    samples.append(_sample(problem, len(samples), completion_lines(kind.correct[0], wrong)))
                    expect.append((False, problem.id, f"lock {i} {op.line!r}"))
        if kind.family == "fragile":
            visible = dataclasses.replace(problem, id=problem.id + "/visible",
                                          tests=problem.tests[:problem.metadata["visible_tests"]])
            visible_problems.append(visible)
            samples.append(_sample(visible, len(samples), completion_lines(kind.popular, locks)))
            expect.append((True, visible.id, f"popular {kind.popular!r} on the visible tests"))
    verdicts = _grade(samples, problems + visible_problems, workers)
    violations = [f"{pid} {what}: expected {'pass' if ok else 'fail'}, got {v.status}"
                  for v, (ok, pid, what) in zip(verdicts, expect) if (v.status == "passed") != ok]
    return {"problems": len(problems), "programs": len(verdicts), "violations": violations}


def sampled_pass_rate(problems: list[Problem], design: Design, temperature: float, top_k: int, top_p: float,
                      n: int, seed: int = 0, workers: int = 2) -> float:
    """Fraction of n sampled completions per problem (true distributions, vLLM-order policy) that pass."""
    rng = np.random.default_rng(seed)

    def draw(dist: dict[str, float]) -> str:
        lines = list(dist)
        logits = np.log(np.asarray([dist[line] for line in lines]))
        probs = decode_distribution(logits, temperature=temperature, top_k=top_k, top_p=top_p, tiebreak=True)
        return lines[int(rng.choice(len(lines), p=probs / probs.sum()))]

    samples = []
    for problem in problems:
        kind = KIND_BY_NAME[problem.metadata["fork_kind"]]
        for _ in range(n):
            fork = draw(fork_distribution(design, kind))
            locks = [draw(lock_distribution(design, line)) for line in problem.metadata["locks"]]
            samples.append(_sample(problem, len(samples), completion_lines(fork, locks)))
    verdicts = _grade(samples, problems, workers)
    return float(np.mean([v.status == "passed" for v in verdicts]))


def sampled_model_pass_rate(model, problems: list[Problem], temperature: float, top_k: int, top_p: float, n: int,
                            seed: int = 0, workers: int = 2) -> float:
    """Fraction of n completions per problem sampled from a model through the package's generation backend
    (vLLM-order decoding) that pass in the sandbox: the sampling estimate of exact.py's value for that model."""
    backend = make_backend("transformers", str(model), batch_size=512)
    decoding = DecodingConfig(temperature=temperature, top_k=top_k, top_p=top_p, max_tokens=16, n=n, seed=seed)
    prompts = [prompt_text(p) for p in problems]
    samples = [Sample(p.id, j, prompt, c.text, c.finish_reason, c.n_tokens, decoding.record(), seed)
               for p, prompt, row in zip(problems, prompts, backend.generate(prompts, decoding))
               for j, c in enumerate(row)]
    verdicts = _grade(samples, problems, workers)
    return float(np.mean([v.status == "passed" for v in verdicts]))
