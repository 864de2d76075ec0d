"""SFT configs: the paper recipe YAMLs, global-batch arithmetic, strict validation, launch configs."""
import json
from pathlib import Path

import pytest

from ssd.config import ConfigError, build, load_config
from ssd.sft import SFTConfig

SFT = Path(__file__).resolve().parent.parent / "experiments" / "sft"
PAPER_RECIPE = {"lr": 5e-6, "min_lr": 1e-6, "adam_beta1": 0.9, "adam_beta2": 0.95, "weight_decay": 0.1,
                "global_batch_size": 32, "max_seq_len": 65536, "schedule": "cosine", "loss_on": "completion"}
PAPER_LENGTH = {"paper-instruct": (2500, 250, 250), "paper-thinking": (300, 50, 50)}  # steps, warmup, ckpt


@pytest.mark.parametrize("name", sorted(PAPER_LENGTH))
def test_paper_yamls_carry_the_papers_recipe(name):
    cfg = load_config(SFT / f"{name}.yaml", SFTConfig)
    assert {k: getattr(cfg, k) for k in PAPER_RECIPE} == PAPER_RECIPE
    assert (cfg.max_steps, cfg.warmup_steps, cfg.save_every) == PAPER_LENGTH[name]
    assert cfg.bf16 and cfg.engine == "distributed"


def test_cpu_default_loads_and_uses_the_loop():
    assert load_config(SFT / "cpu.yaml", SFTConfig).engine == "loop"


def test_global_batch_sets_accumulation_per_world_size():
    cfg = load_config(SFT / "paper-instruct.yaml", SFTConfig)
    assert [cfg.accumulation_steps(w) for w in (1, 8, 16, 32)] == [32, 4, 2, 1]
    with pytest.raises(ConfigError, match="global_batch_size: 32 is not a multiple"):
        cfg.accumulation_steps(3)


def test_epochs_set_the_number_of_steps():
    cfg = SFTConfig(model="m", data="d", output_dir="o", epochs=2, micro_batch_size=4, grad_accum_steps=2)
    assert cfg.total_steps(n_examples=20, world_size=1) == 5


@pytest.mark.parametrize("override, message", [
    ({"min_lr": 1.0}, "min_lr: expected a value in \\[0, lr"),
    ({"engine": "megatron"}, "engine: expected one of"),
    ({"global_batch_size": 32, "grad_accum_steps": 4}, "set either global_batch_size or grad_accum_steps"),
    ({"max_steps": 0, "epochs": 0}, "epochs: expected a number > 0 when max_steps is 0"),
    ({"max_steps": 0, "epochs": -1}, "epochs: expected a number >= 0"),
    ({"max_steps": -1}, "max_steps: expected an integer >= 0"),
    ({"report_to": ["mlflow"]}, "report_to: expected a list drawn from"),
])
def test_impossible_settings_name_the_field(override, message):
    base = {"model": "m", "data": "d", "output_dir": "o", "max_steps": 1}
    with pytest.raises(ConfigError, match=message):
        build(SFTConfig, {**base, **override}, source="x.yaml")


@pytest.mark.parametrize("name", sorted(p.name for p in (SFT / "accelerate").glob("*.yaml")))
def test_launch_configs_load_with_accelerate(name):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(SFT / "accelerate" / name))
    ds_file = (config.deepspeed_config or {}).get("deepspeed_config_file")
    if ds_file:
        assert json.loads((SFT.parent.parent / ds_file).read_text())["zero_optimization"]["stage"] == 3
    assert config.mixed_precision == "bf16" or ds_file
    assert config.num_processes >= 8


def test_run_identity_does_not_depend_on_how_a_local_path_is_spelled(tmp_path, monkeypatch):
    from ssd.sft.config import SFTConfig

    (tmp_path / "model").mkdir()
    (tmp_path / "data.jsonl").write_text("")
    monkeypatch.chdir(tmp_path)
    relative = SFTConfig(model="model", data="data.jsonl", output_dir="out")
    absolute = SFTConfig(model=str(tmp_path / "model"), data=str(tmp_path / "data.jsonl"), output_dir="out")
    assert relative.identity() == absolute.identity()
