"""What both SFT engines share about the model: loading, LoRA, weight-decay groups, the loss, the final save.

Guarantees:
- `load_tokenizer`/`load_model` accept a Hugging Face directory or hub id; a path to a `.gguf` file
  loads the tokenizer (and model) with `gguf_file=`. Weights load in fp32: bf16 training autocasts over
  fp32 master weights, so updates of relative size 1e-6 are not rounded away. An MXFP4-quantized checkpoint
  (GPT-OSS) is dequantized on load (`Mxfp4Config(dequantize=True)`): full SFT needs real weights.
- LoRA adapters (peft) are initialised under the run's seed, so both engines start from the same weights.
- `decay_parameter_names`: every parameter decays except biases and the weights of normalisation
  layers (Megatron's rule), judged by module class and name so that it holds under FSDP wrappers too.
- `nll_sum`: the summed next-token NLL over labels != -100, computed in fp32; each engine divides it by
  the number of loss tokens of the whole optimizer step (all micro-batches, all processes).
- `OutputLayer` computes the same sum with the output layer applied only at loss positions, in chunks
  whose logits are recomputed in backward (memory of one chunk's logits instead of a whole sequence's),
  and without the attention mask: batches are right-padded, and causal attention never lets a real token
  see the padding to its right, so SDPA's causal kernel can run. `OutputLayer.verified(model, batch)`
  returns it only if it matches the model's own masked forward on `batch`.
- `save_final` writes a plain Hugging Face directory (LoRA merged in, fp32 master weights) that
  transformers and vLLM load.

Does not: choose a device or a parallelism (the engines do).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from ssd.sft.config import SFTConfig


def _source(path_or_id: str) -> tuple[str, dict[str, Any]]:
    p = Path(path_or_id)
    if p.suffix == ".gguf":
        return str(p.parent), {"gguf_file": p.name}
    return path_or_id, {}


def load_tokenizer(path_or_id: str):
    from transformers import AutoTokenizer  # noqa: PLC0415 - heavy; only when loading

    source, kwargs = _source(path_or_id)
    return AutoTokenizer.from_pretrained(source, **kwargs)


def quantization_method(model_config: Any) -> str:
    """The checkpoint's quantization method ("" if none), from its config's `quantization_config`."""
    quantization = getattr(model_config, "quantization_config", None) or {}
    method = quantization.get("quant_method", "") if isinstance(quantization, dict) else getattr(
        quantization, "quant_method", "")
    return str(getattr(method, "value", method))


def dequantizing_kwargs(source: str, load_kwargs: dict[str, Any]) -> dict[str, Any]:
    """`from_pretrained` arguments that load an MXFP4 checkpoint (GPT-OSS) dequantized to trainable weights."""
    from transformers import AutoConfig  # noqa: PLC0415 - heavy; only when loading

    if quantization_method(AutoConfig.from_pretrained(source, **load_kwargs)) != "mxfp4":
        return {}
    from transformers import Mxfp4Config  # noqa: PLC0415 - heavy; only for MXFP4 checkpoints

    return {"quantization_config": Mxfp4Config(dequantize=True)}


def load_model(cfg: SFTConfig, weights: str | None = None, adapter: str | None = None):
    """The model of `cfg` (weights from `weights` if given), with LoRA from `adapter` or freshly seeded."""
    from transformers import AutoModelForCausalLM  # noqa: PLC0415 - heavy; only when loading

    source, kwargs = _source(weights or cfg.model)
    kwargs.update(dequantizing_kwargs(source, kwargs))
    model = AutoModelForCausalLM.from_pretrained(
        source, dtype=torch.float32, attn_implementation=cfg.attn_implementation, **kwargs
    )
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    if cfg.lora is None:
        return model
    from peft import LoraConfig, PeftModel, get_peft_model  # noqa: PLC0415 - optional; only with LoRA

    if adapter is not None:
        return PeftModel.from_pretrained(model, adapter, is_trainable=True)
    torch.manual_seed(cfg.seed)
    lora = LoraConfig(
        r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
        target_modules=list(cfg.lora.target_modules), task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def _is_norm(module: torch.nn.Module) -> bool:
    return "norm" in type(module).__name__.lower()


def decay_parameter_names(model: torch.nn.Module) -> list[str]:
    names = []
    for module_name, module in model.named_modules():
        for name, param in module.named_parameters(recurse=False):
            if param.requires_grad and not _is_norm(module) and not name.endswith("bias"):
                names.append(f"{module_name}.{name}" if module_name else name)
    return names


def parameter_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    decay = set(decay_parameter_names(model))
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    return [
        {"params": [p for n, p in trainable if n in decay], "weight_decay": weight_decay},
        {"params": [p for n, p in trainable if n not in decay], "weight_decay": 0.0},
    ]


def nll_sum(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Summed NLL of labels[:, 1:] given logits[:, :-1]; positions labelled -100 are ignored."""
    return F.cross_entropy(
        logits[:, :-1].flatten(0, 1).float(), labels[:, 1:].flatten(), ignore_index=-100, reduction="sum"
    )


def _chunk_nll(head: torch.nn.Module, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(head(hidden).float(), targets, reduction="sum")


class OutputLayer:
    """Decoder + output layer of a causal LM, for `nll_sum` at loss positions only (see module docstring)."""

    def __init__(self, decoder: torch.nn.Module, head: torch.nn.Module, chunk_tokens: int = 4096):
        self.decoder, self.head, self.chunk_tokens = decoder, head, chunk_tokens

    @classmethod
    def verified(cls, model, batch: dict[str, torch.Tensor], rtol: float = 1e-4) -> "OutputLayer | None":
        inner = model.get_base_model() if hasattr(model, "get_base_model") else model
        decoder, head = inner.get_decoder(), inner.get_output_embeddings()
        if decoder is None or head is None or decoder is inner:
            return None
        split = cls(decoder, head)
        with torch.no_grad():
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False).logits
            expected, got = nll_sum(logits, batch["labels"]), split.nll_sum(batch)
        return split if torch.allclose(got, expected, rtol=rtol) else None

    def nll_sum(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        hidden = self.decoder(input_ids=batch["input_ids"], use_cache=False).last_hidden_state[:, :-1]
        targets = batch["labels"][:, 1:]
        keep = targets != -100
        hidden, targets = hidden[keep], targets[keep]
        if len(targets) <= self.chunk_tokens:
            return _chunk_nll(self.head, hidden, targets)
        total = hidden.new_zeros((), dtype=torch.float32)
        for start in range(0, len(targets), self.chunk_tokens):
            end = start + self.chunk_tokens
            total = total + checkpoint(_chunk_nll, self.head, hidden[start:end], targets[start:end],
                                       use_reentrant=False)
        return total


def save_final(model, tokenizer, out_dir: Path) -> Path:
    """Save `model` (a peft model is merged first) as a Hugging Face directory in its master dtype."""
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
