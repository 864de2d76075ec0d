"""The steps every experiment runs through: generate, grade, evaluate, synthesize, select_training_data,
finetune. `ssd.experiment.run` chains them.

Guarantees:
- Each step is its own function so sweeps and grids can call them one by one.
- Every step writes one stage folder under `root`, named by a hash of its resolved config and the identity of
  its inputs (model, problems, upstream stage; `ssd.cache`). A complete stage is reused as is; an interrupted
  one resumes through the module that does the work (generation per record, SFT from its latest checkpoint).

Does not: generate, grade or train by itself (ssd.generation, ssd.grading and ssd.sft do), run generated
code outside the sandbox, or select a checkpoint on the test set.
"""
from __future__ import annotations

import dataclasses
import gc
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from ssd.cache import Stage, is_complete, model_identity, problems_identity
from ssd.config import ConfigError, DecodingConfig, resolved
from ssd.data import as_problem_dict
from ssd.data.pools import select_samples
from ssd.generation import make_backend
from ssd.generation.sampling import generate_samples, read_shards, rendered_prompts_key
from ssd.grading import grade_distinct_programs
from ssd.metrics import summarize
from ssd.records import Problem, Sample, Verdict, read_jsonl, write_jsonl
from ssd.sft import CHECKPOINT_PREFIX, SFTConfig, SFTRecipe, train

TRAIN_FILE = "train.jsonl"  # the SFT data inside a selection stage


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

    @property
    def stage_dirs(self) -> tuple[Path, Path]:
        return self.samples_dir, self.verdicts_dir

    def metric(self, k: int = 1, difficulty: str | None = None) -> float:
        block = self.summary["by_difficulty"][difficulty] if difficulty else self.summary["pass_at_k"]
        return block[f"pass@{k}"]["value"]


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
    progress: bool = True,
    template_kwargs: Mapping[str, Any] | None = None,
) -> Path:
    """`decoding.n` samples per problem (resumable; ssd.generation.sampling); returns the stage folder of shards.

    `backend` is a name for `ssd.generation.make_backend(backend, model, **backend_options)`, or an already
    built `Backend` of `model` (sweeps reuse one engine across many calls). `template_kwargs` are chat-template
    variables (e.g. GPT-OSS's reasoning_effort); they change the rendered prompts, hence the stage.
    """
    problems = as_problem_dict(problems)
    options = dict(backend_options or {})
    tokenizer = backend.tokenizer if not isinstance(backend, str) else load_tokenizer(model)
    stage = generation_stage(root, stage_name, model_identity(model), decoding, prompt_style, _backend_name(backend),
                             options, rendered_prompts_key(list(problems.values()), prompt_style, tokenizer,
                                                           dict(template_kwargs or {})),
                             problems_identity(problems))
    if stage.complete:
        return stage.dir
    owned = isinstance(backend, str)
    if owned:
        backend = make_backend(backend, str(model), **options)
    try:  # writes the stage manifest when complete
        generate_samples(backend, list(problems.values()), prompt_style=prompt_style, tokenizer=tokenizer,
                         decoding=decoding, out_dir=stage.dir, progress=progress,
                         template_kwargs=dict(template_kwargs or {}))
    finally:
        if owned:  # an engine built here is freed here, before the next stage needs the GPUs
            del backend
            release_accelerator_memory()
    return stage.dir


def generation_stage(root: str | Path, stage_name: str, model_id: str, decoding: DecodingConfig, prompt_style: str,
                     backend: str, backend_options: Mapping[str, Any], prompts_key: str, problems_id: str) -> Stage:
    """The stage of `generate`: keyed by the model identity, decoding, engine and the rendered prompts' hash."""
    config = {"model": model_id, "decoding": resolved(decoding), "prompt_style": prompt_style, "backend": backend,
              "backend_options": dict(backend_options), "prompts": prompts_key}
    return Stage(root, stage_name, config, inputs={"problems": problems_id})


def load_tokenizer(model: str | Path) -> Any:
    from transformers import AutoTokenizer  # noqa: PLC0415 - heavy; only when no backend was given

    return AutoTokenizer.from_pretrained(str(model))


def release_accelerator_memory() -> None:
    """Free what a finished engine held, so the next engine (or the SFT launcher's processes) has the GPUs."""
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def read_samples(samples_dir: str | Path) -> list[Sample]:
    return read_shards(Path(samples_dir))


def grade(
    samples_dir: str | Path,
    problems: Mapping[str, Problem] | Iterable[Problem],
    *,
    root: str | Path = "runs",
    workers: int = 2,
    semantics: str = "strict",
) -> tuple[list[Verdict], Path]:
    """Grade a complete generation stage in the sandbox under `semantics` (strict | official), each distinct
    program once (`ssd.grading.grade_distinct_programs`); returns the verdicts and their stage."""
    problems = as_problem_dict(problems)
    samples_dir = Path(samples_dir)
    if not is_complete(samples_dir):
        raise ConfigError(f"{samples_dir}: not a complete generation stage")
    stage = grading_stage(root, samples_dir.name, problems_identity(problems), semantics)
    path = stage.dir / "verdicts.jsonl"
    if stage.complete:
        return list(read_jsonl(path, Verdict)), stage.dir
    with stage:
        verdicts, distinct = grade_distinct_programs(read_samples(samples_dir), problems, workers=workers,
                                                      semantics=semantics)
        write_jsonl(path, verdicts)
        stage.finish({"n_verdicts": len(verdicts), "distinct_programs": distinct})
    return verdicts, stage.dir


