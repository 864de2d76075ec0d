"""Training throughput of the package's SFT engines against TRL's SFTTrainer, like with like.

Writes bench/results/train.json (how to read it: bench/README.md). Four rows, each trained in the same
process on the same pre-tokenized examples (`input_ids` + completion mask, from `ssd.sft.data`), the same
model (a small random Qwen3 from `ssd.models.tiny`), micro-batch 8 x 4 accumulation steps, `--steps`
optimizer steps, AdamW and cosine schedule, completion-only loss, no gradient checkpointing, and the same
torch thread count (`SSD_THREADS`):
- `loop`: the package's torch loop, fp32;
- `distributed`: the package's Trainer engine in one process, fp32;
- `trl_fp32`: TRL's SFTTrainer with `bf16=False`, fp32: the like-for-like comparison;
- `trl_default`: TRL's SFTTrainer at its default precision (bf16 autocast when TRL's `bf16` default is on;
  the row records the value). On CPUs without avx512_bf16/AMX bf16 is emulated and about 10x slower, so this
  row measures the host's bf16 support, not the trainer: the trap that made an earlier ratio meaningless.
The package's engines sort each step's examples by length; TRL batches in its own shuffled order (padding
differs, tokens do not: every row trains on the same non-padding tokens, checked in `same_tokens`).
Time is the training loop's, from its start to the end of the last optimizer step (model loading,
tokenization and the final save excluded), as wall time and as process CPU time (which other processes'
load does not inflate). Every repetition runs the four rows in a rotated order; figures are min / median /
max over `--reps`, and ratios are taken within each repetition, then summarised the same way.
Does not: measure GPUs (bench/bench_gpu.py does) or multi-process throughput.
"""
from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from bench.common import MachineWatch, environment, ratio_spread, spread
from ssd.cache import atomic_write_json
from ssd.runtime import configure_threads

RESULT = Path(__file__).resolve().parent / "results" / "train.json"
SPEC = {"hidden_size": 128, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
        "head_dim": 32, "intermediate_size": 384, "max_position_embeddings": 1024}

ROWS = {  # row: (engine, dtype as configured)
    "loop": ("ssd.sft torch loop", "fp32"),
    "distributed": ("ssd.sft Trainer engine, one process", "fp32"),
    "trl_fp32": ("trl.SFTTrainer, bf16=False", "fp32"),
    "trl_default": ("trl.SFTTrainer, TRL's default precision", "TRL default"),
}
RATIOS = {"loop_vs_trl_fp32": ("loop", "trl_fp32"), "distributed_vs_trl_fp32": ("distributed", "trl_fp32"),
          "loop_vs_distributed": ("loop", "distributed"), "loop_vs_trl_default": ("loop", "trl_default")}


def sample_rows(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        lines = "\n".join(f"    total += {rng.randint(0, 999)} * x ** {j}" for j in range(rng.randint(4, 24)))
        rows.append({
            "problem_id": f"p{i}", "sample_index": 0,
            "prompt": [{"role": "system", "content": "Answer with Python code."},
                       {"role": "user", "content": f"Write a polynomial of degree {i % 7} in x."}],
            "completion": f"```python\ndef f(x):\n    total = 0\n{lines}\n    return total\n```",
            "finish_reason": "stop", "n_completion_tokens": 0,
            "decoding": {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0, "max_tokens": 1024},
        })
    return rows


def run_package(cfg) -> tuple[int, float, float, bool]:
    """(tokens, wall s, CPU s, bf16) of the training loop, from the run's per-step log."""
    from ssd.sft import train_config  # noqa: PLC0415

    train_config(cfg)
    log = [json.loads(line) for line in (Path(cfg.output_dir) / "train_log.jsonl").read_text().splitlines()]
    return sum(r["input_tokens"] for r in log), log[-1]["elapsed_s"], log[-1]["cpu_s"], cfg.bf16


def run_trl(cfg, examples: list[dict], out: Path, bf16: bool | None) -> tuple[int, float, float, bool]:
    """(tokens, wall s, CPU s, bf16 in effect) of TRL's training loop, from train begin to the last step's end;
    `bf16=None` keeps TRL's default."""
    from datasets import Dataset  # noqa: PLC0415
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback  # noqa: PLC0415
    from transformers.trainer_callback import PrinterCallback  # noqa: PLC0415
    from trl import SFTConfig as TrlConfig  # noqa: PLC0415
    from trl import SFTTrainer  # noqa: PLC0415

    data = Dataset.from_list([{"input_ids": e["input_ids"], "completion_mask": [int(t != -100) for t in e["labels"]]}
                              for e in examples])
    args = TrlConfig(
        output_dir=str(out), per_device_train_batch_size=cfg.micro_batch_size,
        gradient_accumulation_steps=cfg.grad_accum_steps, max_steps=cfg.max_steps, learning_rate=cfg.lr,
        lr_scheduler_type="cosine_with_min_lr", lr_scheduler_kwargs={"min_lr": cfg.min_lr},
        warmup_steps=cfg.warmup_steps, weight_decay=cfg.weight_decay, adam_beta1=cfg.adam_beta1,
        adam_beta2=cfg.adam_beta2, max_grad_norm=cfg.grad_clip, optim="adamw_torch", seed=cfg.seed,
        logging_steps=1, save_strategy="no", report_to="none", disable_tqdm=True, use_cpu=True,
        max_length=None, packing=False, padding_free=False, completion_only_loss=True, gradient_checkpointing=False,
        include_num_input_tokens_seen="non_padding", dataset_num_proc=None,
        **({} if bf16 is None else {"bf16": bf16}),
    )
    trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(cfg.model), args=args, train_dataset=data,
                         processing_class=AutoTokenizer.from_pretrained(cfg.model))
    clock: dict[str, float] = {}

    class Clock(TrainerCallback):
        def on_train_begin(self, *args, **kwargs):
            clock.update(wall=time.perf_counter(), cpu=time.process_time())

        def on_step_end(self, *args, **kwargs):
            clock.update(wall_end=time.perf_counter(), cpu_end=time.process_time())

    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(Clock())
    trainer.train()
    return (trainer.state.num_input_tokens_seen, clock["wall_end"] - clock["wall"], clock["cpu_end"] - clock["cpu"],
            bool(trainer.args.bf16))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--examples", type=int, default=192)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", default=str(RESULT))
    args = parser.parse_args(argv)
    threads = configure_threads()
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp, MachineWatch() as watch:
        result = measure(args, Path(tmp), threads)
    result["machine"] = watch.record()
    result.update(environment())
    atomic_write_json(args.out, result)
    print(json.dumps(result, indent=2))
    return 0


