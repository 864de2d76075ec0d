"""The compact SFT engine: a plain torch loop for one CPU or one GPU.

Guarantees:
- Deterministic given the seed: the data stream is `data.example_order` (each step's examples sorted
  by length, `data.length_sorted_steps`, to cut padding), LoRA initialisation is seeded,
  and nothing else draws random numbers (no dropout by default).
- The output layer runs only at loss positions, in chunks (`modeling.OutputLayer`), when it reproduces
  the model's own forward on a first micro-batch; otherwise the full logits are used.
- Token-weighted loss: each optimizer step sums the NLL of every loss token of its global batch and
  divides by their count, whatever the micro-batch split, so micro-batch 1 x 8 accumulation equals
  micro-batch 8 x 1 up to float rounding.
- AdamW (decoupled weight decay on all but biases and norms), linear warmup then cosine from `lr` to
  `min_lr` (the same schedule function the distributed engine uses), gradient clipping.
- Checkpoints every `save_every` steps (see `checkpoint`); a run restarted on the same output folder
  continues from the latest one and ends with the same weights as an uninterrupted run.

Does not: run on several processes (use the distributed engine), or pack sequences.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch

from ssd.runtime import default_device
from ssd.sft import checkpoint
from ssd.sft.config import FINAL_DIR, SFTConfig
from ssd.sft.data import collate, example_order, length_sorted_steps, loss_tokens, pad_id
from ssd.sft.modeling import OutputLayer, load_model, nll_sum, parameter_groups, save_final
from ssd.sft.progress import StepLogger


def cosine_schedule(optimizer, cfg: SFTConfig, total_steps: int):
    from transformers import get_cosine_with_min_lr_schedule_with_warmup  # noqa: PLC0415 - heavy; only when training

    return get_cosine_with_min_lr_schedule_with_warmup(
        optimizer, num_warmup_steps=cfg.warmup_steps, num_training_steps=total_steps, min_lr=cfg.min_lr
    )


def micro_batch_nll_sum(model, output_layer: OutputLayer | None, micro: dict[str, torch.Tensor]) -> torch.Tensor:
    if output_layer is not None:
        return output_layer.nll_sum(micro)
    logits = model(input_ids=micro["input_ids"], attention_mask=micro["attention_mask"], use_cache=False).logits
    return nll_sum(logits, micro["labels"])


def _output_layer(cfg: SFTConfig, model, examples: list[dict], padding: int, device: str) -> OutputLayer | None:
    """The loss-positions-only output layer if it reproduces the model's own loss on a first micro-batch."""
    probe = {k: t.to(device) for k, t in collate(examples[: cfg.micro_batch_size], padding).items()}
    with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=cfg.bf16):
        return OutputLayer.verified(model, probe, rtol=1e-2 if cfg.bf16 else 1e-4)


def run(cfg: SFTConfig, examples: list[dict], tokenizer, output_dir: Path, logger_args: dict) -> Path:
    """Train on `examples`; return the final checkpoint `<output_dir>/final`."""
    device = default_device()
    total_steps = cfg.total_steps(len(examples))
    global_batch = cfg.global_batch()
    resume = checkpoint.latest_checkpoint(output_dir)
    full_weights = str(resume) if resume is not None and cfg.lora is None else None
    adapter = str(resume) if resume is not None and cfg.lora is not None else None
    model = load_model(cfg, weights=full_weights, adapter=adapter).to(device)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        parameter_groups(model, cfg.weight_decay), lr=cfg.lr, betas=(cfg.adam_beta1, cfg.adam_beta2),
        eps=cfg.adam_eps, fused=device == "cuda",
    )
    scheduler = cosine_schedule(optimizer, cfg, total_steps)
    start = checkpoint.restore(resume, optimizer, scheduler) if resume is not None else 0
    order = length_sorted_steps(example_order(len(examples), total_steps * global_batch, cfg.seed), examples,
                                global_batch)
    padding = pad_id(tokenizer)
    output_layer = _output_layer(cfg, model, examples, padding, device)
    logger = StepLogger(total_steps=total_steps, start_step=start, **logger_args)
    for step in range(start, total_steps):
        batch = [examples[i] for i in order[step * global_batch:(step + 1) * global_batch]]
        n_loss = sum(loss_tokens(e["labels"]) for e in batch)
        loss_total = 0.0
        for k in range(0, global_batch, cfg.micro_batch_size):
            micro = {name: t.to(device) for name, t in collate(batch[k:k + cfg.micro_batch_size], padding).items()}
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=cfg.bf16):
                loss_sum = micro_batch_nll_sum(model, output_layer, micro)
            (loss_sum / n_loss).backward()
            loss_total += loss_sum.item()
        grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip or math.inf)
        lr = scheduler.get_last_lr()[0]
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        logger.log(step + 1, loss=loss_total / n_loss, lr=lr, grad_norm=float(grad_norm), loss_tokens=n_loss,
                   input_tokens=sum(len(e["input_ids"]) for e in batch))
        if cfg.save_every and (step + 1) % cfg.save_every == 0 and step + 1 < total_steps:
            checkpoint.save_checkpoint(output_dir, step + 1, model, tokenizer, optimizer, scheduler)
    logger.close()
    return save_final(model, tokenizer, output_dir / FINAL_DIR)
