"""The SSD stage chain that every experiment runs through: base evaluation -> SSD data synthesis -> SFT ->
SSD evaluation -> results.

Guarantees:
- Each step is its own function (`generate`, `grade`, `evaluate`, `synthesize`, `finetune`) so sweeps and
  grids can call them one by one; `run_experiment` chains them for one `ExperimentConfig`.
- Every step runs inside an `ssd.stages.Stage` folder keyed by its resolved config and the identity of its
  inputs (model, problems, samples). A complete stage is reused as is; an interrupted one is resumed by the
  module that does the work (generation and SFT resume at record / checkpoint granularity).
- A model is named by `model_identity`: a hub id as given, a stage output by its stage folder name, any
  other local folder by a hash of its files, so a changed checkpoint never hits a stale cache.
- `run_experiment` writes `results/<experiment>/summary.json` and `report.md`: pass@k with intervals per
  benchmark and difficulty, run health, a paired base-vs-SSD comparison and every stage's provenance.

Does not: generate, train or grade by itself (ssd.synthesis, ssd.sft and ssd.grading do), run generated
code outside the sandbox, or select checkpoints on the test set unless asked (`ssd_eval_checkpoints`).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Mapping

from ssd.config import ConfigError, DecodingConfig, resolved
from ssd.records import Problem, Sample, Verdict, read_jsonl, to_dict, write_jsonl
from ssd.stages import Stage, atomic_write_json, config_hash, file_hash, is_complete

HEAD_TAIL_BYTES = 4 << 20  # files above LARGE_FILE_BYTES are fingerprinted by size, head and tail
LARGE_FILE_BYTES = 256 << 20


@dataclasses.dataclass
class Evaluation:
    """What `evaluate` returns: the graded samples of one model on one problem set."""

    samples: list[Sample]
    verdicts: list[Verdict]
    summary: dict[str, Any]
    health: dict[str, float]
    samples_dir: Path
    verdicts_dir: Path


# ---------------------------------------------------------------------------------------------- identity

def _fingerprint_dir(path: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(q for q in path.rglob("*") if q.is_file()):
        size = p.stat().st_size
        h.update(f"{p.relative_to(path)}:{size}".encode())
        with p.open("rb") as fh:
            if size <= LARGE_FILE_BYTES:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            else:
                h.update(fh.read(HEAD_TAIL_BYTES))
                fh.seek(size - HEAD_TAIL_BYTES)
                h.update(fh.read(HEAD_TAIL_BYTES))
    return h.hexdigest()[:16]


def model_identity(model: str | Path) -> str:
    """A cache key for a model: `hub:<id>`, `stage:<folder>` for a stage output, else `dir:<hash>`."""
    path = Path(model)
    if not path.exists():
        if str(model).startswith((".", "/")):
            raise ConfigError(f"model {model}: local path not found")
        return f"hub:{model}"
    for parent in (path, *path.parents[:2]):
        if is_complete(parent):
            return f"stage:{parent.name}/{path.relative_to(parent)}"
    return f"dir:{_fingerprint_dir(path)}"


def problems_identity(problems: Mapping[str, Problem]) -> str:
    return config_hash([to_dict(problems[k]) for k in sorted(problems)], length=16)


def as_problem_dict(problems: Mapping[str, Problem] | Iterable[Problem]) -> dict[str, Problem]:
    if isinstance(problems, Mapping):
        return dict(problems)
    out: dict[str, Problem] = {}
    for p in problems:
        if p.id in out:
            raise ConfigError(f"problem {p.id!r}: duplicate id")
        out[p.id] = p
    return out


# ---------------------------------------------------------------------------------------------- steps

def _make_backend(backend: Any, model: str | Path, backend_options: Mapping[str, Any]):
    if not isinstance(backend, str):
        return backend
    from ssd.generation import make_backend  # noqa: PLC0415 - torch/vLLM are heavy

    return make_backend(backend, str(model), **dict(backend_options))


def _backend_name(backend: Any) -> str:
    return backend if isinstance(backend, str) else getattr(backend, "name", type(backend).__name__)


def read_samples(directory: str | Path) -> list[Sample]:
    """All sample records under a generation stage folder, in (problem, index) order."""
    files = sorted(Path(directory).glob("*.jsonl"))
    samples = [s for f in files for s in read_jsonl(f, Sample)]
    return sorted(samples, key=lambda s: (s.problem_id, s.sample_index))


def generate(
    model: str | Path,
    problems: Mapping[str, Problem] | Iterable[Problem],
    decoding: DecodingConfig,
    *,
    prompt_style: str,
    backend: Any = "transformers",
    backend_options: Mapping[str, Any] | None = None,
    root: str | Path = "runs",
    stage_name: str = "generate",
) -> Path:
    """Sample `decoding.n` completions per problem (resumable); returns the stage folder of sample shards."""
    problems = as_problem_dict(problems)
    options = dict(backend_options or {})
    config = {
        "model": model_identity(model), "decoding": resolved(decoding), "prompt_style": prompt_style,
        "backend": _backend_name(backend), "backend_options": options,
    }
    stage = Stage(root, stage_name, config, inputs={"problems": problems_identity(problems)},
                  seeds=[decoding.seed])
    if stage.complete:
        return stage.dir
    from ssd.synthesis import generate_samples  # noqa: PLC0415

    with stage:
        engine = _make_backend(backend, model, options)
        generate_samples(engine, list(problems.values()), prompt_style=prompt_style,
                         tokenizer=getattr(engine, "tokenizer", None), decoding=decoding, out_dir=stage.dir)
        stage.finish({"n_samples": len(read_samples(stage.dir))})
    return stage.dir


def grade(
    samples_dir: str | Path,
    problems: Mapping[str, Problem] | Iterable[Problem],
    *,
    root: str | Path = "runs",
    workers: int = 2,
) -> tuple[list[Verdict], Path]:
    """Grade every sample of a generation stage in the sandbox; verdicts are cached by sample content."""
    problems = as_problem_dict(problems)
    samples_dir = Path(samples_dir)
    stage = Stage(root, "verdicts", {"grader": "ssd.grading"},
                  inputs={"samples": file_hash(samples_dir), "problems": problems_identity(problems)})
    path = stage.dir / "verdicts.jsonl"
    if stage.complete:
        return list(read_jsonl(path, Verdict)), stage.dir
    from ssd.grading import grade_samples  # noqa: PLC0415

    with stage:
        verdicts = grade_samples(read_samples(samples_dir), problems, workers=workers)
        write_jsonl(path, verdicts)
        stage.finish({"n_verdicts": len(verdicts)})
    return verdicts, stage.dir


def run_health(samples: list[Sample], verdicts: list[Verdict]) -> dict[str, float]:
    """No-code rate, max-token hits and EOS rate (DESIGN.md run health), as fractions of all samples."""
    n = max(len(samples), 1)
    finish = Counter(s.finish_reason for s in samples)
    status = Counter(v.status for v in verdicts)
    return {
        "samples": len(samples),
        "no_code_rate": status["no_code"] / n,
        "max_token_rate": finish["length"] / n,
        "eos_rate": finish["stop"] / n,
        "harness_error_rate": status["harness_error"] / n,
        "mean_completion_tokens": sum(s.n_completion_tokens for s in samples) / n,
    }


def evaluate(
    model: str | Path,
    problems: Mapping[str, Problem] | Iterable[Problem],
    decoding: DecodingConfig,
    *,
    prompt_style: str,
    ks: Iterable[int] = (1, 5),
    backend: Any = "transformers",
    backend_options: Mapping[str, Any] | None = None,
    root: str | Path = "runs",
    workers: int = 2,
) -> Evaluation:
    """Generate `decoding.n` samples per problem, grade them, and summarise pass@k with intervals."""
    from ssd.metrics import summarize  # noqa: PLC0415

    problems = as_problem_dict(problems)
    ks = [k for k in ks if k <= decoding.n]
    samples_dir = generate(model, problems, decoding, prompt_style=prompt_style, backend=backend,
                           backend_options=backend_options, root=root, stage_name="eval-generate")
    verdicts, verdicts_dir = grade(samples_dir, problems, root=root, workers=workers)
    samples = read_samples(samples_dir)
    return Evaluation(samples, verdicts, summarize(verdicts, problems, ks=tuple(ks)),
                      run_health(samples, verdicts), samples_dir, verdicts_dir)


def synthesize(
    model: str | Path,
    prompts: Mapping[str, Problem] | Iterable[Problem],
    decoding: DecodingConfig,
    *,
    prompt_style: str,
    backend: Any = "transformers",
    backend_options: Mapping[str, Any] | None = None,
    root: str | Path = "runs",
) -> Path:
    """SSD data: one raw, unverified sample per prompt from the frozen model (Eq. 1); returns the stage."""
    if decoding.n != 1:
        raise ConfigError(f"synthesis decoding n: the paper samples N=1 per prompt, got {decoding.n}")
    return generate(model, prompts, decoding, prompt_style=prompt_style, backend=backend,
                    backend_options=backend_options, root=root, stage_name="ssd-samples")


def finetune(model: str | Path, samples_dir: str | Path, sft: Any, *, root: str | Path = "runs") -> Path:
    """Plain SFT of `model` on the synthesized samples (Eq. 2); returns the checkpoint folder."""
    from ssd.sft import train  # noqa: PLC0415

    config = {k: v for k, v in sft.identity().items() if k not in ("model", "data", "output_dir")}
    stage = Stage(root, "sft", config,
                  inputs={"model": model_identity(model), "data": file_hash(samples_dir)},
                  seeds=[getattr(sft, "seed", 0)])
    checkpoint = stage.dir / "model"
    if stage.complete:
        return checkpoint
    with stage:
        cfg = dataclasses.replace(sft, model=str(model), data=str(samples_dir), output_dir=str(checkpoint))
        out = Path(train(cfg))
        stage.finish({"checkpoint": str(out)})
    return out


# ---------------------------------------------------------------------------------------------- results

def comparison_report(base: Evaluation, ssd: Evaluation, problems: Mapping[str, Problem],
                      ks: Iterable[int]) -> dict[str, Any]:
    """Per-k paired base-vs-SSD comparison on identical problems (ssd.metrics.paired_comparison)."""
    from ssd.metrics import paired_comparison  # noqa: PLC0415

    n = min(len(base.samples), len(ssd.samples))
    return {str(k): paired_comparison(base.verdicts, ssd.verdicts, dict(problems), k) for k in ks if n}


def write_results(out_dir: str | Path, name: str, results: dict[str, Any]) -> Path:
    """`summary.json` (machine readable) and `report.md` (human readable) for one experiment."""
    out_dir = Path(out_dir)
    atomic_write_json(out_dir / "summary.json", results)
    (out_dir / "report.md").write_text(render_report(name, results), encoding="utf-8")
    return out_dir


def _fmt(metric: Mapping[str, Any]) -> str:
    lo, hi = metric["ci"]
    return f"{100 * metric['value']:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"


def render_report(name: str, results: Mapping[str, Any]) -> str:
    lines = [f"# {name}", ""]
    for bench, res in results["benchmarks"].items():
        lines += [f"## {bench}", "", "| model | metric | all | " + " | ".join(res["difficulties"]) + " |",
                  "|---|---|---|" + "---|" * len(res["difficulties"])]
        for arm in ("base", "ssd"):
            if arm not in res:
                continue
            for k, metric in res[arm]["summary"]["overall"].items():
                per = res[arm]["summary"].get("by_difficulty", {})
                cells = [_fmt(per[d][k]) if d in per and k in per[d] else "-" for d in res["difficulties"]]
                lines.append(f"| {arm} | {k} | {_fmt(metric)} | " + " | ".join(cells) + " |")
        lines.append("")
        for arm in ("base", "ssd"):
            if arm in res:
                h = res[arm]["health"]
                lines.append(f"- {arm} health: no code {h['no_code_rate']:.1%}, max tokens hit "
                             f"{h['max_token_rate']:.1%}, EOS {h['eos_rate']:.1%}, "
                             f"mean completion {h['mean_completion_tokens']:.0f} tokens")
        if "paired" in res:
            lines += ["", "Paired base vs SSD (same problems):", "", "```",
                      json.dumps(res["paired"], indent=2, default=str), "```"]
        lines.append("")
    lines += ["## Provenance", "", "```", json.dumps(results.get("stages", {}), indent=2), "```", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- experiment

def load_benchmark(spec, base_dir: str | Path | None = None) -> dict[str, Problem]:
    """The problems of one `BenchmarkSpec` (LiveCodeBench file, HumanEval, or a JSONL of problems)."""
    from ssd import problems as sources  # noqa: PLC0415

    if spec.kind == "humaneval":
        return as_problem_dict(sources.load_humaneval())
    path = _resolve(spec.path, base_dir)
    loaded = (sources.load_livecodebench(path, spec.release) if spec.kind == "livecodebench"
              else sources.read_problems(path))
    return as_problem_dict(loaded)


def load_prompt_pool(spec, base_dir: str | Path | None = None) -> dict[str, Problem]:
    """The unlabeled prompts SSD samples from (rStar-Coder seed_sft, or a JSONL of problems)."""
    path = _resolve(spec.path, base_dir)
    if spec.kind == "rstar_seed_sft":
        from ssd.pools import load_rstar_seed  # noqa: PLC0415

        prompts = as_problem_dict(load_rstar_seed(path))
    else:
        from ssd.problems import read_problems  # noqa: PLC0415

        prompts = as_problem_dict(read_problems(path))
    if spec.limit:
        prompts = {k: prompts[k] for k in list(prompts)[: spec.limit]}
    return prompts


def _resolve(path: str, base_dir: str | Path | None) -> str:
    if base_dir is not None and not Path(path).is_absolute() and (Path(base_dir) / path).exists():
        return str(Path(base_dir) / path)
    return path


def _arm(evaluation: Evaluation) -> dict[str, Any]:
    return {"summary": evaluation.summary, "health": evaluation.health,
            "samples_stage": str(evaluation.samples_dir), "verdicts_stage": str(evaluation.verdicts_dir)}


def run_experiment(cfg, *, root: str | Path = "runs", results_root: str | Path = "results",
                   base_dir: str | Path | None = None) -> dict[str, Any]:
    """Run (or reuse) every stage of `cfg.plan()` and write `results/<name>/summary.json` and `report.md`."""
    from ssd.experiment import sft_config  # noqa: PLC0415 - avoid an import cycle at module load

    plan = cfg.plan()
    model = cfg.model.source
    common = {"prompt_style": cfg.prompt_style, "backend": cfg.backend, "backend_options": cfg.backend_options,
              "root": root}
    benchmarks = {b.name: load_benchmark(b, base_dir) for b in cfg.benchmarks}
    results: dict[str, Any] = {"experiment": cfg.name, "config": resolved(cfg), "plan": plan,
                               "benchmarks": {name: {} for name in benchmarks}, "stages": {}}

    def eval_all(arm: str, checkpoint: str | Path) -> dict[str, Evaluation]:
        return {name: evaluate(checkpoint, problems, cfg.eval_decoding(arm), ks=cfg.ks,
                               workers=cfg.grading_workers, **common)
                for name, problems in benchmarks.items()}

    base = eval_all("base", model) if "base_eval" in plan else {}
    ssd: dict[str, Evaluation] = {}
    if "synthesis" in plan:
        samples_dir = synthesize(model, load_prompt_pool(cfg.prompt_pool, base_dir), cfg.synthesis(), **common)
        results["stages"]["ssd-samples"] = str(samples_dir)
    if "sft" in plan:
        checkpoint = finetune(model, samples_dir, sft_config(cfg), root=root)
        results["stages"]["sft"] = str(checkpoint)
    if "ssd_eval" in plan:
        ssd = eval_all("ssd", checkpoint)
        for step in cfg.ssd_eval_checkpoints:
            for name, ev in eval_all("ssd", intermediate_checkpoint(checkpoint, step)).items():
                results["benchmarks"][name].setdefault("ssd_by_step", {})[str(step)] = _arm(ev)
    for name, problems in benchmarks.items():
        entry = results["benchmarks"][name]
        entry["difficulties"] = sorted({p.difficulty for p in problems.values() if p.difficulty})
        if name in base:
            entry["base"] = _arm(base[name])
        if name in ssd:
            entry["ssd"] = _arm(ssd[name])
        if name in base and name in ssd:
            entry["paired"] = comparison_report(base[name], ssd[name], problems, cfg.ks)
    write_results(Path(results_root) / cfg.name, cfg.name, results)
    return results


def intermediate_checkpoint(final: str | Path, step: int) -> Path:
    """The HF folder that SFT saved at `step` (with `save_every`), next to the final checkpoint."""
    path = Path(final).parent / "checkpoints" / f"step-{step}"
    if not path.is_dir():
        raise ConfigError(f"ssd_eval_checkpoints: no checkpoint for step {step} at {path}")
    return path
