"""`ssd sample --config X.yaml [--set key=value ...]`: SSD data synthesis on a prompt pool (ssd.data.pools),
then the SFT-data selection; prints the selection's stage folder (its `train.jsonl` is the SFT data).

Guarantees: the synthesis and selection steps every experiment uses (`ssd.experiment.steps.synthesize`, keyed
by the model identity, decoding, engine and the hash of the rendered prompts, and `select_training_data`), so a
change of prompt template or prompt code is a new synthesis stage and a finished one is reused; unset
prompt_style / sample_filter / dedup / temperature / stop come from the `fidelity` preset; the contamination
guard runs against `eval_problems` before sampling.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from ssd.commands.generate import GenerationCommandConfig
from ssd.config import ConfigError, _merge, build, load_yaml, parse_overrides
from ssd.data import POOL_LOADERS, exclude_contaminated, read_problems
from ssd.data.pools import fidelity
from ssd.experiment.steps import select_training_data, synthesize
from ssd.records import Problem


@dataclasses.dataclass(kw_only=True)
class SampleConfig(GenerationCommandConfig):
    """`ssd sample` config. Unset prompt_style/sample_filter/dedup/temperature/stop come from `fidelity`."""

    pool: str  # rStar-Coder seed_sft parquet/JSONL/folder, or a JSONL of Problem records
    pool_kind: str = "rstar_seed_sft"  # rstar_seed_sft | problems
    fidelity: str = "paper"  # paper | official-code (ssd.data.pools.FIDELITY)
    dedup: bool = True
    sample_filter: str = "stubs"
    eval_problems: list[str] = dataclasses.field(default_factory=list)  # Problem JSONL files to guard against
    exclude_contaminated: bool = True

    def validate(self) -> None:
        super().validate()
        if self.pool_kind not in POOL_LOADERS:
            raise ConfigError(f"pool_kind: expected one of {tuple(POOL_LOADERS)}, got {self.pool_kind!r}")


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
    """`ssd sample --config X.yaml [--set key=value ...]`: SSD data synthesis, then the SFT-data selection."""
    parser = argparse.ArgumentParser(prog="ssd sample", description=main.__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    cfg = load_sample_config(args.config, args.overrides)
    evals = [p for path in cfg.eval_problems for p in read_problems(path).values()]
    pool, contamination = exclude_contaminated(load_pool(cfg), evals, exclude=cfg.exclude_contaminated)
    pool = pool[:cfg.limit] if cfg.limit else pool
    print(f"ssd sample: {len(pool)} prompts; {contamination['n_matches']} matched an evaluation problem "
          f"({'excluded' if contamination['excluded'] else 'kept'})", file=sys.stderr)
    samples = synthesize(cfg.model, pool, cfg.decoding, prompt_style=cfg.prompt_style, backend=cfg.backend,
                         backend_options=cfg.backend_options(), root=cfg.out_root,
                         progress=not args.no_progress)
    print(select_training_data(samples, cfg.sample_filter, root=cfg.out_root).parent)
    return 0
