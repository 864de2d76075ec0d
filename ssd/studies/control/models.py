"""The model side of the positive control: base models, synthesis, SSD students, and their exact path tables.

Every step is a stage of ssd.cache (keyed by its config and inputs), so a re-run reads:
- `train_base`: a tiny Qwen3 (ssd.models.tiny) with the one-line-per-token tokenizer, fit by maximum likelihood
  (ssd.sft, completion loss) on the corpus of corpus.py;
- `synthesize`: SSD data synthesis with the package's generation backend (transformers), N = 1 per pool prompt
  at the recipe's (T_train, top-k, top-p);
- `train_student`: plain SFT of the base on those raw samples (ssd.sft, completion loss);
- `model_table`: the exact.PathTable of a model on a problem set: every success path teacher-forced in one
  batch, a row of next-token log-probabilities per completion step (fixed lines and the end token included).
Does not: filter or grade synthesized samples (SSD trains on raw samples).
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from ssd.cache import Stage, config_hash
from ssd.config import DecodingConfig
from ssd.generation import make_backend
from ssd.models.tiny import TinySpec, create_model
from ssd.prompts import encode_example
from ssd.records import Problem, Sample, to_dict, write_jsonl
from ssd.sft import SFTRecipe, train
from ssd.studies.control.benchmark import KIND_BY_NAME, Design, completion_lines, completion_text, fork_successes
from ssd.studies.control.corpus import corpus_records, prompt_text
from ssd.studies.control.exact import PathTable, build_table
from ssd.studies.control.tokenizer import build_tokenizer
from theory.ssd import SSDRecipe


@dataclasses.dataclass(frozen=True)
class TrainRecipe:
    """SFT hyper-parameters for one fit (base or student)."""
    epochs: float
    lr: float
    min_lr: float
    batch: int = 64
    warmup_steps: int = 20


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    head_dim: int = 16
    intermediate_size: int = 192


def _problems_key(problems: list[Problem]) -> str:
    return config_hash([to_dict(p) for p in problems], length=16)


def _sft(model: str, data: Path, out: Path, recipe: TrainRecipe, seed: int) -> Path:
    sft = SFTRecipe(loss_on="completion", max_seq_len=64, micro_batch_size=recipe.batch, epochs=recipe.epochs,
                    lr=recipe.lr, min_lr=recipe.min_lr, warmup_steps=recipe.warmup_steps, weight_decay=0.0,
                    seed=seed, progress=False)
    return train(sft, model, str(data), str(out))


def train_base(root: Path, problems: list[Problem], design: Design, spec: ModelSpec, recipe: TrainRecipe,
               seed: int) -> Path:
    """A base model fit on the corpus of `problems` (the pretrain split); returns its HF directory."""
    config = {"design": dataclasses.asdict(design), "spec": dataclasses.asdict(spec),
              "recipe": dataclasses.asdict(recipe), "seed": seed}
    stage = Stage(root, "control-base", config, {"problems": _problems_key(problems)}, seeds=[seed])
    final = stage.dir / "sft" / "final"
    if stage.complete:
        return final
    with stage:
        write_jsonl(stage.dir / "corpus.jsonl", corpus_records(problems, design, seed=seed))
        init = create_model(build_tokenizer(), stage.dir / "init",
                            TinySpec(**dataclasses.asdict(spec), max_position_embeddings=64), seed=seed)
        _sft(str(init), stage.dir / "corpus.jsonl", stage.dir / "sft", recipe, seed)
        stage.finish()
    return final


def synthesize(root: Path, base: Path, problems: list[Problem], recipe: SSDRecipe, seed: int) -> Path:
    """SSD synthesis: one sample per pool prompt from `base` at `recipe`; returns the samples JSONL."""
    config = {"recipe": dataclasses.asdict(recipe), "seed": seed, "max_tokens": 16}
    stage = Stage(root, "control-synth", config, {"base": str(base), "problems": _problems_key(problems)},
                  seeds=[seed])
    out = stage.dir / "samples.jsonl"
    if stage.complete:
        return out
    with stage:
        backend = make_backend("transformers", str(base), batch_size=512)
        decoding = DecodingConfig(temperature=recipe.t_train, top_k=recipe.top_k, top_p=recipe.top_p,
                                  max_tokens=16, n=1, seed=seed)
        prompts = [prompt_text(p) for p in problems]
        completions = backend.generate(prompts, decoding)
        samples = [Sample(p.id, 0, prompt, c[0].text, c[0].finish_reason, c[0].n_tokens, decoding.record(), seed)
                   for p, prompt, c in zip(problems, prompts, completions)]
        write_jsonl(out, samples)
        stage.finish({"samples": len(samples)})
    return out


def train_student(root: Path, base: Path, samples: Path, recipe: TrainRecipe, seed: int) -> Path:
    """Plain SFT of `base` on the raw synthesized `samples`; returns the student's HF directory."""
    config = {"recipe": dataclasses.asdict(recipe), "seed": seed}
    stage = Stage(root, "control-student", config, {"base": str(base), "samples": str(samples)}, seeds=[seed])
    final = stage.dir / "sft" / "final"
    if stage.complete:
        return final
    with stage:
        _sft(str(base), samples, stage.dir / "sft", recipe, seed)
        stage.finish()
    return final