def grading_stage(root: str | Path, samples_stage: str, problems_id: str, semantics: str = "strict") -> Stage:
    """The verdict stage of the generation stage folder named `samples_stage` on the problems `problems_id`
    (strict stages keep the key they had before grading semantics existed)."""
    config = {"grader": "ssd.grading", "dedupe": "program"}
    if semantics != "strict":
        config["semantics"] = semantics
    return Stage(root, "verdicts", config,
                 inputs={"samples": samples_stage, "problems": problems_id})


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
    stage_name: str = "eval-generate",
    semantics: str = "strict",
    template_kwargs: Mapping[str, Any] | None = None,
) -> Evaluation:
    """`decoding.n` samples per problem, graded, summarised as pass@k (k <= n) with intervals and health."""
    problems = as_problem_dict(problems)
    samples_dir = generate(model, problems, decoding, prompt_style=prompt_style, backend=backend,
                           backend_options=backend_options, root=root, stage_name=stage_name,
                           template_kwargs=template_kwargs)
    verdicts, verdicts_dir = grade(samples_dir, problems, root=root, workers=workers, semantics=semantics)
    samples = read_samples(samples_dir)
    ks = tuple(k for k in ks if k <= decoding.n)
    return Evaluation(samples, verdicts, summarize(verdicts, problems, ks=ks, samples=samples),
                      samples_dir, verdicts_dir)


def synthesize(model: str | Path, prompts: Mapping[str, Problem] | Iterable[Problem], decoding: DecodingConfig,
               **options: Any) -> Path:
    """SSD data (Eq. 1): one raw, unverified sample per prompt from the frozen model, in the stage "ssd-samples";
    `options` are `generate`'s (prompt_style, backend, backend_options, root, progress, template_kwargs)."""
    if decoding.n != 1:
        raise ConfigError(f"synthesis decoding n: SSD samples N=1 per prompt, got {decoding.n}")
    return generate(model, prompts, decoding, stage_name="ssd-samples", **options)


def select_training_data(samples_dir: str | Path, sample_filter: str = "stubs", *,
                         root: str | Path = "runs") -> Path:
    """The SFT data: the synthesized samples minus those `ssd.data.pools.select_samples` drops (the paper drops
    only empty and single-line stubs; no correctness signal). Returns the `train.jsonl` of its stage."""
    samples_dir = Path(samples_dir)
    if not is_complete(samples_dir):
        raise ConfigError(f"{samples_dir}: not a complete synthesis stage")
    stage = selection_stage(root, samples_dir.name, sample_filter)
    path = stage.dir / TRAIN_FILE
    if not stage.complete:
        with stage:
            kept, report = select_samples(read_samples(samples_dir), sample_filter)
            if not kept:
                raise ConfigError(f"{samples_dir}: the '{sample_filter}' filter left no training sample")
            write_jsonl(path, kept)
            stage.finish({"selection": report})
    return path


def selection_stage(root: str | Path, samples_stage: str, sample_filter: str) -> Stage:
    """The stage of `select_training_data` on the synthesis stage folder named `samples_stage`."""
    return Stage(root, "sft-data", {"sample_filter": sample_filter}, inputs={"samples": samples_stage})


def sft_stage(root: str | Path, recipe: SFTRecipe, model_id: str, data_id: str) -> Stage:
    """The stage of `finetune`: keyed by the recipe's identity and the model and data identities."""
    return Stage(root, "sft", recipe.identity(), inputs={"model": model_id, "data": data_id})


def finetune(model: str | Path, data: str | Path, recipe: SFTRecipe, *, root: str | Path = "runs",
             launcher: Iterable[str] = ()) -> Path:
    """Plain SFT (Eq. 2) of `model` on `data` with `recipe`; returns the final checkpoint. With a `launcher`
    (e.g. `accelerate launch --config_file X --num_processes 8`) the distributed engine runs as
    `<launcher> -m ssd.cli train`, one process per GPU."""
    stage = sft_stage(root, recipe, model_identity(model), model_identity(data))
    launcher = list(launcher)
    if not launcher:
        return Path(train(recipe, model, data, stage.dir))  # writes the manifest; a complete run is returned as is
    cfg = SFTConfig.of(recipe, model, data, stage.dir)
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
    path = Path(final).parent / f"{CHECKPOINT_PREFIX}{step}"
    if not path.is_dir():
        raise ConfigError(f"ssd_eval_checkpoints: no checkpoint for step {step} at {path}")
    return path
