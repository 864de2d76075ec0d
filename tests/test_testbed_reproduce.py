"""End to end: `ssd reproduce --quick` in a temp dir writes complete, well-formed results; a re-run reads the cache."""
import json

import pytest

from ssd.cli import main as cli_main
from ssd.cache import read_manifest

SERIES = ("fig2_teval_sweep", "grid_no_truncation", "grid_truncated", "fig6_token_stats", "fig7_stress")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("reproduce")
    args = ["reproduce", "--quick", "--root", str(base / "runs"), "--out", str(base / "out")]
    assert cli_main(args) == 0
    first = json.loads((base / "out" / "summary.json").read_text())
    assert cli_main(args) == 0
    return base, first


def test_summary_has_the_headline_contract(quick_run):
    base, _ = quick_run
    s = json.loads((base / "out" / "summary.json").read_text())
    assert s["seeds"] == [0, 1] and s["wall_seconds"] > 0
    for arm in ("base", "ssd"):
        for k in ("pass@1", "pass@5"):
            m = s[arm][k]
            assert 0 <= m["ci"][0] <= m["value"] <= m["ci"][1] <= 1


def test_every_base_is_reported_and_the_pooled_headline_averages_them(quick_run):
    base, _ = quick_run
    s = json.loads((base / "out" / "summary.json").read_text())
    assert s["base_seeds"] == [0, 1] and [b["seed"] for b in s["bases"]] == [0, 1]
    assert s["base"]["pass@1"]["value"] == pytest.approx(sum(b["base"]["pass@1"]["value"] for b in s["bases"]) / 2)
    delta = s["delta"]["pass@1"]
    assert delta["ci"][0] <= delta["value"] <= delta["ci"][1] and 0 <= delta["p_value"] <= 1
    assert s["host"]["cpu_model"] and "cpu_flags" in s["host"]
    assert len({b["training_seconds"] is not None for b in s["bases"]}) == 1
    for b in s["bases"]:  # each base's copy accuracy at validation lock positions, by what the lock copies
        fit = b["lock_accuracy_val"]
        assert set(fit) == {"number", "loop variable", "other"} and fit["number"]["positions"] > 0
        assert all(v["accuracy"] is None or 0 <= v["accuracy"] <= 1 for v in fit.values())
    for b in s["bases"]:  # the SSD arm: the mean of its seeds' pass@1, and each seed's failures
        assert b["ssd"]["pass@1"]["value"] == pytest.approx(sum(b["ssd_per_seed"].values()) / len(s["seeds"]))
        assert list(b["health"]["ssd_per_seed"]) == [str(seed) for seed in s["seeds"]]
    report = (base / "out" / "report.md").read_text()
    assert "numbers / loop variables copied" in report and "How the failures look" in report


def test_positive_control_leads_the_summary_and_the_report(quick_run):
    base, _ = quick_run
    s = json.loads((base / "out" / "summary.json").read_text())
    pc = s["positive_control"]
    for key in ("predicted_gain", "measured_gain"):
        assert pc[key]["ci"][0] <= pc[key]["value"] <= pc[key]["ci"][1]
    report = (base / "out" / "report.md").read_text()
    assert report.index("## Positive control") < report.index("## Benign regime")
    assert (base / "out" / "positive_control.png").stat().st_size > 1000 and "](positive_control.png)" in report


def test_every_series_and_figure_is_written(quick_run):
    base, _ = quick_run
    out = base / "out"
    for name in SERIES:
        assert json.loads((out / f"{name}.json").read_text())
    report = (out / "report.md").read_text()
    for png in ("fig2_teval_sweep.png", "grid.png", "token_stats.png"):
        assert (out / png).stat().st_size > 1000 and f"]({png})" in report
    assert "SSD" in report and ("helped" in report or "no detectable difference" in report or "hurt" in report)


def test_grids_cover_every_cell_with_rates(quick_run):
    base, _ = quick_run
    for name in ("grid_no_truncation", "grid_truncated"):
        g = json.loads((base / "out" / f"{name}.json").read_text())
        assert len(g["pass@1"]) == len(g["t_train"]) and all(len(r) == len(g["t_eval"]) for r in g["pass@1"])
        assert all(0 <= v <= 1 for row in g["pass@1"] for v in row)


def test_token_stats_split_by_fork_and_lock(quick_run):
    base, _ = quick_run
    stats = json.loads((base / "out" / "fig6_token_stats.json").read_text())
    for label in ("fork", "lock"):
        for model in ("base", "ssd"):
            s = stats["by_label"][label][model]
            assert s["positions"] > 0 and len(s["entropy"]) == len(stats["t_eval"])
            assert all(0.999 <= k <= 20 for k in s["kept_tokens"])


def test_every_stage_manifest_is_complete(quick_run):
    base, _ = quick_run
    stages = [d for d in (base / "runs").iterdir() if d.is_dir()]
    assert len(stages) >= 10
    for d in stages:
        m = read_manifest(d)
        assert m and m["complete"] and "config" in m and "git" in m, d


def test_second_run_reads_the_cache_and_reproduces_the_numbers(quick_run):
    base, first = quick_run
    second = json.loads((base / "out" / "summary.json").read_text())
    assert second["base"] == first["base"] and second["ssd"] == first["ssd"]
    assert second["positive_control"] == first["positive_control"]
    assert second["wall_seconds"] < max(20.0, first["wall_seconds"] / 2)


def test_bad_config_key_fails_before_touching_results(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    code = cli_main(["reproduce", "--quick", "--root", str(tmp_path / "r"), "--out", str(out), "no_such_key=1"])
    assert code == 2 and "no_such_key" in capsys.readouterr().err
    assert (out / "summary.json").read_text() == "{}"


@pytest.mark.parametrize("override, key", [("sft.epochs=-1", "sft.epochs"), ("base.lr=0", "base.lr"),
                                           ("ssd_eval_temperatures=[0.5, -1]", "ssd_eval_temperatures[1]"),
                                           ("sample_filter=longest", "sample_filter")])
def test_an_impossible_value_fails_at_load_naming_the_users_key(tmp_path, capsys, override, key):
    code = cli_main(["reproduce", "--quick", "--root", str(tmp_path / "r"), "--out", str(tmp_path / "out"), override])
    assert code == 2 and f": {key}" in capsys.readouterr().err
    assert not (tmp_path / "r").exists() and not (tmp_path / "out").exists()
