"""The paper-scale SFT engine: the Hugging Face Trainer, launched by accelerate (FSDP, DeepSpeed ZeRO-3) or torchrun.

Guarantees:
- The same data stream as the torch loop (`data.example_order` with each step sorted by length, as one
  long epoch), consumed in global batches of micro_batch_size x accumulation x processes: step s trains
  on the same examples in every engine and at every world size.
- The loss is the Trainer's causal-LM NLL normalised by the loss tokens of the whole optimizer step
  across micro-batches and processes (`average_tokens_across_devices`), so 2 processes reproduce one.
- The same optimizer groups (`modeling.decay_parameter_names`), AdamW betas, cosine-with-min-lr schedule,
  clipping and seed as the loop; bf16 is autocast over fp32 master weights.
- Checkpoints are the Trainer's `checkpoint-<step>` Hugging Face folders with optimizer, scheduler, RNG
  and data position; a restarted run resumes from the latest. The final model is saved by the Trainer
  (gathered from FSDP / ZeRO-3 shards as the launch config says) to `<output_dir>/final`; LoRA
  adapters are saved to `<output_dir>/adapter` and merged into `final` on the main process.
- The model runs without the attention mask (right padding under causal attention, see `data.collate`),
  so SDPA's causal kernel applies; the mask still counts the input tokens.
- Per-step metrics go through `progress.StepLogger` (JSONL, progress bar) on the main process, as in the
  loop; TensorBoard and W&B go through the Trainer's own `report_to` integrations.

Does not: choose the parallelism (the accelerate launch config does; see experiments/sft/).
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch.utils.data import Sampler

from ssd.sft import checkpoint
from ssd.sft.config import FINAL_DIR, SFTConfig
from ssd.sft.data import collate, example_order, length_sorted_steps, pad_id
from ssd.sft.modeling import decay_parameter_names, load_model, save_final
from ssd.sft.progress import StepLogger


class FixedOrder(Sampler):
    """Yields a precomputed list of example indices (the whole run as one epoch)."""

    def __init__(self, order: list[int]):
        self.order = order

    def __iter__(self):
        return iter(self.order)

    def __len__(self) -> int:
        return len(self.order)


def _trainer_class():
    from transformers import Trainer, TrainerCallback  # noqa: PLC0415 - heavy; only when training

    class SFTTrainer(Trainer):
        def __init__(self, *args, order: list[int], **kwargs):
            self._order = order
            super().__init__(*args, **kwargs)

        def _get_train_sampler(self, train_dataset=None):
            return FixedOrder(self._order)

        def get_decay_parameter_names(self, model):
            return decay_parameter_names(model)

        def compute_loss(self, model, inputs, *args, **kwargs):
            # right padding under causal attention: the mask changes no real token's output (data.collate)
            return super().compute_loss(model, {k: v for k, v in inputs.items() if k != "attention_mask"},
                                        *args, **kwargs)

    class LogToStepLogger(TrainerCallback):
        def __init__(self, make_logger):
            self._make_logger, self._logger, self._tokens = make_logger, None, 0

        def on_train_begin(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                self._logger = self._make_logger(state.global_step)
                self._tokens = state.num_input_tokens_seen

        def on_log(self, args, state, control, logs=None, **kwargs):
            if self._logger is None or not logs or "loss" not in logs:
                return
            seen = state.num_input_tokens_seen
            self._logger.log(state.global_step, loss=logs["loss"], lr=logs.get("learning_rate"),
                             grad_norm=logs.get("grad_norm"), input_tokens=seen - self._tokens)
            self._tokens = seen

        def on_train_end(self, args, state, control, **kwargs):
            if self._logger is not None:
                self._logger.close()

    return SFTTrainer, LogToStepLogger


def training_arguments(cfg: SFTConfig, output_dir: Path, world_size: int):
    from transformers import TrainingArguments  # noqa: PLC0415 - heavy; only when training

    cuda = torch.cuda.is_available()
    return TrainingArguments(
        output_dir=str(output_dir),
        per_device_train_batch_size=cfg.micro_batch_size,
        gradient_accumulation_steps=cfg.accumulation_steps(world_size),
        learning_rate=cfg.lr,
        lr_scheduler_type="cosine_with_min_lr",
        lr_scheduler_kwargs={"min_lr": cfg.min_lr},
        warmup_steps=cfg.warmup_steps,
        weight_decay=cfg.weight_decay,
        adam_beta1=cfg.adam_beta1,
        adam_beta2=cfg.adam_beta2,
        adam_epsilon=cfg.adam_eps,
        max_grad_norm=cfg.grad_clip,
        optim="adamw_torch_fused" if cuda else "adamw_torch",
        seed=cfg.seed,
        bf16=cfg.bf16,
        logging_steps=1,
        save_strategy="steps" if cfg.save_every else "no",
        save_steps=cfg.save_every or 1,
        report_to=list(cfg.report_to) or "none",
        disable_tqdm=True,
        remove_unused_columns=False,
        include_num_input_tokens_seen="non_padding",
        average_tokens_across_devices=True,
        ddp_find_unused_parameters=False,
        use_cpu=not cuda,
        ddp_backend="gloo" if not cuda and world_size > 1 else None,
    )


def run(cfg: SFTConfig, examples: list[dict], tokenizer, output_dir: Path, logger_args: dict) -> Path:
    """Train on `examples` under the current launcher; return `<output_dir>/final`."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    args = training_arguments(cfg, output_dir, world_size)  # before loading: ZeRO-3 shards at load time
    total_steps = cfg.total_steps(len(examples), args.world_size)
    args.max_steps = total_steps
    model = load_model(cfg)
    global_batch = cfg.global_batch(args.world_size)
    order = length_sorted_steps(example_order(len(examples), total_steps * global_batch, cfg.seed), examples,
                                global_batch)
    from transformers.trainer_callback import PrinterCallback  # noqa: PLC0415 - heavy; only when training

    trainer_cls, callback_cls = _trainer_class()
    padding = pad_id(tokenizer)
    trainer = trainer_cls(
        model=model, args=args, train_dataset=examples, processing_class=tokenizer, order=order,
        data_collator=lambda features: collate(features, padding),
        callbacks=[callback_cls(lambda start: StepLogger(total_steps=total_steps, start_step=start,
                                                         **{**logger_args, "report_to": ()}))],
    )
    trainer.remove_callback(PrinterCallback)  # the StepLogger reports progress
    resume = checkpoint.latest_checkpoint(output_dir)
    trainer.train(resume_from_checkpoint=str(resume) if resume is not None else None)
    final = output_dir / FINAL_DIR
    if cfg.lora is None:
        trainer.save_model(str(final))
        if trainer.is_world_process_zero():
            tokenizer.save_pretrained(final)
    else:
        adapter = output_dir / "adapter"
        trainer.save_model(str(adapter))
        if trainer.is_world_process_zero():
            save_final(load_model(cfg, adapter=str(adapter)), tokenizer, final)
    trainer.accelerator.wait_for_everyone()
    return final
