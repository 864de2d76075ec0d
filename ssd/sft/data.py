"""Training examples for SFT: records -> token ids + labels, the data order, and micro-batch collation.

Guarantees:
- Accepted records (one JSON object a line, read strictly with file:line errors): sample records
  (`ssd.records.Sample`), SFT examples `{prompt, completion}` (completion as text or as one assistant
  message), chat examples `{messages}` whose last message is the assistant's, and plain text `{text}`
  (language-model pre-training).
- A chat-message prompt is rendered with the tokenizer's chat template and its generation prompt; a
  text prompt is used as given (it is what the sampler fed the model). Prompt and completion are
  tokenized separately (no special tokens added) and concatenated. The completion ends with the chat
  template's end-of-turn token (the EOS), except for samples cut at max_tokens (`finish_reason` "length"),
  which never stopped. Text examples end with the tokenizer's EOS.
- With `loss_on="completion"` every prompt token has label -100; with `"all"` every token is a target.
- Examples longer than `max_seq_len` are counted in `DataStats` and dropped, truncated at the end of the
  completion, or refused, as `overlong` says; never silently. An example that would train on zero
  tokens stops the run with a `RecordError` naming its origin.
- `example_order` is a pure function of (number of examples, examples needed, seed): consecutive
  seeded permutations, so any engine, world size and resumption sees the same stream;
  `length_sorted_steps` sorts each optimizer step's examples by length (less padding, same step).

Does not: pack several examples into one sequence, or deduplicate.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

import torch

from ssd.records import RecordError, Sample, from_dict, read_json_objects

IGNORE = -100
_MARKER = "\ue000ssd-end-of-turn\ue000"


@dataclasses.dataclass
class SFTExample:
    prompt: Any  # rendered text, or a list of chat messages
    completion: Any  # text, or a list holding one assistant message

    def validate(self) -> None:
        _check_prompt(self.prompt)
        if isinstance(self.completion, str):
            return
        if not (isinstance(self.completion, list) and len(self.completion) == 1
                and isinstance(self.completion[0], dict) and self.completion[0].get("role") == "assistant"
                and isinstance(self.completion[0].get("content"), str)):
            raise RecordError("field 'completion': expected text or [{role: assistant, content: text}]")

    @property
    def completion_text(self) -> str:
        return self.completion if isinstance(self.completion, str) else self.completion[0]["content"]


@dataclasses.dataclass
class ChatExample:
    messages: list[dict[str, Any]]

    def validate(self) -> None:
        if not self.messages or self.messages[-1].get("role") != "assistant":
            raise RecordError("field 'messages': expected a conversation ending with an assistant message")
        _check_prompt(self.messages[:-1])


@dataclasses.dataclass
class TextExample:
    text: str

    def validate(self) -> None:
        if not self.text:
            raise RecordError("field 'text': expected non-empty text")


def _check_prompt(prompt: Any) -> None:
    if isinstance(prompt, str):
        return
    if not isinstance(prompt, list) or not prompt or not all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str) for m in prompt
    ):
        raise RecordError("field 'prompt': expected text or a non-empty list of {role, content} messages")


def data_files(paths: Sequence[str | Path]) -> list[Path]:
    """The JSONL files named by `paths`: files as given, folders expanded to their sorted *.jsonl shards."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            shards = sorted(p.glob("*.jsonl"))
            if not shards:
                raise RecordError(f"{p}: folder holds no *.jsonl shards")
            files.extend(shards)
        elif p.is_file():
            files.append(p)
        else:
            raise RecordError(f"{p}: file not found")
    return files


def record_type(obj: dict) -> type:
    if "problem_id" in obj:
        return Sample
    if "messages" in obj:
        return ChatExample
    if "text" in obj:
        return TextExample
    return SFTExample


def read_records(paths: Sequence[str | Path]) -> tuple[list[Any], list[str]]:
    """All records of all files, and the `file:line` each came from."""
    records, where = [], []
    for path in data_files(paths):
        for lineno, obj in read_json_objects(path):
            records.append(from_dict(record_type(obj), obj, where=f"{path}:{lineno}"))
            where.append(f"{path}:{lineno}")
    if not records:
        raise RecordError(f"{', '.join(map(str, paths))}: no records")
    return records, where


def end_of_turn(tokenizer) -> str:
    """The text that closes an assistant turn in `tokenizer`'s chat template, up to and including its EOS."""
    eos = tokenizer.eos_token or ""
    if not tokenizer.chat_template:
        return eos
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": "x"}, {"role": "assistant", "content": _MARKER}], tokenize=False
    )
    tail = rendered[rendered.rindex(_MARKER) + len(_MARKER):]
    if eos and eos in tail:
        return tail[: tail.index(eos) + len(eos)]
    return tail or eos


def render(record: Any, tokenizer, eot: str) -> tuple[str, str]:
    """(prompt text, completion text) of one record, the completion closed as the module docstring says."""
    if isinstance(record, TextExample):
        return "", record.text + (tokenizer.eos_token or "")
    if isinstance(record, ChatExample):
        prompt, completion, stopped = record.messages[:-1], record.messages[-1]["content"], True
    elif isinstance(record, SFTExample):
        prompt, completion, stopped = record.prompt, record.completion_text, True
    else:
        prompt, completion, stopped = record.prompt, record.completion, record.finish_reason != "length"
    if not isinstance(prompt, str):
        prompt = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    return prompt, completion + (eot if stopped else "")


