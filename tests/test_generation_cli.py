"""`ssd generate` end to end on a tiny Qwen3 written by the test: n samples per problem into a stage folder
that is reused on a second run and not after a change of the prompt text; a bad config key is one clear error."""
from pathlib import Path

from ssd.cli import main as ssd_main
from ssd.data.problems import write_problems
from ssd.records import Problem
from ssd.generation.sampling import read_shards


def test_generate_writes_n_samples_per_problem_and_reuses_the_stage(tmp_path, capsys, monkeypatch, tiny_model_dir):
    model = tiny_model_dir
    write_problems(tmp_path / "problems.jsonl",
                   [Problem(id=f"p{i}", source="t", question=f"Echo {i}.", kind="stdin", tests=[]) for i in range(3)])
    config = tmp_path / "gen.yaml"
    config.write_text(f"model: {model}\nproblems: {tmp_path / 'problems.jsonl'}\nout_root: {tmp_path / 'runs'}\n"
                      "decoding: {temperature: 0.7, top_k: 20, top_p: 0.8, max_tokens: 5, n: 4}\n")
    assert ssd_main(["generate", "--config", str(config), "--no-progress"]) == 0
    out = Path(capsys.readouterr().out.strip())
    assert len(read_shards(out)) == 12 and (out / "manifest.json").exists()
    assert ssd_main(["generate", "--config", str(config), "--no-progress"]) == 0
    assert Path(capsys.readouterr().out.strip()) == out
    import ssd.prompts

    monkeypatch.setattr(ssd.prompts, "PAPER_SYSTEM_PROMPT", ssd.prompts.PAPER_SYSTEM_PROMPT + " Be brief.")
    assert ssd_main(["generate", "--config", str(config), "--no-progress"]) == 0
    changed = Path(capsys.readouterr().out.strip())
    assert changed != out and all("Be brief." in s.prompt for s in read_shards(changed))


def test_unknown_config_key_is_one_error_line(tmp_path, capsys):
    config = tmp_path / "gen.yaml"
    config.write_text("model: m\nproblems: p\ntemprature: 1.0\n")
    assert ssd_main(["generate", "--config", str(config)]) == 2
    assert "temprature: unknown key" in capsys.readouterr().err
