"""The torch-loop engine: accumulation equivalence, determinism, kill-and-resume, LoRA, reuse and the CLI."""
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file
from test_sft_support import sample_file, tiny_config, tiny_model  # noqa: F401
from transformers import AutoModelForCausalLM

from ssd.cli import main as ssd_main
from ssd.config import ConfigError
from ssd.sft import LoraSettings, train_config

REPO = Path(__file__).resolve().parent.parent


def losses(run_dir) -> list[float]:
    return [json.loads(line)["loss"] for line in (Path(run_dir) / "train_log.jsonl").read_text().splitlines()]


def weights(final_dir) -> dict[str, torch.Tensor]:
    return load_file(Path(final_dir) / "model.safetensors")


def write_config(cfg, path: Path) -> Path:
    path.write_text(yaml.safe_dump(dataclasses.asdict(cfg)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference_run(tiny_model, sample_file, tmp_path_factory):  # noqa: F811
    """An uninterrupted 40-step run with checkpoints every 3 steps."""
    cfg = tiny_config(tiny_model, sample_file, tmp_path_factory.mktemp("ref") / "run", max_steps=40, save_every=3)
    return cfg, train_config(cfg)


def test_accumulation_1x8_equals_micro_batch_8x1(tiny_model, sample_file, tmp_path):  # noqa: F811
    one = train_config(tiny_config(tiny_model, sample_file, tmp_path / "a", micro_batch_size=1, grad_accum_steps=8))
    eight = train_config(tiny_config(tiny_model, sample_file, tmp_path / "b", micro_batch_size=8, grad_accum_steps=1))
    assert losses(tmp_path / "a") == pytest.approx(losses(tmp_path / "b"), rel=1e-5)
    for name, value in weights(one).items():
        torch.testing.assert_close(value, weights(eight)[name], rtol=1e-4, atol=1e-6)


def test_same_seed_gives_identical_weights(reference_run, tmp_path):
    cfg, final = reference_run
    again = train_config(dataclasses.replace(cfg, output_dir=str(tmp_path / "again"), save_every=0))
    assert all(torch.equal(v, weights(again)[k]) for k, v in weights(final).items())


def test_killed_run_resumes_to_the_same_final_weights(reference_run, tmp_path):
    cfg, final = reference_run
    resumed_cfg = dataclasses.replace(cfg, output_dir=str(tmp_path / "killed"))
    env = {**os.environ, "SSD_THREADS": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ssd.cli", "train", "--config", str(write_config(resumed_cfg, tmp_path / "c.yaml"))],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    log = tmp_path / "killed" / "train_log.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if log.exists() and len(log.read_text().splitlines()) >= 7:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "killed" / "final").exists(), "the run finished before it could be killed"
    assert any((tmp_path / "killed").glob("checkpoint-*"))
    resumed = train_config(resumed_cfg)
    assert all(torch.equal(v, weights(resumed)[k]) for k, v in weights(final).items())


def test_finished_run_is_returned_not_retrained(reference_run):
    cfg, final = reference_run
    before = (Path(final) / "model.safetensors").stat().st_mtime_ns
    assert train_config(cfg) == final
    assert (Path(final) / "model.safetensors").stat().st_mtime_ns == before


def test_output_dir_of_another_run_is_refused(reference_run):
    cfg, _ = reference_run
    with pytest.raises(ConfigError, match="different config .*fields lr"):
        train_config(dataclasses.replace(cfg, lr=cfg.lr * 2))


def test_lora_final_checkpoint_is_a_merged_plain_model(tiny_model, sample_file, tmp_path):  # noqa: F811
    cfg = tiny_config(tiny_model, sample_file, tmp_path / "lora", lora=LoraSettings(r=4, alpha=8))
    final = train_config(cfg)
    assert not (final / "adapter_config.json").exists()
    tuned = AutoModelForCausalLM.from_pretrained(final).state_dict()
    base = AutoModelForCausalLM.from_pretrained(tiny_model).state_dict()
    assert torch.equal(tuned["model.embed_tokens.weight"], base["model.embed_tokens.weight"])
    assert not torch.equal(tuned["model.layers.0.self_attn.q_proj.weight"],
                           base["model.layers.0.self_attn.q_proj.weight"])


def test_cli_trains_with_overrides_and_prints_the_final_path(tiny_model, sample_file, tmp_path, capsys):  # noqa: F811
    path = write_config(tiny_config(tiny_model, sample_file, tmp_path / "cli"), tmp_path / "c.yaml")
    assert ssd_main(["train", "--config", str(path), "max_steps=2"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "cli" / "final")
    assert len(losses(tmp_path / "cli")) == 2


def test_cli_rejects_an_unknown_key_with_one_error(tiny_model, sample_file, tmp_path, capsys):  # noqa: F811
    path = write_config(tiny_config(tiny_model, sample_file, tmp_path / "cli"), tmp_path / "c.yaml")
    assert ssd_main(["train", "--config", str(path), "learning_rate=1e-3"]) == 2
    assert "learning_rate: unknown key for SFTConfig" in capsys.readouterr().err
    assert not (tmp_path / "cli").exists()


def test_report_to_without_its_package_is_a_config_error(tiny_model, sample_file, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # makes the import fail
    with pytest.raises(ConfigError, match="tensorboard needs the tensorboard package"):
        train_config(tiny_config(tiny_model, sample_file, tmp_path / "tb", report_to=["tensorboard"]))


def _probe(tiny_model, sample_file):  # noqa: F811
    from ssd.sft.data import build_examples, collate, read_records
    from ssd.sft.modeling import load_tokenizer

    records, _ = read_records([sample_file])
    examples, _ = build_examples(records[:6], load_tokenizer(tiny_model), max_seq_len=256)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    return model, collate(examples, 0)


def _loss_and_grads(model, compute):
    model.zero_grad()
    loss = compute()
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in model.parameters()]


def test_chunked_unmasked_output_layer_matches_the_full_masked_forward(tiny_model, sample_file):  # noqa: F811
    from ssd.sft.modeling import OutputLayer, nll_sum

    model, batch = _probe(tiny_model, sample_file)
    layer = OutputLayer.verified(model, batch)
    assert layer is not None
    layer.chunk_tokens = 7  # many chunks, each recomputed in backward
    full = _loss_and_grads(model, lambda: nll_sum(model(**{k: batch[k] for k in ("input_ids", "attention_mask")})
                                                  .logits, batch["labels"]))
    chunked = _loss_and_grads(model, lambda: layer.nll_sum(batch))
    torch.testing.assert_close(chunked[0], full[0], rtol=1e-5, atol=0)
    for got, expected in zip(chunked[1], full[1]):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_output_layer_is_refused_when_it_disagrees_with_the_model(tiny_model, sample_file):  # noqa: F811
    from ssd.sft.modeling import OutputLayer

    model, batch = _probe(tiny_model, sample_file)
    model.get_output_embeddings = lambda: torch.nn.Linear(32, model.config.vocab_size, bias=False)  # not the head
    assert OutputLayer.verified(model, batch) is None


def test_gradient_checkpointing_leaves_the_losses_unchanged(tiny_model, sample_file, tmp_path):  # noqa: F811
    train_config(tiny_config(tiny_model, sample_file, tmp_path / "plain", max_steps=3))
    train_config(tiny_config(tiny_model, sample_file, tmp_path / "ckpt", max_steps=3, gradient_checkpointing=True))
    assert losses(tmp_path / "ckpt") == pytest.approx(losses(tmp_path / "plain"), rel=1e-5)


def test_bf16_autocast_tracks_the_fp32_losses(tiny_model, sample_file, tmp_path):  # noqa: F811
    train_config(tiny_config(tiny_model, sample_file, tmp_path / "fp32", max_steps=3))
    final = train_config(tiny_config(tiny_model, sample_file, tmp_path / "bf16", max_steps=3, bf16=True))
    assert losses(tmp_path / "bf16") == pytest.approx(losses(tmp_path / "fp32"), rel=2e-2)
    assert all(v.dtype == torch.float32 for v in weights(final).values())  # fp32 master weights


def test_plain_text_language_modelling_lowers_the_loss(tiny_model, tmp_path):  # noqa: F811
    from test_sft_support import sample_records, write_jsonl

    texts = [{"text": r["completion"]} for r in sample_records(16)]
    data = write_jsonl(tmp_path / "text.jsonl", texts)
    train_config(tiny_config(tiny_model, data, tmp_path / "lm", loss_on="all", max_steps=12, warmup_steps=0))
    trajectory = losses(tmp_path / "lm")
    assert trajectory[-1] < trajectory[0] - 0.5


def test_manifest_reports_dropped_overlong_examples(tiny_model, tmp_path):  # noqa: F811
    from test_sft_support import sample_records, write_jsonl

    rows = sample_records(8)
    rows[3]["completion"] = "x = 1\n" * 300
    data = write_jsonl(tmp_path / "s.jsonl", rows)
    train_config(tiny_config(tiny_model, data, tmp_path / "run", max_steps=1))
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert (manifest["data"]["examples"], manifest["data"]["overlong"], manifest["data"]["dropped"]) == (7, 1, 1)


def test_train_restores_the_callers_torch_thread_count(tiny_model, sample_file, tmp_path):  # noqa: F811
    before = torch.get_num_threads()
    train_config(tiny_config(tiny_model, sample_file, tmp_path / "run", max_steps=1, threads=before + 1))
    assert torch.get_num_threads() == before
