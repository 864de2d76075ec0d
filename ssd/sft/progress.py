"""Per-step training metrics: a JSONL log, a progress bar, and optionally TensorBoard or W&B.

Guarantees:
- `StepLogger.log(step, loss=..., lr=..., ...)` appends one flushed JSON line per optimizer step with
  the given metrics plus `tokens_per_s` (input tokens since the previous step over wall time),
  `elapsed_s` and `cpu_s` (wall and process CPU seconds since the logger started); a resumed run
  appends to the same file.
- The progress bar (tqdm, to stderr) shows loss, learning rate and tokens/s.
- Requesting `tensorboard` or `wandb` without its package installed is a `ConfigError` at start, not a
  silent no-op.

Does not: aggregate across processes (callers pass global figures and log from the main process only).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ssd.config import ConfigError
from ssd.records import JsonlWriter


def _open_tensorboard(run_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: PLC0415 - optional; only with report_to
    except ImportError:
        raise ConfigError("report_to: tensorboard needs the tensorboard package (pip install tensorboard)") from None
    return SummaryWriter(log_dir=str(run_dir / "tensorboard"))


def _open_wandb(run_dir: Path, config: dict[str, Any]):
    try:
        import wandb  # noqa: PLC0415 - optional; only with report_to
    except ImportError:
        raise ConfigError("report_to: wandb needs the wandb package (pip install wandb)") from None
    return wandb.init(dir=str(run_dir), config=config, resume="allow")


class StepLogger:
    def __init__(self, log_file: Path, total_steps: int, start_step: int = 0, progress: bool = True,
                 report_to: list[str] | tuple[str, ...] = (), run_dir: Path | None = None,
                 config: dict[str, Any] | None = None):
        self._writer = JsonlWriter(log_file)
        run_dir = run_dir or log_file.parent
        self._tensorboard = _open_tensorboard(run_dir) if "tensorboard" in report_to else None
        self._wandb = _open_wandb(run_dir, config or {}) if "wandb" in report_to else None
        self._bar = None
        if progress:
            self._bar = tqdm(total=total_steps, initial=start_step, desc="sft", unit="step", dynamic_ncols=True)
        self._t0 = self._last = time.perf_counter()
        self._cpu0 = time.process_time()

    def log(self, step: int, *, input_tokens: int, **metrics: float) -> dict[str, Any]:
        now = time.perf_counter()
        record = {"step": step, **metrics, "input_tokens": input_tokens,
                  "tokens_per_s": input_tokens / max(now - self._last, 1e-9), "elapsed_s": now - self._t0,
                  "cpu_s": time.process_time() - self._cpu0}
        self._last = now
        self._writer.write(record)
        if self._bar is not None:
            self._bar.set_postfix(loss=f"{record.get('loss', float('nan')):.4f}",
                                  lr=f"{record.get('lr', float('nan')):.2e}",
                                  tok_s=f"{record['tokens_per_s']:.0f}", refresh=False)
            self._bar.update(1)
        scalars = {k: v for k, v in record.items() if k != "step" and isinstance(v, (int, float))}
        if self._tensorboard is not None:
            for name, value in scalars.items():
                self._tensorboard.add_scalar(f"train/{name}", value, step)
        if self._wandb is not None:
            self._wandb.log({f"train/{k}": v for k, v in scalars.items()}, step=step)
        return record

    def close(self) -> None:
        self._writer.close()
        if self._bar is not None:
            self._bar.close()
        if self._tensorboard is not None:
            self._tensorboard.close()
        if self._wandb is not None:
            self._wandb.finish()
