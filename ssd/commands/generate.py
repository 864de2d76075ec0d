"""`ssd generate --config X.yaml`: evaluation generations (n samples per problem) for a problem set.

Guarantees: the same code path as SSD synthesis (`ssd.generation.sampling.generate_samples`), into a stage folder
under `out_root` named by the hash of the resolved config, the model identity and the problems; a
finished folder is reused, an interrupted one resumes. Prints the folder.
Does not: grade (`ssd grade`) or filter samples.
"""
from __future__ import annotations

import argparse
import dataclasses

from ssd.cache import model_identity, problems_identity, stage_dir
from ssd.config import ConfigError, DecodingConfig, load_config, resolved
from ssd.data import read_problems
from ssd.generation import make_backend
from ssd.generation.sampling import generate_samples

IDENTITY_EXCLUDES = ("out_root", "batch_size", "device")


@dataclasses.dataclass
class GenerateConfig:
    model: str  # HF directory or hub id
    problems: str  # JSONL of Problem records (ssd.data.problems.write_problems)
    prompt_style: str = "paper"  # ssd.prompts.STYLES
    decoding: DecodingConfig = dataclasses.field(default_factory=DecodingConfig)
    limit: int = 0  # 0 = every problem
    backend: str = "transformers"
    device: str = ""
    dtype: str = ""
    batch_size: int = 16
    shard_size: int = 1000
    out_root: str = "runs"

    def validate(self) -> None:
        if self.limit < 0:
            raise ConfigError(f"limit: expected an integer >= 0, got {self.limit}")


def main(argv: list[str] | None = None) -> int:
    """`ssd generate --config X.yaml [--set key=value ...]`."""
    parser = argparse.ArgumentParser(prog="ssd generate", description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    cfg = load_config(args.config, GenerateConfig, args.overrides)
    problems = read_problems(cfg.problems)
    if cfg.limit:
        problems = {k: problems[k] for k in list(problems)[:cfg.limit]}
    identity = {k: v for k, v in resolved(cfg).items() if k not in IDENTITY_EXCLUDES}
    out_dir = stage_dir(cfg.out_root, "generate", identity, {
        "model": model_identity(cfg.model), "problems": problems_identity(problems)})
    backend = make_backend(cfg.backend, cfg.model, device=cfg.device or None, dtype=cfg.dtype or None,
                           batch_size=cfg.batch_size)
    generate_samples(backend, list(problems.values()), prompt_style=cfg.prompt_style,
                     tokenizer=backend.tokenizer, decoding=cfg.decoding, out_dir=out_dir,
                     shard_size=cfg.shard_size, batch_size=cfg.batch_size, progress=not args.no_progress)
    print(out_dir)
    return 0
