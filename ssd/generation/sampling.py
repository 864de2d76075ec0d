"""Sampling completions into sharded, resumable Sample records: SSD data synthesis and evaluation generation.

`generate_samples` is the one code path for both uses: evaluation generation (n samples per problem at
T_eval) and SSD data synthesis (N=1 per prompt at T_train).

Guarantees of `generate_samples(..., out_dir)`:
- Sample j of problem p is drawn with seed `derive_seed(decoding.seed, p.id, j)` (stored in the record), so
  a record does not depend on batching, on interruptions or on the other problems.
- Records go to `out_dir/samples-00000.jsonl`, ... (`shard_size` work items per shard, in problem order),
  one flushed line each. After a kill, calling it again skips every record already on disk (a cut-off
  last line is dropped) and writes the rest: no duplicate, no missing record.
- `out_dir/request.json` pins the request (the rendered prompts' hash, decoding, engine, shard size); calling
  it on a folder of a different request is a `ConfigError`, complete or not; a completed folder of the same
  request (`manifest.json` complete) is returned untouched.
- At the end `out_dir/health.json` holds decoding health (`ssd.metrics.sample_health`: EOS rate, max-token
  hits, empty rate, completion length statistics; plus the share without a code block) and `manifest.json`
  the provenance of `ssd.cache` plus that health.
- A progress bar (stderr) shows records and generated tokens per second.

Does not: grade, filter or deduplicate (`ssd.data.pools` selects prompts and training samples).
"""
from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ssd.cache import Stage, atomic_write_json, canonical_json, config_hash, is_complete
from ssd.config import ConfigError, DecodingConfig, resolved
from ssd.generation.base import Backend, derive_seed
from ssd.grading.extract import extract_code
from ssd.prompts import build_prompt
from ssd.metrics import sample_health
from ssd.records import JsonlWriter, Problem, RecordError, Sample, read_jsonl

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
    return bool(extract_code(text))


def prompts_key(problem_ids: list[str], prompts: list[str]) -> str:
    """A hash of the exact prompt texts, so a change of template or prompt code is another request."""
    return config_hash([[pid, text] for pid, text in zip(problem_ids, prompts)], length=64)


def rendered_prompts_key(problems: list[Problem], prompt_style: str, tokenizer: Any,
                         template_kwargs: dict[str, Any] | None = None) -> str:
    return prompts_key([p.id for p in problems],
                       [build_prompt(p, prompt_style, tokenizer, template_kwargs) for p in problems])


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
                     batch_size: int = 64, progress: bool = True,
                     template_kwargs: dict[str, Any] | None = None) -> Path:
    """Sample `decoding.n` completions per problem into `out_dir` (see the module docstring); returns it.

    `batch_size` is how many completions are handed to the backend per call (and flushed together).
    """
    decoding.validate()
    if shard_size < 1 or batch_size < 1:
        raise ConfigError(f"shard_size, batch_size: expected integers >= 1, got {shard_size}, {batch_size}")
    out_dir = Path(out_dir)
    tokenizer = tokenizer if tokenizer is not None else backend.tokenizer
    prompts = [build_prompt(p, prompt_style, tokenizer, template_kwargs) for p in problems]
    items = work_items(problems, prompts, decoding)
    request = {
        "engine": backend.describe(), "prompt_style": prompt_style, "decoding": resolved(decoding),
        "shard_size": shard_size, "prompts": prompts_key([p.id for p in problems], prompts),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    check_request(out_dir, request)  # before reuse: a complete folder of another request is refused, not returned
    if is_complete(out_dir):
        return out_dir
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
    health = {**sample_health(samples),
              "no_code_block_rate": sum(not has_code(s.completion) for s in samples) / max(len(samples), 1)}
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
    return tqdm(total=total, initial=initial, unit="sample", file=sys.stderr, dynamic_ncols=True)


def json_file(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
