"""The SSD stage chain that every experiment runs through: base evaluation -> SSD data synthesis -> SFT ->
SSD evaluation -> results.

Guarantees:
- Each step is its own function (`generate`, `grade`, `evaluate`, `synthesize`, `select_training_data`,
  `finetune`) so sweeps and grids can call them one by one; `run_experiment` chains them for one
  `ssd.experiment.ExperimentConfig`.
- Every step writes one stage folder under `root`, named by a hash of its resolved config and the identity of
  its inputs (model, problems, upstream stage). A complete stage is reused as is; an interrupted one resumes
  through the module that does the work (generation per record, SFT from its latest checkpoint).
- A model is named by `model_identity`: a hub id as given, a stage output by its stage folder, any other
  local folder by a fingerprint of its files, so a changed checkpoint never hits a stale cache.
- `run_experiment` writes `results/<experiment>/summary.json` and `report.md`: pass@k with intervals per
  benchmark and difficulty, run health, a paired base-vs-SSD comparison, the stage folders (each with
  its manifest) and the run's own manifest (git commit and dirty flag, package versions, device). The primary (first) benchmark's pass@k is also at the top level as `base` / `ssd`.

Does not: generate, grade or train by itself (ssd.synthesis, ssd.grading and ssd.sft do), run generated
code outside the sandbox, or select a checkpoint on the test set (extra checkpoints are reported beside
the final one, under `ssd_by_step`).
"""
from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from ssd.config import ConfigError, DecodingConfig, resolved
from ssd.records import Problem, Sample, Verdict, read_jsonl, to_dict, write_jsonl
from ssd.stages import (
    Stage, atomic_write_json, config_hash, device_info, git_state, is_complete, package_versions,
)

LARGE_FILE_BYTES = 256 << 20  # larger files are fingerprinted by size, head and tail
HEAD_TAIL_BYTES = 4 << 20


@dataclasses.dataclass
class Evaluation:
    """What `evaluate` returns: one model's graded samples on one problem set."""

    samples: list[Sample]
    verdicts: list[Verdict]
    summary: dict[str, Any]  # ssd.metrics.summarize: pass_at_k, by_difficulty, health
    samples_dir: Path
    verdicts_dir: Path

    @property
    def health(self) -> dict[str, Any]:
        return self.summary["health"]


# ---------------------------------------------------------------------------------------------- identity

def fingerprint(path: Path) -> str:
    """sha256 over a file or a folder's files (names, sizes, contents; head and tail of very large files)."""
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(q for q in path.rglob("*") if q.is_file())
    for p in files:
        size = p.stat().st_size
        h.update(f"{p.relative_to(path) if p != path else p.name}:{size}".encode())
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
    """A cache key for a model or data path: `hub:<id>`; `stage:<folder>/<sub>` for something inside a
    complete stage folder (stage outputs are immutable); else `local:<fingerprint>`."""
    path = Path(model).expanduser()
    if not path.exists():
        if str(model).startswith((".", "/", "~")):
            raise ConfigError(f"{model}: local path not found")
        return f"hub:{model}"
    for parent in (path, *list(path.parents)[:2]):
        if parent.is_dir() and is_complete(parent):
            return f"stage:{parent.name}/{path.relative_to(parent)}"
    return f"local:{fingerprint(path)}"


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

