"""`ssd sample --config X.yaml [--set key=value ...]`: SSD data synthesis on a prompt pool (ssd.data.pools)
into a content-addressed stage folder, then the SFT-data selection.

Guarantees: unset prompt_style / sample_filter / dedup / temperature / stop come from the `fidelity` preset;
the contamination guard runs against `eval_problems` before sampling; a finished stage is reused.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from ssd.cache import Stage, atomic_write_json, config_hash, model_identity
from ssd.config import ConfigError, DecodingConfig, _merge, build, load_yaml, parse_overrides, resolved
from ssd.data import POOL_LOADERS, exclude_contaminated, read_problems, select_samples
from ssd.data.pools import fidelity
from ssd.generation import make_backend
from ssd.generation.sampling import generate_samples, read_shards
from ssd.records import Problem, write_jsonl


@dataclasses.dataclass
class SampleConfig:
    """`ssd sample` config. Unset prompt_style/sample_filter/dedup/temperature/stop come from `fidelity`."""

    model: str
    pool: str  # rStar-Coder seed_sft parquet/JSONL/folder, or a JSONL of Problem records
    pool_kind: str = "rstar_seed_sft"  # rstar_seed_sft | problems
    fidelity: str = "paper"  # paper | official-code (ssd.data.pools.FIDELITY)
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
        if self.pool_kind not in POOL_LOADERS:
            raise ConfigError(f"pool_kind: expected one of {tuple(POOL_LOADERS)}, got {self.pool_kind!r}")
        if self.limit < 0:
            raise ConfigError(f"limit: expected an integer >= 0, got {self.limit}")


def load_sample_config(path: str | Path, overrides: list[str] = ()) -> SampleConfig:
    """The YAML at `path` (plus `key=value` overrides) on top of its fidelity preset's choices."""
    data = _merge(load_yaml(path), parse_overrides(overrides))
    preset = fidelity(data.get("fidelity", "paper"))
    base: dict[str, Any] = {"dedup": preset.dedup, "prompt_style": preset.prompt_style,
                            "sample_filter": preset.sample_filter, "decoding": {"stop": list(preset.stop)}}
    if preset.temperature is not None:
        base["decoding"]["temperature"] = preset.temperature
    return build(SampleConfig, _merge(base, data), source=str(path))


def load_pool(cfg: SampleConfig) -> list[Problem]:
    return POOL_LOADERS[cfg.pool_kind](Path(cfg.pool), cfg)


def main(argv: list[str] | None = None) -> int:
    """`ssd sample --config X.yaml [--set key=value ...]`: SSD data synthesis into a stage folder."""
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
