"""Training throughput of the SFT engines against TRL's SFTTrainer on the same tokens.

Writes bench/results/train.json: one flat object with `tokens_per_s_loop` (the package's torch loop),
`tokens_per_s_distributed` (the package's Trainer engine, one process) and `tokens_per_s_trl` (TRL's
SFTTrainer with its defaults except gradient checkpointing off, completion-only loss, fed the package's
pre-tokenized examples as `input_ids` + `completion_mask`: the same sequences, micro-batch size and
steps, in TRL's own shuffled order), `loop_vs_trl` (ratio), the model and run sizes, and the machine,
versions and date.

The shape is experiments/sft/cpu.yaml's: micro-batch 8 x 4 accumulation steps (global batch 32); the
package's engines sort each step's examples by length, TRL batches in its shuffled order.
Tokens are non-padding input tokens (the default run is one epoch: the same tokens for all three). The
time is the training loop's, from its start to the end of the last optimizer step (model loading,
tokenization and the final save excluded for all three), as wall time (`tokens_per_s_*`) and as process
CPU time (`tokens_per_cpu_s_*`, which load from other processes on a shared machine does not inflate).
Runs alternate engines and the best of `--reps` is kept. Model: a small random Qwen3 (`ssd.models.tiny`) on synthetic sample records.
Does not: measure GPUs unless run on one, or multi-process throughput.
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import tempfile
import time
from importlib import metadata
from pathlib import Path

from ssd.runtime import configure_threads
from ssd.cache import atomic_write_json, device_info

RESULT = Path(__file__).resolve().parent / "results" / "train.json"
SPEC = {"hidden_size": 128, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
        "head_dim": 32, "intermediate_size": 384, "max_position_embeddings": 1024}


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


def run_package(cfg) -> tuple[int, float, float]:
    """(tokens, wall s, CPU s) of the training loop, from the run's per-step log."""
    from ssd.sft import train_config  # noqa: PLC0415

    train_config(cfg)
    log = [json.loads(line) for line in (Path(cfg.output_dir) / "train_log.jsonl").read_text().splitlines()]
    return sum(r["input_tokens"] for r in log), log[-1]["elapsed_s"], log[-1]["cpu_s"]


def run_trl(cfg, examples: list[dict], out: Path) -> tuple[int, float, float]:
    """(tokens, wall s, CPU s) of TRL's training loop: from train begin to the last step's end."""
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
    return (trainer.state.num_input_tokens_seen, clock["wall_end"] - clock["wall"], clock["cpu_end"] - clock["cpu"])


def version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--examples", type=int, default=192)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    threads = configure_threads()
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        result = measure(args, Path(tmp), threads)
    atomic_write_json(RESULT, result)
    print(json.dumps(result, indent=2))
    return 0


def measure(args: argparse.Namespace, work: Path, threads: int) -> dict:
    from transformers import AutoModelForCausalLM  # noqa: PLC0415

    from ssd.sft import SFTConfig  # noqa: PLC0415
    from ssd.sft.data import build_examples, read_records  # noqa: PLC0415
    from ssd.sft.modeling import load_tokenizer  # noqa: PLC0415
    from ssd.models.tiny import TinySpec, create_model, train_tokenizer  # noqa: PLC0415

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
    rate: dict[str, float] = {}
    cpu_rate: dict[str, float] = {}
    for rep in range(args.reps):
        runs = {engine: (lambda engine=engine: run_package(
                    SFTConfig(**{**cfg.__dict__, "engine": engine, "output_dir": str(work / f"{engine}-{rep}")})))
                for engine in ("loop", "distributed")}
        runs["trl"] = lambda: run_trl(cfg, examples, work / f"trl-{rep}")
        for name, run in runs.items():
            tokens, wall, cpu = run()
            rate[name] = max(rate.get(name, 0.0), tokens / wall)
            cpu_rate[name] = max(cpu_rate.get(name, 0.0), tokens / cpu)
    info = device_info()
    return {
        **{f"tokens_per_s_{name}": round(value, 1) for name, value in rate.items()},
        **{f"tokens_per_cpu_s_{name}": round(value, 1) for name, value in cpu_rate.items()},
        "loop_vs_trl": round(rate["loop"] / rate["trl"], 3),
        "loop_vs_trl_cpu": round(cpu_rate["loop"] / cpu_rate["trl"], 3),
        "model_params": AutoModelForCausalLM.from_pretrained(model).num_parameters(),
        "steps": args.steps, "micro_batch_size": cfg.micro_batch_size,
        "grad_accum_steps": cfg.grad_accum_steps, "examples": stats.examples,
        "mean_tokens_per_example": round(stats.input_tokens / stats.examples, 1), "reps": args.reps,
        "torch_threads": threads,
        "machine": f"{platform.machine()} {info.get('processor')} cpus={info.get('cpu_count')}",
        "gpus": ",".join(info.get("gpus", [])) or None,
        "python": platform.python_version(),
        "torch": version("torch"), "transformers": version("transformers"), "trl": version("trl"),
        "accelerate": version("accelerate"),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


if __name__ == "__main__":
    raise SystemExit(main())