def _backend_name(backend: Any) -> str:
    return backend if isinstance(backend, str) else backend.name


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
    """`decoding.n` samples per problem (resumable; ssd.synthesis); returns the stage folder of shards.

    `backend` is a name for `ssd.generation.make_backend(backend, model, **backend_options)`, or an already
    built `Backend` of `model` (sweeps reuse one engine across many calls).
    """
    problems = as_problem_dict(problems)
    options = dict(backend_options or {})
    tokenizer = backend.tokenizer if not isinstance(backend, str) else _load_tokenizer(model)
    config = {"model": model_identity(model), "decoding": resolved(decoding), "prompt_style": prompt_style,
              "backend": _backend_name(backend), "backend_options": options,
              "prompts": rendered_prompts_key(problems, prompt_style, tokenizer)}
    stage = Stage(root, stage_name, config, inputs={"problems": problems_identity(problems)})
    if stage.complete:
        return stage.dir
    from ssd.synthesis import generate_samples  # noqa: PLC0415 - torch / vLLM are heavy

    owned = isinstance(backend, str)
    if owned:
        from ssd.generation import make_backend  # noqa: PLC0415

        backend = make_backend(backend, str(model), **options)
    try:  # writes the stage manifest when complete
        generate_samples(backend, list(problems.values()), prompt_style=prompt_style, tokenizer=tokenizer,
                         decoding=decoding, out_dir=stage.dir)
    finally:
        if owned:  # an engine built here is freed here, before the next stage needs the GPUs
            del backend
            release_accelerator_memory()
    return stage.dir


def _load_tokenizer(model: str | Path) -> Any:
    from transformers import AutoTokenizer  # noqa: PLC0415

    return AutoTokenizer.from_pretrained(str(model))


def rendered_prompts_key(problems: Mapping[str, Problem], prompt_style: str, tokenizer: Any) -> str:
    """A hash of the exact prompt texts, so a change of template or prompt code is a new generation stage."""
    from ssd.prompts import build_prompt  # noqa: PLC0415

    return config_hash([[pid, build_prompt(p, prompt_style, tokenizer)] for pid, p in problems.items()], length=64)


def release_accelerator_memory() -> None:
    """Free what a finished engine held, so the next engine (or the SFT launcher's processes) has the GPUs."""
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def read_samples(samples_dir: str | Path) -> list[Sample]:
    from ssd.synthesis import read_shards  # noqa: PLC0415

    return read_shards(Path(samples_dir))


def grade(
    samples_dir: str | Path,
    problems: Mapping[str, Problem] | Iterable[Problem],
    *,
    root: str | Path = "runs",
    workers: int = 2,
) -> tuple[list[Verdict], Path]:
    """Grade every sample of a complete generation stage in the sandbox; returns verdicts and their stage."""
    problems = as_problem_dict(problems)
    samples_dir = Path(samples_dir)
    if not is_complete(samples_dir):
        raise ConfigError(f"{samples_dir}: not a complete generation stage")
    stage = Stage(root, "verdicts", {"grader": "ssd.grading"},
                  inputs={"samples": samples_dir.name, "problems": problems_identity(problems)})
    path = stage.dir / "verdicts.jsonl"
    if stage.complete:
        return list(read_jsonl(path, Verdict)), stage.dir
    from ssd.grading import grade_samples  # noqa: PLC0415

    with stage:
        verdicts = grade_samples(read_samples(samples_dir), problems, workers=workers)
        write_jsonl(path, verdicts)
        stage.finish({"n_verdicts": len(verdicts)})
    return verdicts, stage.dir


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
    """`decoding.n` samples per problem, graded, summarised as pass@k (k <= n) with intervals and health."""
    from ssd.metrics import summarize  # noqa: PLC0415

    problems = as_problem_dict(problems)
    samples_dir = generate(model, problems, decoding, prompt_style=prompt_style, backend=backend,
                           backend_options=backend_options, root=root, stage_name="eval-generate")
    verdicts, verdicts_dir = grade(samples_dir, problems, root=root, workers=workers)
    samples = read_samples(samples_dir)
    ks = tuple(k for k in ks if k <= decoding.n)
    return Evaluation(samples, verdicts, summarize(verdicts, problems, ks=ks, samples=samples),
                      samples_dir, verdicts_dir)


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
    """SSD data (Eq. 1): one raw, unverified sample per prompt from the frozen model; returns the stage."""
    if decoding.n != 1:
        raise ConfigError(f"synthesis decoding n: SSD samples N=1 per prompt, got {decoding.n}")
    return generate(model, prompts, decoding, prompt_style=prompt_style, backend=backend,
                    backend_options=backend_options, root=root, stage_name="ssd-samples")


