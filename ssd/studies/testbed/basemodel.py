"""The testbed's base model: a training corpus from the pretrain split, a BPE tokenizer and a tiny Qwen3
model, all trained from scratch, deterministically, and cached as one stage.

Guarantees:
- The corpus holds only problems of the `pretrain` split (checked against the other splits' keys before
  training); each problem appears with `renders` independently drawn correct solutions, so the model
  learns every fork's alternatives with the corpus' frequencies (comprehensions most often).
- Prompts are rendered by `ssd.prompts.build_prompt` in the experiment's prompt style, exactly as
  generation will render them; training is `ssd.sft.train` (completion loss), so the checkpoint is a
  Hugging Face directory that every backend loads.
- `build_base_model` is a `Stage`: the same settings reuse the finished model; an interrupted run resumes
  through the SFT engine's checkpoints.

Does not: evaluate the model, or look at any problem outside the pretrain split.
"""
from __future__ import annotations

import dataclasses
import json
import random
import shutil
from pathlib import Path

from ssd.cache import Stage
from ssd.config import ConfigError
from ssd.models.tiny import TinySpec, create_model, train_tokenizer
from ssd.prompts import PAPER_SYSTEM_PROMPT, build_prompt
from ssd.records import Problem
from ssd.sft import SFTRecipe, train
from ssd.studies.testbed import benchmark as bm


@dataclasses.dataclass
class BaseModelSettings:
    """Corpus size, tokenizer, architecture and training length of the base model."""

    problems: dict[str, int] = dataclasses.field(
        default_factory=lambda: {"easy": 250, "medium": 3000, "hard": 3000})
    renders: int = 2  # independently drawn correct solutions per corpus problem
    vocab_size: int = 1024
    spec: TinySpec = dataclasses.field(default_factory=lambda: TinySpec(
        hidden_size=128, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2, head_dim=32,
        intermediate_size=384, max_position_embeddings=512))
    epochs: float = 2.0
    micro_batch_size: int = 32
    lr: float = 1e-3  # at 3e-3 a base learns one of its two copy skills, not both (experiments/cpu/full.yaml)
    min_lr: float = 1e-4
    warmup_steps: int = 30
    seeds: list[int] = dataclasses.field(default_factory=lambda: [0, 1, 2])  # one independent base model each

    def validate(self) -> None:
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ConfigError(f"seeds: expected distinct base seeds, at least one, got {self.seeds}")
        if set(self.problems) - set(bm.DIFFICULTIES):
            raise ConfigError(f"problems: expected keys among {bm.DIFFICULTIES}, got {sorted(self.problems)}")
        if self.renders < 1 or self.vocab_size < 300:
            raise ConfigError("renders: expected >= 1 and vocab_size >= 300")
        self.recipe(self.seeds[0]).validate()

    def recipe(self, seed: int) -> SFTRecipe:
        """Maximum-likelihood training of the base on its corpus (completion loss)."""
        return SFTRecipe(loss_on="completion", max_seq_len=self.spec.max_position_embeddings,
                         micro_batch_size=self.micro_batch_size, epochs=self.epochs, lr=self.lr, min_lr=self.min_lr,
                         warmup_steps=self.warmup_steps, seed=seed, save_every=100, progress=False)


def corpus_records(problems: list[Problem], renders: int, prompt_style: str, tokenizer, seed: int) -> list[dict]:
    """`{prompt, completion}` records: each pretrain problem with `renders` drawn correct solutions."""
    rng = random.Random(f"corpus:{seed}")
    records = []
    for p in problems:
        prompt = build_prompt(p, prompt_style, tokenizer)
        key = bm.parse_key(p.metadata["key"])
        for _ in range(renders):
            code, _ = bm.render(key, p.kind, bm.random_choices(key, rng))
            records.append({"prompt": prompt, "completion": bm.completion_text(code)})
    rng.shuffle(records)
    return records


def tokenizer_texts(problems: list[Problem], renders: int, seed: int) -> list[str]:
    """Texts the BPE is trained on: the fixed prompt parts, the statements and drawn solutions."""
    rng = random.Random(f"tokenizer:{seed}")
    texts = []
    for p in problems:
        key = bm.parse_key(p.metadata["key"])
        texts += [f"system\n{PAPER_SYSTEM_PROMPT}\nuser\n{p.question}\n\nUse this starter code:\n"
                  f"{bm.completion_text(p.starter_code)}\nassistant\n"]
        texts += [bm.completion_text(bm.render(key, p.kind, bm.random_choices(key, rng))[0])
                  for _ in range(renders)]
    return texts


def build_base_model(settings: BaseModelSettings, seed: int, held_out: dict[str, list[Problem]], *,
                     prompt_style: str, benchmark_seed: int, root: str | Path) -> Path:
    """Train (or reuse) the base model of `seed` (its tokenizer, initialisation, corpus draws and data order);
    `held_out` splits are checked disjoint from its corpus."""
    one_base = {k: v for k, v in dataclasses.asdict(settings).items() if k != "seeds"}
    config = {"settings": {**one_base, "seed": seed}, "prompt_style": prompt_style, "benchmark_seed": benchmark_seed}
    stage = Stage(root, "testbed-base", config, seeds=[seed])
    final = stage.dir / "model"
    if stage.complete:
        return final
    with stage:
        problems = bm.make_split("pretrain", settings.problems, seed=benchmark_seed)
        bm.check_disjoint({"pretrain": problems, **held_out})
        tokenizer = train_tokenizer(tokenizer_texts(problems, settings.renders, seed),
                                    vocab_size=settings.vocab_size)
        init = create_model(tokenizer, stage.dir / "init", settings.spec, seed=seed)
        corpus = stage.dir / "corpus.jsonl"
        records = corpus_records(problems, settings.renders, prompt_style, tokenizer, seed)
        corpus.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        trained = Path(train(settings.recipe(seed), init, corpus, stage.dir / "train"))
        if final.exists():
            shutil.rmtree(final)
        trained.rename(final)
        stage.finish({"corpus_examples": len(records), "corpus_problems": len(problems)})
    return final
