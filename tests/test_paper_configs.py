"""Every paper config passes its dry run, matches the independently transcribed Tables 3/4 and the SFT
recipe, and every paper table and figure is mapped in experiments/README.md."""
import json
import re

import pytest
import yaml

from ssd.commands.paper import main
from ssd.experiment.config import load_experiment
from ssd.studies.paper import PAPER_DIR, SWEEP_DIR

MODELS = sorted(p.stem for p in PAPER_DIR.glob("*.yaml"))
SWEEPS = sorted(p.stem for p in SWEEP_DIR.glob("*.yaml"))
TRANSCRIBED = PAPER_DIR.parent.parent / "paper_figures" / "data"
README = PAPER_DIR.parent / "README.md"


def test_there_is_a_config_for_every_table_2_model():
    table3 = yaml.safe_load((TRANSCRIBED / "table3.yaml").read_text())
    assert sorted(m["config"] for m in table3["models"]) == MODELS


@pytest.mark.parametrize("name", MODELS)
def test_model_dry_run_passes(name, tmp_path, capsys):
    out = tmp_path / "report.json"
    assert main(["--model", name, "--dry-run", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["ok"] and report["totals"]["gpu_hours"] > 0
    assert f"dry run: {name}" in capsys.readouterr().out


@pytest.mark.parametrize("name", SWEEPS)
def test_sweep_dry_run_passes(name, tmp_path):
    out = tmp_path / "report.json"
    assert main(["--sweep", name, "--dry-run", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["points"] >= 1


@pytest.mark.parametrize("name", MODELS)
def test_paper_configs_grade_in_official_semantics(name):
    assert load_experiment(PAPER_DIR / f"{name}.yaml").semantics == "official"


def test_unknown_grading_semantics_is_refused_at_load(tmp_path):
    text = (PAPER_DIR / f"{MODELS[0]}.yaml").read_text().replace("semantics: official", "semantics: lenient")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(Exception, match="semantics: expected one of"):
        load_experiment(path)


def test_dry_run_exits_nonzero_when_the_model_does_not_fit(capsys):
    assert main(["--model", "qwen3-30b-a3b-instruct-2507", "--dry-run",
                 "--set", "gpus.memory_gb=80", "--set", "gpus.name=H100"]) == 1
    assert "DOES NOT FIT" in capsys.readouterr().out


def _decoding(cfg_decoding):
    return {"temperature": cfg_decoding.temperature, "top_k": cfg_decoding.top_k, "top_p": cfg_decoding.top_p}


@pytest.mark.parametrize("table, fields", [
    ("table3", {"generation": "synthesis_decoding", "evaluation": "ssd_decoding"}),
    ("table4", {"evaluation": "base_decoding"}),
])
def test_decoding_matches_the_transcribed_table(table, fields):
    for row in yaml.safe_load((TRANSCRIBED / f"{table}.yaml").read_text())["models"]:
        cfg = load_experiment(PAPER_DIR / f"{row['config']}.yaml")
        for column, attr in fields.items():
            assert _decoding(getattr(cfg, attr)) == row[column], (row["config"], column)


@pytest.mark.parametrize("name", MODELS)
def test_sft_recipe_is_the_papers(name):
    cfg = load_experiment(PAPER_DIR / f"{name}.yaml")
    thinking = "thinking" in name or name == "gpt-oss-20b"
    recipe = {"lr": 5e-6, "min_lr": 1e-6, "weight_decay": 0.1, "adam_beta1": 0.9, "adam_beta2": 0.95,
              "global_batch_size": 32, "max_seq_len": 65536,
              "max_steps": 300 if thinking else 2500, "warmup_steps": 50 if thinking else 250}
    assert {k: cfg.sft[k] for k in recipe} == recipe
    assert cfg.n_eval_samples == 10 and cfg.ks == [1, 5]
    assert {b.release for b in cfg.benchmarks} == {"v5", "v6"}


def test_readme_maps_every_table_and_figure_and_config():
    text = README.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    artefacts = {m.group(0) for line in rows for m in re.finditer(r"(Table|Fig\.) \d+", line.split("|")[1])}
    assert artefacts >= {f"Table {i}" for i in range(1, 7)} | {f"Fig. {i}" for i in range(1, 16)}
    for path in [*PAPER_DIR.glob("*.yaml"), *SWEEP_DIR.glob("*.yaml")]:
        assert str(path.relative_to(PAPER_DIR.parent)) in text, path.name


def test_make_target_form_reaches_sweeps(capsys):
    # make reproduce-paper MODEL=sweeps/<name> passes --model sweeps/<name>
    assert main(["--model", "sweeps/fig15-fig07-stress-test", "--dry-run"]) == 0
    assert "dry run: sweep of 10 points" in capsys.readouterr().out


def test_best_over_checkpoints_reports_the_value_and_where_it_was():
    from ssd.studies.paper import best_over_checkpoints

    def arm(p1, p5):
        return {"summary": {"pass_at_k": {"pass@1": {"value": p1}, "pass@5": {"value": p5}}}}

    entry = {"ssd": arm(0.30, 0.60), "ssd_by_step": {"250": arm(0.35, 0.55), "500": arm(0.25, 0.50)}}
    assert best_over_checkpoints(entry) == {"pass@1": {"value": 0.35, "checkpoint": "250"},
                                            "pass@5": {"value": 0.60, "checkpoint": "final"}}