def select_training_data(samples_dir: str | Path, sample_filter: str = "stubs", *,
                         root: str | Path = "runs") -> Path:
    """The SFT data: the synthesized samples minus those `ssd.pools.select_samples` drops (the paper drops
    only empty and single-line stubs; no correctness signal). Returns the `train.jsonl` of its stage."""
    from ssd.pools import select_samples  # noqa: PLC0415

    samples_dir = Path(samples_dir)
    if not is_complete(samples_dir):
        raise ConfigError(f"{samples_dir}: not a complete synthesis stage")
    stage = Stage(root, "sft-data", {"sample_filter": sample_filter}, inputs={"samples": samples_dir.name})
    path = stage.dir / "train.jsonl"
    if not stage.complete:
        with stage:
            kept, report = select_samples(read_samples(samples_dir), sample_filter)
            if not kept:
                raise ConfigError(f"{samples_dir}: the '{sample_filter}' filter left no training sample")
            write_jsonl(path, kept)
            stage.finish({"selection": report})
    return path


def finetune(model: str | Path, data: str | Path, sft: Any, *, root: str | Path = "runs",
             launcher: Iterable[str] = ()) -> Path:
    """Plain SFT (Eq. 2) of `model` on `data` with `sft` (an `SFTConfig`; its model, data and output_dir
    are replaced); returns the final checkpoint. With a `launcher` (e.g. `accelerate launch --config_file
    X --num_processes 8`) the distributed engine runs as `<launcher> -m ssd.cli train`, one process per GPU."""
    identity = {k: v for k, v in sft.identity().items() if k not in ("model", "data", "output_dir")}
    stage = Stage(root, "sft", identity, inputs={"model": model_identity(model), "data": model_identity(data)})
    cfg = dataclasses.replace(sft, model=str(model), data=str(data), output_dir=str(stage.dir))
    launcher = list(launcher)
    if not launcher:
        from ssd.sft import train  # noqa: PLC0415

        return Path(train(cfg))  # writes the stage manifest; a complete run is returned untouched
    if not stage.complete:
        stage.dir.mkdir(parents=True, exist_ok=True)
        request = stage.dir / "sft_request.yaml"
        request.write_text(yaml.safe_dump(resolved(cfg), sort_keys=True), encoding="utf-8")
        command = [*launcher, "-m", "ssd.cli", "train", "--config", str(request)]
        print("launching:", " ".join(command), file=sys.stderr, flush=True)
        subprocess.run(command, check=True)
    manifest = json.loads((stage.dir / "manifest.json").read_text(encoding="utf-8"))
    return Path(manifest["final"])


def intermediate_checkpoint(final: str | Path, step: int) -> Path:
    """The Hugging Face folder that SFT saved at `step` (`save_every`), beside the final model."""
    path = Path(final).parent / f"checkpoint-{step}"
    if not path.is_dir():
        raise ConfigError(f"ssd_eval_checkpoints: no checkpoint for step {step} at {path}")
    return path


# ---------------------------------------------------------------------------------------------- experiment

def _local(path: str, base_dir: str | Path | None) -> Path:
    if base_dir is not None and not Path(path).is_absolute() and (Path(base_dir) / path).exists():
        return Path(base_dir) / path
    return Path(path)


def load_benchmark(spec, base_dir: str | Path | None = None) -> dict[str, Problem]:
    """The problems of one `BenchmarkSpec` (LiveCodeBench files, HumanEval, or a JSONL of problems)."""
    from ssd import problems as sources  # noqa: PLC0415

    if spec.kind == "humaneval":
        return sources.load_humaneval()
    path = _local(spec.path, base_dir)
    if spec.kind == "livecodebench":
        return sources.load_livecodebench(path, spec.release)
    return sources.read_problems(path)


