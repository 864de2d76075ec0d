"""The model side of the positive control: base models, SSD students, and their exact path tables.

Every step is a cached stage, so a re-run reads:
- `train_base`: a tiny Qwen3 (ssd.models.tiny) with the one-line-per-token tokenizer and the corpus of corpus.py
  (stage "control-base-init"), fit by maximum likelihood with the experiment step `finetune` (ssd.sft,
  completion loss);
- `train_student`: the experiment steps in order: `synthesize` (the package's generation backend, N = 1 per pool
  prompt at the recipe's T_train / top-k / top-p, prompt style "raw"), `select_training_data` (the package's SSD
  sample filter) and `finetune` (plain SFT of the base on those samples);
- `model_table`: the exact.PathTable of a model on a problem set: every success path teacher-forced in one
  batch, a row of next-token log-probabilities per completion step (fixed lines and the end token included).
Does not: grade synthesized samples (SSD trains on unverified samples).
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from ssd.cache import Stage, config_hash
from ssd.config import DecodingConfig
from ssd.experiment.steps import finetune, select_training_data, synthesize
from ssd.models.tiny import TinySpec, create_model
from ssd.prompts import encode_example
from ssd.records import Problem, to_dict, write_jsonl
from ssd.sft import SFTRecipe
from ssd.studies.control.benchmark import KIND_BY_NAME, Design, completion_lines, completion_text, fork_successes
from ssd.studies.control.corpus import CORPUS_VERSION, corpus_records, prompt_text
from ssd.studies.control.exact import PathTable, build_table
from ssd.studies.control.tokenizer import build_tokenizer
from theory.ssd import SSDRecipe

PROMPT_STYLE = "raw"
SAMPLE_FILTER = "stubs"
MAX_TOKENS = 16  # a solution is 9 line tokens and the end token


def _problems_key(problems: list[Problem]) -> str:
    return config_hash([to_dict(p) for p in problems], length=16)


def train_base(root: Path, problems: list[Problem], design: Design, spec: TinySpec, recipe: SFTRecipe,
               seed: int) -> Path:
    """A base model fit on the corpus of `problems` (the pretrain split); returns its HF directory."""
    config = {"design": dataclasses.asdict(design), "spec": dataclasses.asdict(spec), "seed": seed,
              "corpus_version": CORPUS_VERSION}
    stage = Stage(root, "control-base-init", config, {"problems": _problems_key(problems)}, seeds=[seed])
    init, corpus = stage.dir / "init", stage.dir / "corpus.jsonl"
    if not stage.complete:
        with stage:
            write_jsonl(corpus, corpus_records(problems, design, seed=seed))
            create_model(build_tokenizer(), init, spec, seed=seed)
            stage.finish()
    return finetune(init, corpus, dataclasses.replace(recipe, seed=seed), root=root)


def train_student(root: Path, base: Path, pool: list[Problem], recipe: SSDRecipe, sft: SFTRecipe,
                  seed: int) -> tuple[Path, Path]:
    """SSD through the experiment steps; returns (the student's HF directory, its SFT data JSONL)."""
    decoding = DecodingConfig(temperature=recipe.t_train, top_k=recipe.top_k, top_p=recipe.top_p,
                              max_tokens=MAX_TOKENS, n=1, seed=seed)
    samples = synthesize(base, pool, decoding, prompt_style=PROMPT_STYLE, backend="transformers",
                         backend_options={"batch_size": 512}, root=root, progress=False)
    data = select_training_data(samples, SAMPLE_FILTER, root=root)
    return finetune(base, data, dataclasses.replace(sft, seed=seed), root=root), data


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
