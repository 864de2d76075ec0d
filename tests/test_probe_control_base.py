"""scripts/probe_control_base: a control base recipe with overrides, trained once into a stage root, calibrated."""
import json

from scripts.probe_control_base import main

TINY = ["counts.pretrain=120", "counts.pool=5", "counts.val=8", "counts.eval=5", "base_sft.epochs=1.0",
        "base_sft.warmup_steps=1", "spec.hidden_size=32", "spec.num_hidden_layers=1", "spec.intermediate_size=64",
        "spec.head_dim=8"]


def test_probe_rows_record_the_override_and_a_rerun_reads_the_cache(tmp_path):
    out, root = tmp_path / "rows.jsonl", tmp_path / "runs"
    for _ in range(2):
        assert main(["--name", "tiny", "--seeds", "0", "--root", str(root), "--out", str(out), *TINY,
                     "base_sft.min_lr=1.0e-4"]) == 0
    first, second = [json.loads(line) for line in out.read_text().splitlines()]
    assert first["settings"]["base_sft"]["min_lr"] == 1e-4 and first["settings"]["pretrain_problems"] == 120
    assert first["val"] == second["val"] and first["model"] == second["model"]
    assert set(first["val"]) == {"fork_popular", "fork_correct", "fork_junk", "lock_dictated"}
    for quantity in (*first["val"].values(), *first["pretrain"].values()):
        assert 0 <= quantity["mean_abs_diff"] <= quantity["max_abs_diff"] <= 1
        assert abs(quantity["mean_diff"]) <= quantity["mean_abs_diff"] + 1e-4
    assert len(list(root.glob("control-base-init-*"))) == 1 and first["trained_on"]["cpu_model"]
