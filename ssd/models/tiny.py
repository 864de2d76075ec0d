"""Small Qwen3-architecture models and byte-level BPE tokenizers built from scratch, offline.

Guarantees:
- `train_tokenizer(texts, vocab_size)` returns a `PreTrainedTokenizerFast` with a byte-level BPE
  (any UTF-8 text round-trips), Qwen's ChatML special tokens (`<|im_start|>`, `<|im_end|>`,
  `<|endoftext|>`) and a ChatML chat template, deterministically for the same texts.
- `create_model(tokenizer, out_dir, spec, seed)` writes a randomly initialised `Qwen3ForCausalLM` and the
  tokenizer as one Hugging Face directory (`save_pretrained`), so the path that loads Qwen3-4B loads it.
  Same spec and seed give bit-identical weights.

Does not: train the model (that is the SFT stage's job) or download anything.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterable

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


@dataclasses.dataclass
class TinySpec:
    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    head_dim: int = 16
    intermediate_size: int = 192
    max_position_embeddings: int = 1024
    tie_word_embeddings: bool = True


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1024, min_frequency: int = 2):
    """A byte-level BPE tokenizer with ChatML specials, trained on `texts`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: PLC0415 - heavy; only when building
    from transformers import PreTrainedTokenizerFast  # noqa: PLC0415 - heavy; only when building

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
        additional_special_tokens=["<|im_start|>"],
    )
    fast.chat_template = CHATML_TEMPLATE
    fast.padding_side = "left"
    return fast


def create_model(tokenizer, out_dir: str | Path, spec: TinySpec | None = None, seed: int = 0) -> Path:
    """Write a randomly initialised Qwen3 model plus `tokenizer` to `out_dir`; return the path."""
    import torch  # noqa: PLC0415 - heavy; only when building
    from transformers import Qwen3Config, Qwen3ForCausalLM  # noqa: PLC0415 - heavy; only when building

    spec = spec or TinySpec()
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        bos_token_id=None,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.pad_token_id,
        torch_dtype="float32",
        **dataclasses.asdict(spec),
    )
    torch.manual_seed(seed)
    model = Qwen3ForCausalLM(config)
    model.generation_config.eos_token_id = config.eos_token_id
    model.generation_config.pad_token_id = config.pad_token_id
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