@dataclasses.dataclass
class DataStats:
    records: int = 0
    examples: int = 0
    overlong: int = 0
    dropped: int = 0
    truncated: int = 0
    input_tokens: int = 0
    loss_tokens: int = 0
    longest: int = 0  # before any truncation

    def summary(self, max_seq_len: int) -> str:
        text = (f"{self.examples} examples from {self.records} records, {self.input_tokens} tokens, "
                f"{self.loss_tokens} with loss, longest {self.longest}")
        if self.overlong:
            text += (f"\nWARNING: {self.overlong} examples exceed max_seq_len={max_seq_len}: "
                     f"{self.dropped} dropped, {self.truncated} truncated")
        return text


def loss_tokens(labels: Sequence[int]) -> int:
    """Tokens that carry loss: a label at position 0 is never predicted by a causal LM."""
    return sum(1 for t in labels[1:] if t != IGNORE)


def build_examples(
    records: Iterable[Any],
    tokenizer,
    *,
    max_seq_len: int,
    loss_on: str = "completion",
    overlong: str = "drop",
    where: Sequence[str] | None = None,
) -> tuple[list[dict[str, list[int]]], DataStats]:
    """Tokenize records into `{"input_ids", "labels"}` examples; see the module docstring for the rules."""
    records = list(records)
    where = list(where) if where is not None else [f"record {i}" for i in range(len(records))]
    eot = end_of_turn(tokenizer)
    pairs = [render(r, tokenizer, eot) for r in records]
    prompt_ids = _tokenize([p for p, _ in pairs], tokenizer)
    completion_ids = _tokenize([c for _, c in pairs], tokenizer)
    stats, examples = DataStats(records=len(records)), []
    for origin, p_ids, c_ids in zip(where, prompt_ids, completion_ids):
        length = len(p_ids) + len(c_ids)
        stats.longest = max(stats.longest, length)
        if length > max_seq_len:
            stats.overlong += 1
            if overlong == "error":
                raise RecordError(f"{origin}: example has {length} tokens, more than max_seq_len={max_seq_len}")
            if overlong == "drop":
                stats.dropped += 1
                continue
            stats.truncated += 1
            c_ids = c_ids[: max(0, max_seq_len - len(p_ids))]
            p_ids = p_ids[:max_seq_len]
        input_ids = p_ids + c_ids
        labels = list(input_ids) if loss_on == "all" else [IGNORE] * len(p_ids) + c_ids
        n_loss = loss_tokens(labels)
        if n_loss == 0:
            raise RecordError(
                f"{origin}: example would train on zero tokens (prompt {len(p_ids)} tokens, completion "
                f"{len(c_ids)} tokens, max_seq_len={max_seq_len}, loss_on={loss_on})"
            )
        examples.append({"input_ids": input_ids, "labels": labels})
        stats.input_tokens += len(input_ids)
        stats.loss_tokens += n_loss
    stats.examples = len(examples)
    if not examples:
        raise RecordError(f"no training examples left: all {stats.records} exceed max_seq_len={max_seq_len}")
    if stats.overlong:
        print(stats.summary(max_seq_len), file=sys.stderr)
    return examples, stats


def _tokenize(texts: list[str], tokenizer) -> list[list[int]]:
    if not texts:
        return []
    return [list(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


def example_order(n_examples: int, n_needed: int, seed: int) -> list[int]:
    """Indices of the examples the run consumes, in order: seeded permutations, one per epoch."""
    generator = torch.Generator().manual_seed(seed)
    order: list[int] = []
    while len(order) < n_needed:
        order.extend(torch.randperm(n_examples, generator=generator).tolist())
    return order[:n_needed]


def length_sorted_steps(order: list[int], examples: Sequence[dict], global_batch: int) -> list[int]:
    """`order` with each optimizer step's examples sorted by length (shortest first).

    The set of examples of every step is unchanged, and so is its token-weighted loss; micro-batches of
    similar lengths need less padding."""
    out: list[int] = []
    for start in range(0, len(order), global_batch):
        out.extend(sorted(order[start:start + global_batch], key=lambda i: len(examples[i]["input_ids"])))
    return out


def pad_id(tokenizer) -> int:
    for token_id in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if token_id is not None:
            return token_id
    return 0


def collate(examples: Sequence[dict[str, list[int]]], pad_token_id: int) -> dict[str, torch.Tensor]:
    """Right-pad a micro-batch: input_ids, attention_mask, and labels (-100 on padding).

    Under causal attention no real token attends to the padding on its right, so the engines may run the
    model without the mask (positions 0..n-1 are the default position ids)."""
    width = max(len(e["input_ids"]) for e in examples)
    batch = {
        "input_ids": torch.full((len(examples), width), pad_token_id, dtype=torch.long),
        "attention_mask": torch.zeros((len(examples), width), dtype=torch.long),
        "labels": torch.full((len(examples), width), IGNORE, dtype=torch.long),
    }
    for row, e in enumerate(examples):
        n = len(e["input_ids"])
        batch["input_ids"][row, :n] = torch.tensor(e["input_ids"])
        batch["attention_mask"][row, :n] = 1
        batch["labels"][row, :n] = torch.tensor(e["labels"])
    return batch
