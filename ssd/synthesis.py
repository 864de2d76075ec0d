"""Sampling completions into sharded, resumable Sample records: SSD data synthesis and evaluation generation.

`generate_samples` is the one code path for both uses: evaluation generation (n samples per problem at
T_eval) and SSD data synthesis (N=1 per prompt at T_train). `ssd sample --config X.yaml` runs synthesis
on a prompt pool (`ssd.pools`) into a content-addressed stage folder.

Guarantees of `generate_samples(..., out_dir)`:
- Sample j of problem p is drawn with seed `derive_seed(decoding.seed, p.id, j)` (stored in the record), so
  a record does not depend on batching, on interruptions or on the other problems.
- Records go to `out_dir/samples-00000.jsonl`, ... (`shard_size` work items per shard, in problem order),
  one flushed line each. After a kill, calling it again skips every record already on disk (a cut-off
  last line is dropped) and writes the rest: no duplicate, no missing record.
- `out_dir/request.json` pins the request (prompts, decoding, engine, shard size); resuming a folder with
  a different request is a `ConfigError`, and a completed folder (`manifest.json` complete) is returned
  untouched.
- At the end `out_dir/health.json` holds run health (no-code rate, max-token hits, EOS rate, empty rate,
  completion length statistics) and `manifest.json` the provenance of `ssd.stages` plus that health.
- A progress bar (stderr) shows records and generated tokens per second.

Does not: grade, filter or deduplicate (`ssd.pools` selects prompts and training samples).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

from ssd.config import ConfigError, DecodingConfig, resolved
from ssd.generation.backend import Backend, derive_seed
from ssd.prompts import build_prompt
from ssd.records import JsonlWriter, Problem, RecordError, Sample, read_jsonl
from ssd.stages import Stage, atomic_write_json, canonical_json, config_hash, is_complete

SHARD_PATTERN = "samples-{:05d}.jsonl"


@dataclasses.dataclass(frozen=True)
class WorkItem:
    position: int  # index in the full (problem, sample) order; fixes the shard
    problem_id: str
    sample_index: int
    prompt: str
    seed: int


def work_items(problems: list[Problem], prompts: list[str], decoding: DecodingConfig) -> list[WorkItem]:
    seen: set[str] = set()
    items = []
    for problem, prompt in zip(problems, prompts):
        if problem.id in seen:
            raise RecordError(f"problems: duplicate problem id {problem.id!r}")
        seen.add(problem.id)
        for j in range(decoding.n):
            items.append(WorkItem(len(items), problem.id, j, prompt, derive_seed(decoding.seed, problem.id, j)))
    return items


def read_shards(out_dir: Path) -> list[Sample]:
    """Every complete record under `out_dir`; a duplicated (problem, index) is a `RecordError`."""
    samples, seen = [], set()
    for shard in sorted(out_dir.glob("samples-*.jsonl")):
        for s in read_jsonl(shard, Sample, drop_partial_tail=True):
            key = (s.problem_id, s.sample_index)
            if key in seen:
                raise RecordError(f"{shard}: duplicate record for problem {s.problem_id!r} sample {s.sample_index}")
            seen.add(key)
            samples.append(s)
    return samples


def has_code(text: str) -> bool:
    from ssd.extract import extract_code  # noqa: PLC0415

    return bool(extract_code(text))


def run_health(samples: list[Sample], code_found: Callable[[str], bool] = has_code) -> dict[str, Any]:
    """Decoding health of a set of samples (rates are fractions of all samples)."""
    n = len(samples)
    if n == 0:
        return {"n_samples": 0}
    lengths = sorted(s.n_completion_tokens for s in samples)
    return {
        "n_samples": n,
        "eos_rate": sum(s.finish_reason == "stop" for s in samples) / n,
        "max_token_hit_rate": sum(s.finish_reason == "length" for s in samples) / n,
        "no_code_rate": sum(not code_found(s.completion) for s in samples) / n,
        "empty_rate": sum(not s.completion.strip() for s in samples) / n,
        "tokens_mean": statistics.fmean(lengths),
        "tokens_median": statistics.median(lengths),
        "tokens_p90": lengths[min(n - 1, int(0.9 * n))],
        "tokens_min": lengths[0],
        "tokens_max": lengths[-1],
        "tokens_total": sum(lengths),
    }


def check_request(out_dir: Path, request: dict[str, Any]) -> None:
    path = out_dir / "request.json"
    if path.exists():
        if canonical_json(json_file(path)) != canonical_json(request):
            raise ConfigError(f"{out_dir}: holds samples of a different request (request.json differs); "
                              "use another out_dir")
    else:
        atomic_write_json(path, request)


def generate_samples(backend: Backend, problems: list[Problem], *, prompt_style: str, tokenizer: Any,
                     decoding: DecodingConfig, out_dir: str | Path, shard_size: int = 1000,
                     batch_size: int = 64, progress: bool = True) -> Path:
    """Sample `decoding.n` completions per problem into `out_dir` (see the module docstring); returns it.

    `batch_size` is how many completions are handed to the backend per call (and flushed together).
    """
    decoding.validate()
    if shard_size < 1 or batch_size < 1:
        raise ConfigError(f"shard_size, batch_size: expected integers >= 1, got {shard_size}, {batch_size}")
    out_dir = Path(out_dir)
    if is_complete(out_dir):
        return out_dir
    tokenizer = tokenizer if tokenizer is not None else backend.tokenizer
    prompts = [build_prompt(p, prompt_style, tokenizer) for p in problems]
    items = work_items(problems, prompts, decoding)
    request = {
        "engine": backend.describe(), "prompt_style": prompt_style, "decoding": resolved(decoding),
        "shard_size": shard_size,
        "prompts": config_hash([[p.id, text] for p, text in zip(problems, prompts)], length=64),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    check_request(out_dir, request)
    started = time.time()
    done = {(s.problem_id, s.sample_index) for s in read_shards(out_dir)}
    pending = [it for it in items if (it.problem_id, it.sample_index) not in done]
    stale = done - {(it.problem_id, it.sample_index) for it in items}
    if stale:
        raise RecordError(f"{out_dir}: records for unknown (problem, sample) pairs, e.g. {sorted(stale)[0]}")
    write_pending(backend, pending, decoding, out_dir, shard_size, batch_size,
                  progress_bar(len(items), len(done), progress))
    samples = read_shards(out_dir)
    if len(samples) != len(items):
        raise RecordError(f"{out_dir}: expected {len(items)} records after generation, found {len(samples)}")
    health = run_health(samples)
    atomic_write_json(out_dir / "health.json", health)
    stage = Stage(out_dir.parent, "samples", request, seeds=[decoding.seed], directory=out_dir, started=started)
    stage.finish({"health": health, "n_samples": len(samples)})
    return out_dir


def write_pending(backend: Backend, pending: list[WorkItem], decoding: DecodingConfig, out_dir: Path,
                  shard_size: int, batch_size: int, bar: Any) -> None:
    one = dataclasses.replace(decoding, n=1)
    writers: dict[int, JsonlWriter] = {}
    started, tokens = time.time(), 0
    try:
        for start in range(0, len(pending), batch_size):
            batch = pending[start:start + batch_size]
            completions = backend.generate([it.prompt for it in batch], one, seeds=[it.seed for it in batch])
            for it, (completion,) in zip(batch, completions):
                shard = it.position // shard_size
                if shard not in writers:
                    writers[shard] = JsonlWriter(out_dir / SHARD_PATTERN.format(shard))
                writers[shard].write(Sample(
                    problem_id=it.problem_id, sample_index=it.sample_index, prompt=it.prompt,
                    completion=completion.text, finish_reason=completion.finish_reason,
                    n_completion_tokens=completion.n_tokens, decoding=decoding.record(), seed=it.seed,
                ))
                tokens += completion.n_tokens
            if bar is not None:
                bar.update(len(batch))
                bar.set_postfix(tok_per_s=f"{tokens / max(time.time() - started, 1e-9):.1f}")
    finally:
        for w in writers.values():
            w.close()
        if bar is not None:
            bar.close()


def progress_bar(total: int, initial: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm  # noqa: PLC0415

    return tqdm(total=total, initial=initial, unit="sample", file=sys.stderr, dynamic_ncols=True)


@dataclasses.dataclass
class SampleConfig:
    """`ssd sample` config. Unset prompt_style/sample_filter/dedup/temperature/stop come from `fidelity`."""

    model: str
    pool: str  # rStar-Coder seed_sft parquet/JSONL/folder, or a JSONL of Problem records
    pool_kind: str = "rstar_seed_sft"  # rstar_seed_sft | problems
    fidelity: str = "paper"  # paper | official-code (ssd.pools.FIDELITY)
    dedup: bool = True
    prompt_style: str = "paper"
    sample_filter: str = "stubs"
    decoding: DecodingConfig = dataclasses.field(default_factory=DecodingConfig)
    eval_problems: list[str] = dataclasses.field(default_factory=list)  # Problem JSONL files to guard against
    exclude_contaminated: bool = True
    limit: int = 0  # 0 = every prompt
    backend: str = "transformers"
    device: str = ""
    dtype: str = ""
    batch_size: int = 16
    shard_size: int = 1000
    out_root: str = "runs"

    def validate(self) -> None:
        if self.pool_kind not in ("rstar_seed_sft", "problems"):
            raise ConfigError(f"pool_kind: expected rstar_seed_sft or problems, got {self.pool_kind!r}")
        if self.limit < 0:
            raise ConfigError(f"limit: expected an integer >= 0, got {self.limit}")


def load_sample_config(path: str | Path, overrides: list[str] = ()) -> SampleConfig:
    """The YAML at `path` (plus `key=value` overrides) on top of its fidelity preset's choices."""
    from ssd.config import _merge, build, load_yaml, parse_overrides  # noqa: PLC0415
    from ssd.pools import fidelity  # noqa: PLC0415

    data = _merge(load_yaml(path), parse_overrides(overrides))
    preset = fidelity(data.get("fidelity", "paper"))
    base: dict[str, Any] = {"dedup": preset.dedup, "prompt_style": preset.prompt_style,
                            "sample_filter": preset.sample_filter, "decoding": {"stop": list(preset.stop)}}
    if preset.temperature is not None:
        base["decoding"]["temperature"] = preset.temperature
    return build(SampleConfig, _merge(base, data), source=str(path))


