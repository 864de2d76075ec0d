"""The distributed engine (HF Trainer): same losses as the loop, 2 CPU processes = 1, resume, launch configs."""
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from test_sft_loop import losses, weights, write_config
from test_sft_support import sample_file, tiny_config, tiny_model  # noqa: F401

from ssd.sft import train_config

REPO = Path(__file__).resolve().parent.parent


def test_loop_and_distributed_engine_give_the_same_first_losses(tiny_model, sample_file, tmp_path):  # noqa: F811
    loop = tiny_config(tiny_model, sample_file, tmp_path / "loop", max_steps=3, micro_batch_size=2,
                       grad_accum_steps=2)
    train_config(loop)
    train_config(dataclasses.replace(loop, engine="distributed", output_dir=str(tmp_path / "dist")))
    assert losses(tmp_path / "dist") == pytest.approx(losses(tmp_path / "loop"), rel=1e-5)


def test_two_cpu_processes_reproduce_the_single_process_trajectory(tiny_model, sample_file, tmp_path):  # noqa: F811
    single = tiny_config(tiny_model, sample_file, tmp_path / "one", max_steps=3, micro_batch_size=4,
                         global_batch_size=8)
    two = dataclasses.replace(single, engine="distributed", micro_batch_size=2, output_dir=str(tmp_path / "two"))
    env = {**os.environ, "SSD_THREADS": "1", "PYTHONPATH": str(REPO)}
    subprocess.run(
        # torchrun: what accelerate's multi-GPU launcher runs (accelerate launches one process on CPU)
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "ssd.cli", "train", "--config", str(write_config(two, tmp_path / "two.yaml"))],
        cwd=REPO, env=env, check=True, capture_output=True, timeout=300,
    )
    assert json.loads((tmp_path / "two" / "manifest.json").read_text())["world_size"] == 2
    train_config(single)
    assert losses(tmp_path / "two") == pytest.approx(losses(tmp_path / "one"), rel=1e-5)
    for name, value in weights(tmp_path / "one" / "final").items():
        torch.testing.assert_close(weights(tmp_path / "two" / "final")[name], value, rtol=1e-4, atol=1e-6)


def test_distributed_engine_resumes_from_its_last_checkpoint(tiny_model, sample_file, tmp_path):  # noqa: F811
    cfg = tiny_config(tiny_model, sample_file, tmp_path / "full", engine="distributed", max_steps=4, save_every=2)
    full = train_config(cfg)
    cut = tmp_path / "cut"
    shutil.copytree(tmp_path / "full" / "checkpoint-2", cut / "checkpoint-2")
    shutil.copy(tmp_path / "full" / "sft_config.json", cut / "sft_config.json")
    resumed = train_config(dataclasses.replace(cfg, output_dir=str(cut)))
    assert losses(cut) == losses(tmp_path / "full")[2:]
    assert all(torch.equal(v, weights(resumed)[k]) for k, v in weights(full).items())


def test_distributed_lora_matches_the_loop_and_saves_a_merged_model(tiny_model, sample_file, tmp_path):  # noqa: F811
    from ssd.sft import LoraSettings

    loop = tiny_config(tiny_model, sample_file, tmp_path / "loop", max_steps=2, lora=LoraSettings(r=4, alpha=8))
    train_config(loop)
    final = train_config(dataclasses.replace(loop, engine="distributed", output_dir=str(tmp_path / "dist")))
    assert losses(tmp_path / "dist") == pytest.approx(losses(tmp_path / "loop"), rel=1e-5)
    assert not (final / "adapter_config.json").exists()
    for name, value in weights(tmp_path / "loop" / "final").items():
        torch.testing.assert_close(weights(final)[name], value, rtol=1e-4, atol=1e-6)