def load_prompt_pool(spec, base_dir: str | Path | None = None, exclude: Iterable[Problem] = ()) -> dict[str, Problem]:
    """The unlabeled SSD prompts (rStar-Coder seed_sft or a JSONL of problems), first `limit` of them,
    without any prompt that matches a problem of `exclude` (ssd.pools contamination guard)."""
    from ssd.pools import exclude_contaminated, load_rstar_seed  # noqa: PLC0415
    from ssd.problems import read_problems  # noqa: PLC0415

    path = _local(spec.path, base_dir)
    pool = (load_rstar_seed(path, dedup=spec.dedup) if spec.kind == "rstar_seed_sft"
            else list(read_problems(path).values()))
    pool = pool[: spec.limit] if spec.limit else pool
    return as_problem_dict(exclude_contaminated(pool, list(exclude))[0])


def _arm(evaluation: Evaluation) -> dict[str, Any]:
    return {"summary": evaluation.summary, "samples_stage": str(evaluation.samples_dir),
            "verdicts_stage": str(evaluation.verdicts_dir)}


def run_experiment(cfg, *, root: str | Path = "runs", results_root: str | Path = "results",
                   base_dir: str | Path | None = None) -> dict[str, Any]:
    """Run (or reuse) every stage of `cfg.plan()`; write and return `results/<name>/summary.json`."""
    from ssd.experiment import sft_config  # noqa: PLC0415 - ssd.experiment imports nothing from here

    plan = cfg.plan()
    model = cfg.model.source
    common = {"prompt_style": cfg.prompt_style, "backend": cfg.backend,
              "backend_options": cfg.backend_options, "root": root}
    benchmarks = {b.name: load_benchmark(b, base_dir) for b in cfg.benchmarks}
    stages: dict[str, str] = {}
    extra: dict[str, Any] = {}

    def evaluate_all(arm: str, checkpoint: str | Path) -> dict[str, Evaluation]:
        return {name: evaluate(checkpoint, problems, cfg.eval_decoding(arm), ks=cfg.ks,
                               workers=cfg.grading_workers, **common) for name, problems in benchmarks.items()}

    base = evaluate_all("base", model) if "base_eval" in plan else {}
    ssd: dict[str, Evaluation] = {}
    by_step: dict[str, dict[str, Evaluation]] = {}
    if "synthesis" in plan:
        eval_problems = [p for problems in benchmarks.values() for p in problems.values()]
        pool = load_prompt_pool(cfg.prompt_pool, base_dir, exclude=eval_problems)
        extra["prompt_pool"] = {"n_prompts": len(pool), "excluding_matches_with": sorted(benchmarks)}
        stages["ssd_samples"] = str(synthesize(model, pool, cfg.synthesis(), **common))
    if "sft" in plan:
        data = select_training_data(stages["ssd_samples"], cfg.sample_filter, root=root)
        checkpoint = finetune(model, data, sft_config(cfg), root=root, launcher=cfg.sft_launcher)
        stages.update(sft_data=str(data.parent), sft=str(checkpoint))
    if "ssd_eval" in plan:
        ssd = evaluate_all("ssd", checkpoint)
        by_step = {str(step): evaluate_all("ssd", intermediate_checkpoint(checkpoint, step))
                   for step in cfg.ssd_eval_checkpoints}
    primary_name = cfg.benchmarks[0].name if cfg.benchmarks else None
    results: dict[str, Any] = {"experiment": cfg.name, "plan": plan, "primary_benchmark": primary_name,
                               "benchmarks": {}, "stages": stages, **extra, "config": resolved(cfg)}
    for name, problems in benchmarks.items():
        entry: dict[str, Any] = {"n_problems": len(problems)}
        if name in base:
            entry["base"] = _arm(base[name])
        if name in ssd:
            entry["ssd"] = _arm(ssd[name])
            entry["ssd_by_step"] = {step: _arm(evals[name]) for step, evals in by_step.items()}
        if name in base and name in ssd:
            entry["paired"] = paired_report(base[name], ssd[name], problems, cfg.ks)
        results["benchmarks"][name] = entry
    primary = results["benchmarks"].get(primary_name, {})
    for arm in ("base", "ssd"):
        if arm in primary:
            results[arm] = primary[arm]["summary"]["pass_at_k"]
    results["manifest"] = {"git": git_state(), "packages": package_versions(), "device": device_info(),
                           "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    write_results(Path(results_root) / cfg.name, results)
    return results


# ---------------------------------------------------------------------------------------------- results

def paired_report(base: Evaluation, ssd: Evaluation, problems: Mapping[str, Problem],
                  ks: Iterable[int]) -> dict[str, Any]:
    """Base vs SSD on identical problems, per k (ssd.metrics.paired_comparison: delta, paired CI, sign test)."""
    from ssd.metrics import paired_comparison  # noqa: PLC0415

    n = min(len(base.samples), len(ssd.samples)) // max(len(problems), 1)
    return {f"pass@{k}": paired_comparison(base.verdicts, ssd.verdicts, dict(problems), k) for k in ks if k <= n}


def write_results(out_dir: str | Path, results: dict[str, Any]) -> Path:
    """`summary.json` (machine readable) and `report.md` (human readable) of one experiment."""
    out_dir = Path(out_dir)
    atomic_write_json(out_dir / "summary.json", results)
    (out_dir / "report.md").write_text(render_report(results), encoding="utf-8")
    return out_dir


def _pct(metric: Mapping[str, Any]) -> str:
    lo, hi = metric["ci"]
    return f"{100 * metric['value']:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"


def _metric_rows(arm: str, summary: Mapping[str, Any], difficulties: list[str]) -> list[str]:
    rows = []
    for k, metric in summary["pass_at_k"].items():
        cells = [_pct(summary["by_difficulty"][d][k]) for d in difficulties]
        rows.append(f"| {arm} | {k} | {_pct(metric)} | " + " | ".join(cells) + " |")
    return rows


def render_report(results: Mapping[str, Any]) -> str:
    lines = [f"# {results['experiment']}", "", f"Stages run: {', '.join(results['plan'])}. "
             "pass@k in % with 95% bootstrap intervals over problems.", ""]
    for bench, entry in results["benchmarks"].items():
        arms = [arm for arm in ("base", "ssd") if arm in entry]
        lines += [f"## {bench} ({entry['n_problems']} problems)", ""]
        if not arms:
            continue
        difficulties = sorted(entry[arms[0]]["summary"]["by_difficulty"])
        lines += ["| model | metric | all | " + " | ".join(difficulties) + " |",
                  "|---|---|---|" + "---|" * len(difficulties)]
        for arm in arms:
            lines += _metric_rows(arm, entry[arm]["summary"], difficulties)
        for step, result in entry.get("ssd_by_step", {}).items():
            lines += _metric_rows(f"ssd@{step}", result["summary"], difficulties)
        lines.append("")
        for arm in arms:
            h = entry[arm]["summary"]["health"]
            lines.append(f"- {arm} health: no code {h['no_code_rate']:.1%}, max tokens hit "
                         f"{h.get('max_token_hit_rate', 0):.1%}, EOS {h.get('eos_rate', 0):.1%}, harness errors "
                         f"{h['harness_error_rate']:.1%}, mean completion {h.get('mean_completion_tokens', 0):.0f} tokens")
        for k, p in entry.get("paired", {}).items():
            lo, hi = p["ci"]
            lines.append(f"- paired {k}: SSD - base = {100 * p['delta']:+.1f} pp [{100 * lo:+.1f}, {100 * hi:+.1f}], "
                         f"better on {p['n_better']}, worse on {p['n_worse']}, tied {p['n_tied']}, "
                         f"sign test p = {p['p_value']:.3g}")
        lines.append("")
    git = results["manifest"]["git"]
    lines += ["## Provenance", "", f"Written at {results['manifest']['written_at']} from commit {git['commit']}"
              f"{' (dirty tree)' if git['dirty'] else ''}. Each stage folder holds a `manifest.json` (resolved "
              "config, inputs, git commit, packages, device, seeds, wall time).", ""]
    lines += [f"- {name}: `{path}`" for name, path in results["stages"].items()]
    for bench, entry in results["benchmarks"].items():
        lines += [f"- {bench} {arm}: `{entry[arm]['samples_stage']}`, `{entry[arm]['verdicts_stage']}`"
                  for arm in ("base", "ssd") if arm in entry]
    return "\n".join(lines) + "\n"