def load_pool(cfg: SampleConfig) -> list[Problem]:
    if cfg.pool_kind == "rstar_seed_sft":
        from ssd.pools import load_rstar_seed  # noqa: PLC0415

        return load_rstar_seed(cfg.pool, dedup=cfg.dedup)
    from ssd.problems import read_problems  # noqa: PLC0415

    return list(read_problems(cfg.pool).values())


def main(argv: list[str] | None = None) -> int:
    """`ssd sample --config X.yaml [--set key=value ...]`: SSD data synthesis into a stage folder."""
    from ssd.generation import make_backend  # noqa: PLC0415
    from ssd.pipeline import model_identity  # noqa: PLC0415
    from ssd.pools import exclude_contaminated, select_samples  # noqa: PLC0415
    from ssd.problems import read_problems  # noqa: PLC0415
    from ssd.records import write_jsonl  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="ssd sample", description=main.__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    cfg = load_sample_config(args.config, args.overrides)
    evals = [p for path in cfg.eval_problems for p in read_problems(path).values()]
    pool, contamination = exclude_contaminated(load_pool(cfg), evals, exclude=cfg.exclude_contaminated)
    pool = pool[:cfg.limit] if cfg.limit else pool
    identity = {k: v for k, v in resolved(cfg).items() if k not in ("out_root", "batch_size", "device")}
    stage = Stage(cfg.out_root, "samples", identity, seeds=[cfg.decoding.seed], inputs={
        "model": model_identity(cfg.model),
        "prompts": config_hash([[p.id, p.question, p.starter_code] for p in pool], length=16),
    })
    if not stage.complete:
        with stage:
            backend = make_backend(cfg.backend, cfg.model, device=cfg.device or None, dtype=cfg.dtype or None,
                                   batch_size=cfg.batch_size)
            raw = generate_samples(backend, pool, prompt_style=cfg.prompt_style, tokenizer=backend.tokenizer,
                                   decoding=cfg.decoding, out_dir=stage.dir / "raw", shard_size=cfg.shard_size,
                                   batch_size=cfg.batch_size, progress=not args.no_progress)
            selected, selection = select_samples(read_shards(raw), cfg.sample_filter)
            write_jsonl(stage.dir / "selected.jsonl", selected)
            atomic_write_json(stage.dir / "contamination.json", contamination)
            health = json_file(raw / "health.json")
            stage.finish({"health": health, "selection": selection, "n_pool": len(pool),
                          "contamination": {k: v for k, v in contamination.items() if k != "matches"}})
    print(stage.dir)
    return 0


def json_file(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
