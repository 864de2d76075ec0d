"""Next-token statistics of a model on canonical solutions, split by the generator's fork/lock labels
(the testbed's analogue of the paper's Figs. 5 and 6, with ground-truth labels the paper did not have).

Method: teacher forcing. For each problem, the prompt (rendered as generation renders it) and the canonical
solution are tokenized separately (`ssd.prompts.encode_example`, as training does); one forward pass gives
the distribution over every completion token. A completion token is a `fork` position if its characters
contain a fork label, else `lock` if they contain a lock label, else `other`. The decoded distributions
(temperature, top-k, top-p) come from the decoding oracle `theory.decoding`.

Base fit (`cached_lock_accuracy`): the share of lock positions where the model's most likely token is the
canonical one, by what the lock copies: a `number` (a constant the statement dictates), a `loop variable`
(the name bound at an earlier fork) or `other`. A base that has not learned to copy numbers from the statement
guesses them, and its pass@1 falls with that share.

Guarantees: `cached_token_statistics` computes once per (model, problems, settings). Per label and overall, the mean over positions of (a) the cumulative probability mass of the
top r tokens at temperature 1 without truncation, (b) the number of tokens kept by the evaluation truncation
and (c) the entropy (nats) of the truncated distribution, for each evaluation temperature; plus (d) the
mean probability of the canonical token at temperature 1. Does not: sample, or look at the model's own
samples (the positions are the canonical solutions' positions for both models).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ssd.cache import Stage, atomic_write_json, model_identity, problems_identity
from ssd.prompts import build_prompt, encode_example
from ssd.records import Problem
from ssd.runtime import configure_threads
from ssd.studies.testbed.benchmark import LOOP_VARS
from theory.decoding import decode_distribution, kept_support

LABELS = ("fork", "lock", "other")
LOCK_KINDS = ("number", "loop variable", "other")


def token_labels(tokenizer, completion: str, spans: list[dict], offset: int) -> tuple[list[int], list[str]]:
    """Completion token ids and one label per token (fork over lock over other)."""
    enc = tokenizer(completion, add_special_tokens=False, return_offsets_mapping=True)
    chars: dict[int, str] = {}
    for s in spans:
        for i in range(s["start"] + offset, s["end"] + offset):
            if chars.get(i) != "fork":
                chars[i] = s["label"]
    labels = []
    for a, b in enc["offset_mapping"]:
        inside = {chars.get(i) for i in range(a, b)}
        labels.append("fork" if "fork" in inside else "lock" if "lock" in inside else "other")
    return list(enc["input_ids"]), labels


def position_logits(model_dir: str | Path, problems: list[Problem], prompt_style: str
                    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(logits [positions, vocab] float64, canonical token ids, labels) over all problems' completions."""
    import torch  # noqa: PLC0415 - heavy
    from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: PLC0415 - heavy


    configure_threads()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    rows, targets, labels = [], [], []
    with torch.inference_mode():
        for p in problems:
            prompt_ids, completion_ids = encode_example(
                tokenizer, build_prompt(p, prompt_style, tokenizer), p.metadata["canonical"])
            ids, labs = token_labels(tokenizer, p.metadata["canonical"], p.metadata["labels"],
                                     p.metadata["canonical_offset"])
            if ids != completion_ids:
                raise ValueError(f"problem {p.id}: offset tokenization differs from encode_example")
            logits = model(input_ids=torch.tensor([prompt_ids + ids])).logits[0]
            start = len(prompt_ids) - 1
            rows.append(logits[start:start + len(ids)].double().numpy())
            targets += ids
            labels += labs
    return np.concatenate(rows), np.array(targets), labels