def success_paths(problem: Problem) -> list[str]:
    """Completion texts of every success path of `problem` (one per correct fork form)."""
    kind = KIND_BY_NAME[problem.metadata["fork_kind"]]
    return [completion_text(completion_lines(f, problem.metadata["locks"])) for f in fork_successes(kind)]


def model_table(root: Path, model: Path, problems: list[Problem], batch: int = 1024) -> PathTable:
    """The exact path table of `model` on `problems` (cached as rows + paths in a stage)."""
    stage = Stage(root, "control-rows", {"version": 1}, {"model": str(model), "problems": _problems_key(problems)},
                  started=time.time())
    if stage.complete:
        data = np.load(stage.dir / "table.npz")
        return PathTable(data["rows"], data["path_row"], data["path_token"], data["path_problem"],
                         int(data["n_problems"]))
    import torch  # noqa: PLC0415 - torch and transformers only when a table is computed
    from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: PLC0415 - as above

    tokenizer = AutoTokenizer.from_pretrained(str(model))
    net = AutoModelForCausalLM.from_pretrained(str(model), dtype=torch.float32).eval()
    sequences, problem_paths, n_rows = [], [], 0
    for problem in problems:
        paths = []
        for completion in success_paths(problem):
            prompt_ids, completion_ids = encode_example(tokenizer, prompt_text(problem), completion)
            completion_ids = completion_ids + [tokenizer.eos_token_id]
            paths.append([(n_rows + s, token) for s, token in enumerate(completion_ids)])
            n_rows += len(completion_ids)
            sequences.append((prompt_ids, completion_ids))
        problem_paths.append(paths)
    rows = []
    with torch.inference_mode():
        for start in range(0, len(sequences), batch):
            chunk = sequences[start:start + batch]
            width = max(len(p) + len(c) for p, c in chunk)
            ids = torch.full((len(chunk), width), tokenizer.pad_token_id)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for i, (p, c) in enumerate(chunk):
                ids[i, :len(p) + len(c)] = torch.tensor(p + c)
                mask[i, :len(p) + len(c)] = 1
            logp = torch.log_softmax(net(input_ids=ids, attention_mask=mask).logits.double(), dim=-1)
            for i, (p, c) in enumerate(chunk):
                rows.append(logp[i, len(p) - 1:len(p) + len(c) - 1].numpy())
    table = build_table(problem_paths, np.concatenate(rows))
    with stage:
        np.savez(stage.dir / "table.npz", rows=table.rows, path_row=table.path_row, path_token=table.path_token,
                 path_problem=table.path_problem, n_problems=table.n_problems)
        stage.finish()
    return table
