"""Checkpoints of the torch loop: a Hugging Face directory plus optimizer, scheduler and RNG state.

Guarantees:
- `save_checkpoint` writes `<output_dir>/checkpoint-<step>/` through a temporary folder renamed into
  place, so a run killed mid-save leaves no half checkpoint under the final name. The folder holds the
  model (`save_pretrained`; the adapter only for LoRA), the tokenizer, `optimizer.pt`, `scheduler.pt`,
  `rng_state.pth` (python, numpy, torch CPU and CUDA) and `trainer_state.json` with the global step.
- `latest_checkpoint` returns the highest-step folder that has `trainer_state.json` (the file both this
  loop and the Hugging Face Trainer write last), or None.
- `restore` loads optimizer, scheduler and RNG state and returns the step to continue from.

Does not: prune old checkpoints.
"""
from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import numpy as np
import torch

from ssd.sft.config import CHECKPOINT_PREFIX

PREFIX = CHECKPOINT_PREFIX
STATE_FILE = "trainer_state.json"


def latest_checkpoint(output_dir: Path) -> Path | None:
    found = []
    for p in Path(output_dir).glob(f"{PREFIX}*"):
        suffix = p.name[len(PREFIX):]
        if suffix.isdigit() and (p / STATE_FILE).exists():
            found.append((int(suffix), p))
    return max(found)[1] if found else None


def _rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def save_checkpoint(output_dir: Path, step: int, model, tokenizer, optimizer, scheduler) -> Path:
    final = Path(output_dir) / f"{PREFIX}{step}"
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
    torch.save(_rng_state(), tmp / "rng_state.pth")
    (tmp / STATE_FILE).write_text(json.dumps({"global_step": step}) + "\n", encoding="utf-8")
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return final


def restore(checkpoint: Path, optimizer, scheduler) -> int:
    optimizer.load_state_dict(torch.load(checkpoint / "optimizer.pt", weights_only=True))
    scheduler.load_state_dict(torch.load(checkpoint / "scheduler.pt", weights_only=True))
    rng = torch.load(checkpoint / "rng_state.pth", weights_only=False)
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    torch.set_rng_state(rng["cpu"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    return json.loads((checkpoint / STATE_FILE).read_text(encoding="utf-8"))["global_step"]