def _entropy(probs: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(probs > 0, probs * np.log(probs), 0.0).sum(axis=-1)


def statistics(logits: np.ndarray, targets: np.ndarray, temperatures: list[float], top_k: int, top_p: float,
               max_rank: int) -> dict[str, Any]:
    """Means over the given positions (see the module docstring)."""

    probs = decode_distribution(logits)
    ranked = -np.sort(-probs, axis=-1)[:, :max_rank]
    out: dict[str, Any] = {
        "positions": int(len(logits)),
        "cumulative_mass": np.cumsum(ranked, axis=-1).mean(axis=0).tolist(),
        "p_canonical": float(probs[np.arange(len(targets)), targets].mean()),
        "kept_tokens": [], "entropy": [],
    }
    for t in temperatures:
        kept = kept_support(logits, temperature=t, top_k=top_k, top_p=top_p)
        out["kept_tokens"].append(float(kept.sum(axis=-1).mean()))
        out["entropy"].append(float(_entropy(decode_distribution(
            logits, temperature=t, top_k=top_k, top_p=top_p)).mean()))
    return out


def lock_kind(token_text: str) -> str:
    """What a lock token copies: `number` (it holds a digit), `loop variable` or `other`."""
    text = token_text.strip()
    if any(ch.isdigit() for ch in text):
        return "number"
    return "loop variable" if text in LOOP_VARS else "other"


def lock_accuracy(model_dir: str | Path, problems: list[Problem], prompt_style: str) -> dict[str, Any]:
    """`{kind: {"accuracy", "positions"}}` over lock positions, kinds as `lock_kind` (see the module docstring)."""
    from transformers import AutoTokenizer  # noqa: PLC0415 - heavy

    logits, targets, labels = position_logits(model_dir, problems, prompt_style)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    hits: dict[str, list[bool]] = {kind: [] for kind in LOCK_KINDS}
    for predicted, target, label in zip(logits.argmax(axis=-1), targets, labels):
        if label == "lock":
            hits[lock_kind(tokenizer.decode([int(target)]))].append(bool(predicted == target))
    return {kind: {"accuracy": float(np.mean(h)) if h else None, "positions": len(h)} for kind, h in hits.items()}


def cached_lock_accuracy(root: str | Path, model_dir: str | Path, problems: list[Problem], prompt_style: str
                         ) -> dict[str, Any]:
    """`lock_accuracy` inside a stage keyed by the model and the problems."""
    return _cached(root, "testbed-base-fit", model_dir, problems, {"prompt_style": prompt_style},
                   lambda: lock_accuracy(model_dir, problems, prompt_style))


def _cached(root: str | Path, name: str, model_dir: str | Path, problems: list[Problem], settings: dict[str, Any],
            compute) -> dict[str, Any]:
    stage = Stage(root, name, {"settings": settings},
                  inputs={"model": model_identity(model_dir), "problems": problems_identity({p.id: p for p in problems})})
    path = stage.dir / "stats.json"
    if stage.complete:
        return json.loads(path.read_text(encoding="utf-8"))
    with stage:
        stats = compute()
        atomic_write_json(path, stats)
        stage.finish()
    return stats


def cached_token_statistics(root: str | Path, model_dir: str | Path, problems: list[Problem], **kwargs: Any
                            ) -> dict[str, Any]:
    """`token_statistics` inside a stage keyed by the model, the problems and the settings."""
    return _cached(root, "testbed-token-stats", model_dir, problems, kwargs,
                   lambda: token_statistics(model_dir, problems, **kwargs))


def token_statistics(model_dir: str | Path, problems: list[Problem], *, prompt_style: str,
                     temperatures: list[float], top_k: int, top_p: float, max_rank: int = 20) -> dict[str, Any]:
    """`{"all": stats, "fork": stats, "lock": stats, "other": stats}` for one model."""
    logits, targets, labels = position_logits(model_dir, problems, prompt_style)
    mask = {name: np.array([lab == name for lab in labels]) for name in LABELS}
    out = {"all": statistics(logits, targets, temperatures, top_k, top_p, max_rank)}
    for name in LABELS:
        if mask[name].any():
            out[name] = statistics(logits[mask[name]], targets[mask[name]], temperatures, top_k, top_p, max_rank)
    return out
