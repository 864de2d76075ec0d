"""Sharded, resumable sampling on a tiny Qwen3 written by the test: layout, seeds, reuse, resume after a
real SIGKILL (1,000 completions), request pinning, run health and `ssd sample`."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ssd.config import ConfigError, DecodingConfig
from ssd.generation import derive_seed, make_backend
from ssd.records import Problem, Sample, read_jsonl
from ssd.commands.sample import main
from ssd.generation.sampling import generate_samples, read_shards

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def model_dir(tiny_model_dir):
    return tiny_model_dir


@pytest.fixture(scope="module")
def backend(model_dir):
    return make_backend("transformers", str(model_dir), batch_size=16)


def problems(n):
    return [Problem(id=f"p{i}", source="t", question=f"Print {i}.", kind="stdin", tests=[]) for i in range(n)]


FAST = DecodingConfig(temperature=1.0, top_k=20, top_p=0.9, max_tokens=6, n=2, seed=3)


def run(backend, out_dir, decoding=FAST, n_problems=6, **kw):
    return generate_samples(backend, problems(n_problems), prompt_style="official-raw", tokenizer=None,
                            decoding=decoding, out_dir=out_dir, shard_size=4, progress=False, **kw)


def test_every_problem_and_sample_index_is_written_once_across_shards(backend, tmp_path):
    out = run(backend, tmp_path / "s")
    assert sorted(p.name for p in out.glob("samples-*.jsonl")) == [f"samples-0000{i}.jsonl" for i in range(3)]
    keys = [(s.problem_id, s.sample_index) for s in read_shards(out)]
    assert sorted(keys) == sorted((f"p{i}", j) for i in range(6) for j in range(2))


def test_each_record_carries_its_seed_decoding_and_prompt(backend, tmp_path):
    record = read_shards(run(backend, tmp_path / "s"))[3]
    assert record.seed == derive_seed(FAST.seed, record.problem_id, record.sample_index)
    assert record.decoding == FAST.record()
    assert record.prompt.startswith("You will be given a question")
    again = backend.generate([record.prompt], DecodingConfig(**{**FAST.__dict__, "n": 1}), seeds=[record.seed])
    assert again[0][0].text == record.completion


def test_manifest_and_health_are_written_at_the_end(backend, tmp_path):
    out = run(backend, tmp_path / "s")
    manifest = json.loads((out / "manifest.json").read_text())
    health = json.loads((out / "health.json").read_text())
    assert manifest["complete"] and manifest["n_samples"] == 12 and manifest["health"] == health
    assert health["eos_rate"] + health["max_token_hit_rate"] == pytest.approx(1.0)


def test_a_completed_folder_is_returned_untouched(backend, tmp_path):
    out = run(backend, tmp_path / "s")
    before = {p: p.stat().st_mtime_ns for p in out.iterdir()}
    assert run(backend, out) == out
    assert {p: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_resuming_with_a_different_request_is_refused(backend, tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "request.json").write_text("{}")
    with pytest.raises(ConfigError, match="different request"):
        run(backend, tmp_path / "s")


def test_a_completed_folder_of_another_prompt_text_is_refused_not_returned(backend, tmp_path, monkeypatch):
    import ssd.prompts

    out = run(backend, tmp_path / "s")
    monkeypatch.setattr(ssd.prompts, "LCB_HEAD", ssd.prompts.LCB_HEAD + " Be brief.")
    with pytest.raises(ConfigError, match="different request"):
        run(backend, out)


def test_a_cut_off_last_line_is_dropped_and_regenerated(backend, tmp_path):
    out = run(backend, tmp_path / "s")
    shard = out / "samples-00002.jsonl"
    data = shard.read_bytes()
    shard.write_bytes(data[: data.rfind(b"\n", 0, len(data) - 1) + 10])  # last record cut mid-line
    (out / "manifest.json").unlink()
    assert len(read_shards(out)) == 11
    run(backend, out)
    assert len(read_shards(out)) == 12 and shard.read_bytes() == data


KILLED_RUN = """
import sys
from ssd.config import DecodingConfig
from ssd.generation import make_backend
from ssd.records import Problem
from ssd.generation.sampling import generate_samples
problems = [Problem(id=f"q{i}", source="t", question=f"Task {i}", kind="stdin", tests=[]) for i in range(250)]
backend = make_backend("transformers", sys.argv[1], batch_size=8)
generate_samples(backend, problems, prompt_style="official-raw", tokenizer=None, shard_size=100, batch_size=8,
                 decoding=DecodingConfig(temperature=1.0, top_k=20, max_tokens=24, n=4, seed=1),
                 out_dir=sys.argv[2], progress=False)