def measure(args: argparse.Namespace, work: Path, threads: int) -> dict:
    from transformers import AutoModelForCausalLM  # noqa: PLC0415

    from ssd.models.tiny import TinySpec, create_model, train_tokenizer  # noqa: PLC0415
    from ssd.sft import SFTConfig  # noqa: PLC0415
    from ssd.sft.data import build_examples, read_records  # noqa: PLC0415
    from ssd.sft.modeling import load_tokenizer  # noqa: PLC0415

    rows = sample_rows(args.examples)
    data = work / "samples.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    tokenizer = train_tokenizer([r["completion"] for r in rows], vocab_size=1024)
    model = create_model(tokenizer, work / "model", TinySpec(**SPEC), seed=0)
    cfg = SFTConfig(model=str(model), data=str(data), output_dir="", max_seq_len=1024, micro_batch_size=8,
                    grad_accum_steps=4, max_steps=args.steps, lr=1e-3, min_lr=1e-4, warmup_steps=2,
                    progress=False, threads=threads)
    records, where = read_records([data])
    examples, stats = build_examples(records, load_tokenizer(str(model)), max_seq_len=cfg.max_seq_len, where=where)
    runs = {
        "loop": lambda rep: run_package(SFTConfig(**{**cfg.__dict__, "output_dir": str(work / f"loop-{rep}")})),
        "distributed": lambda rep: run_package(SFTConfig(**{**cfg.__dict__, "engine": "distributed",
                                                            "output_dir": str(work / f"distributed-{rep}")})),
        "trl_fp32": lambda rep: run_trl(cfg, examples, work / f"trl-fp32-{rep}", bf16=False),
        "trl_default": lambda rep: run_trl(cfg, examples, work / f"trl-default-{rep}", bf16=None),
    }
    measured: dict[str, dict[str, list]] = {name: {"tokens": [], "wall": [], "cpu": [], "bf16": []} for name in runs}
    names = list(runs)
    for rep in range(args.reps):
        for name in names[rep % len(names):] + names[:rep % len(names)]:  # rotated: no row always goes first
            for key, value in zip(("tokens", "wall", "cpu", "bf16"), runs[name](rep)):
                measured[name][key].append(value)
    rate = {name: [t / w for t, w in zip(m["tokens"], m["wall"])] for name, m in measured.items()}
    cpu_rate = {name: [t / c for t, c in zip(m["tokens"], m["cpu"])] for name, m in measured.items()}
    return {
        "benchmark": "train",
        "compared": "package SFT engines vs TRL SFTTrainer on the same examples, steps, batch shape, threads "
                    "and dtype (fp32); trl_default shows TRL at its own default precision",
        "same_on_every_row": {
            "model": "random Qwen3 (ssd.models.tiny)",
            "model_params": AutoModelForCausalLM.from_pretrained(model).num_parameters(),
            "examples": stats.examples, "mean_tokens_per_example": round(stats.input_tokens / stats.examples, 1),
            "steps": args.steps, "micro_batch_size": cfg.micro_batch_size, "grad_accum_steps": cfg.grad_accum_steps,
            "torch_threads": threads, "loss": "completion tokens only", "gradient_checkpointing": False,
        },
        "same_tokens": len({t for m in measured.values() for t in m["tokens"]}) == 1,
        "reps": args.reps,
        "rows": {name: {"engine": ROWS[name][0], "dtype": ROWS[name][1], "bf16_autocast": measured[name]["bf16"][0],
                        "tokens_per_run": measured[name]["tokens"][0],
                        "tokens_per_s": spread(rate[name], 1), "tokens_per_cpu_s": spread(cpu_rate[name], 1)}
                 for name in runs},
        "ratios": {**{key: ratio_spread(rate[a], rate[b]) for key, (a, b) in RATIOS.items()},
                   **{f"{key}_cpu": ratio_spread(cpu_rate[a], cpu_rate[b]) for key, (a, b) in RATIOS.items()}},
    }


if __name__ == "__main__":
    raise SystemExit(main())
