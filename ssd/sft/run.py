"""`train_config(cfg)`: read the data, build the examples, run the chosen engine, write the manifest.

Guarantees:
- A finished run (`<output_dir>/manifest.json` with `"complete": true`) is returned as is, never
  retrained or overwritten; an output folder that holds another run (different identity fields of
  `SFTConfig`) is refused with a `ConfigError`. An unfinished run of the same config resumes from its
  latest checkpoint.
- The manifest (written by `ssd.cache.Stage.finish`, as every stage's is) records the resolved config, the
  data files' hashes, the example statistics (including over-long counts), the git state, package versions,
  device, world size and wall time.
- Bad input (malformed record, zero-token example, impossible config) stops before any training with
  one `RecordError`/`ConfigError`.
- torch runs with `cfg.threads` (0: SSD_THREADS) during the call; the previous count is restored after.

Does not: decide where runs live (callers give `output_dir`, e.g. a `ssd.cache.Stage` folder).
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path

from ssd.config import ConfigError
from ssd.runtime import configure_threads
from ssd.sft.config import SFTConfig
from ssd.sft.data import build_examples, data_files, read_records
from ssd.cache import Stage, atomic_write_json, file_hash, read_manifest

RUN_CONFIG = "sft_config.json"


def _check_same_run(cfg: SFTConfig, output_dir: Path) -> None:
    path = output_dir / RUN_CONFIG
    if not path.exists():
        return
    previous = json.loads(path.read_text(encoding="utf-8"))
    current = json.loads(json.dumps(cfg.identity()))
    if previous != current:
        changed = sorted(k for k in set(previous) | set(current) if previous.get(k) != current.get(k))
        raise ConfigError(
            f"{output_dir}: holds a run with a different config (fields {', '.join(changed)}); "
            "choose another output_dir"
        )


def train_config(cfg: SFTConfig) -> Path:
    """Train per `cfg` and return the final checkpoint, a Hugging Face directory."""
    cfg.validate()
    output_dir = Path(cfg.output_dir)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    is_main = int(os.environ.get("RANK", "0")) == 0
    if cfg.engine == "loop" and world_size > 1:
        raise ConfigError("engine: the loop engine runs in one process; use engine=distributed under a launcher")
    _check_same_run(cfg, output_dir)
    manifest = read_manifest(output_dir)
    if manifest and manifest.get("complete"):
        return Path(manifest["final"])
    import torch  # noqa: PLC0415 - only when training

    previous_threads = torch.get_num_threads()
    configure_threads(cfg.threads or None)
    try:
        return _train(cfg, output_dir, world_size, is_main)
    finally:
        configure_threads(previous_threads)


def _train(cfg: SFTConfig, output_dir: Path, world_size: int, is_main: bool) -> Path:
    from ssd.sft.modeling import load_tokenizer  # noqa: PLC0415 - torch/transformers only when training

    t0 = time.time()
    files = data_files(cfg.data_paths())
    records, where = read_records(files)
    tokenizer = load_tokenizer(cfg.model)
    examples, stats = build_examples(records, tokenizer, max_seq_len=cfg.max_seq_len, loss_on=cfg.loss_on,
                                     overlong=cfg.overlong, where=where)
    if is_main:
        print(f"sft data: {stats.summary(cfg.max_seq_len)}", file=sys.stderr)
        atomic_write_json(output_dir / RUN_CONFIG, cfg.identity())
    logger_args = {
        "log_file": Path(cfg.log_file) if cfg.log_file else output_dir / "train_log.jsonl",
        "progress": cfg.progress, "report_to": cfg.report_to, "run_dir": output_dir,
        "config": dataclasses.asdict(cfg),
    }
    if cfg.engine == "loop":
        from ssd.sft import loop as engine  # noqa: PLC0415 - imports torch and transformers
    else:
        from ssd.sft import distributed as engine  # noqa: PLC0415 - imports torch and transformers
    final = engine.run(cfg, examples, tokenizer, output_dir, logger_args)
    if is_main:  # the cache layer writes the manifest (provenance as every stage's) that marks the run complete
        Stage(output_dir.parent, "sft", dataclasses.asdict(cfg), inputs={str(f): file_hash(f) for f in files},
              seeds=[cfg.seed], directory=output_dir, started=t0).finish(
            {"final": str(final), "data": dataclasses.asdict(stats), "world_size": world_size})
    return final