"""


def count_lines(out: Path) -> int:
    return sum(p.read_bytes().count(b"\n") for p in out.glob("samples-*.jsonl"))


def test_1000_completions_resume_after_sigkill_without_duplicates_or_gaps(model_dir, tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-c", KILLED_RUN, str(model_dir), str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SSD_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while (not out.exists() or count_lines(out) < 150) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    before = {(s.problem_id, s.sample_index): s for s in read_shards(out)}
    assert 150 <= len(before) < 1000 and not (out / "manifest.json").exists()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = read_shards(out)
    keys = [(s.problem_id, s.sample_index) for s in after]
    assert len(keys) == len(set(keys)) == 1000
    assert set(keys) == {(f"q{i}", j) for i in range(250) for j in range(4)}
    assert all(before[k] == s for s, k in zip(after, keys) if k in before)


def write_pool(path, questions):
    path.write_text("".join(json.dumps({"question": q, "starter_code": ""}) + "\n" for q in questions))
    return path


def sample_config(tmp_path, model_dir):
    pool = write_pool(tmp_path / "seed.jsonl", ["Add two numbers.", "Add  two numbers.", "Sort a list.",
                                                "Print hello."])
    evals = tmp_path / "eval.jsonl"
    evals.write_text(json.dumps({"id": "e1", "source": "t", "question": "print HELLO.", "kind": "stdin",
                                 "tests": []}) + "\n")
    config = tmp_path / "sample.yaml"
    config.write_text(f"model: {model_dir}\npool: {pool}\neval_problems: [{evals}]\nout_root: {tmp_path / 'runs'}\n"
                      "decoding: {temperature: 1.6, top_k: 20, top_p: 0.8, max_tokens: 8}\nsample_filter: none\n")
    return config


def test_ssd_sample_cli_writes_selected_samples_and_excludes_contaminated_prompts(model_dir, tmp_path, capsys):
    assert main(["--config", str(sample_config(tmp_path, model_dir)), "--no-progress"]) == 0
    selected = Path(capsys.readouterr().out.strip())
    assert selected.name.startswith("sft-data-") and selected.parent == tmp_path / "runs"
    (synthesis,) = (tmp_path / "runs").glob("ssd-samples-*")
    manifest = json.loads((synthesis / "manifest.json").read_text())
    assert manifest["n_samples"] == 2  # 4 prompts, one exact duplicate after normalisation, one contaminated
    assert manifest["config"]["prompt_style"] == "paper" and manifest["config"]["decoding"]["temperature"] == 1.6
    assert {s.prompt for s in read_jsonl(selected / "train.jsonl", Sample)} == {
        s.prompt for s in read_shards(synthesis)}


def test_ssd_sample_cli_reuses_its_stages_and_resamples_when_the_prompt_text_changes(model_dir, tmp_path,
                                                                                     capsys, monkeypatch):
    import ssd.prompts

    config = sample_config(tmp_path, model_dir)
    assert main(["--config", str(config), "--no-progress"]) == 0
    first = capsys.readouterr().out.strip()
    assert main(["--config", str(config), "--no-progress"]) == 0
    assert capsys.readouterr().out.strip() == first and len(list((tmp_path / "runs").iterdir())) == 2
    monkeypatch.setattr(ssd.prompts, "PAPER_SYSTEM_PROMPT", ssd.prompts.PAPER_SYSTEM_PROMPT + " Be brief.")
    assert main(["--config", str(config), "--no-progress"]) == 0
    assert capsys.readouterr().out.strip() != first
    prompts = [{s.prompt for s in read_shards(d)} for d in sorted((tmp_path / "runs").glob("ssd-samples-*"))]
    assert len(prompts) == 2 and sum(any("Be brief." in p for p in group) for group in prompts) == 1


def test_official_code_fidelity_sets_its_temperature_raw_prompt_and_no_dedup(tmp_path):
    from ssd.commands.sample import load_sample_config

    config = tmp_path / "sample.yaml"
    config.write_text("model: m\npool: p\nfidelity: official-code\n")
    cfg = load_sample_config(config)
    assert (cfg.prompt_style, cfg.dedup, cfg.sample_filter, cfg.decoding.temperature) == (
        "official-raw", False, "shortest-10%", 1.5)
    assert load_sample_config(config, ["decoding.temperature=1.6"]).decoding.temperature == 1.6
