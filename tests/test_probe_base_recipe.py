"""scripts/probe_base_recipe: a base recipe with overrides, trained once into a stage root, and its copy accuracy."""
import json

from scripts.probe_base_recipe import main

TINY = ["problems.easy=20", "problems.medium=20", "problems.hard=0", "renders=1", "vocab_size=400", "epochs=0.5",
        "micro_batch_size=8", "warmup_steps=1", "spec.hidden_size=32", "spec.num_hidden_layers=1",
        "spec.intermediate_size=64", "spec.head_dim=8", "spec.max_position_embeddings=256"]


def test_probe_rows_record_the_override_and_a_rerun_reads_the_cache(tmp_path):
    out, root = tmp_path / "rows.jsonl", tmp_path / "runs"
    for _ in range(2):
        assert main(["--name", "tiny", "--seeds", "0", "--root", str(root), "--out", str(out), "--every", "1",
                     *TINY, "lr=2.0e-3"]) == 0
    first, second = [json.loads(line) for line in out.read_text().splitlines()]
    assert first["settings"]["lr"] == 2e-3 and first["settings"]["spec"]["hidden_size"] == 32
    assert first["final"] == second["final"] and first["model"] == second["model"]
    assert all(0 <= v <= 1 for v in first["final"].values() if v is not None)
    assert len(list(root.glob("testbed-base-*"))) == 1 and first["trained_on"]["cpu_model"]
