"""paper_figures: the transcribed numbers agree with each other, and the build makes every artefact it has data for."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from paper_figures import build as builder
from paper_figures.fig03 import quadratic_fit, t_eff_points
from paper_figures.sources import Context, DataError, model_rows, paper
from paper_figures.table3 import config_disagreements

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def low_resolution_png(monkeypatch):
    """Figures drawn by these tests are checked for content, not looks: a low PNG resolution keeps CI fast."""
    from paper_figures import style

    monkeypatch.setitem(style.RC, "savefig.dpi", 40)
SPLIT_GROUPS = [("v6", 0), ("v6", 4), ("v5", 8), ("v5", 12)]  # (release, first column of ALL/E/M/H)


def rounding_consistent(row: list[float], counts: dict[str, int], first: int) -> bool:
    weights = np.array([counts["easy"], counts["medium"], counts["hard"]], dtype=float)
    weighted = float(np.dot(row[first + 1:first + 4], weights) / weights.sum())
    return abs(weighted - row[first]) <= 0.1 + 1e-9


def test_table2_every_reported_delta_equals_ssd_minus_base():
    for m in paper("table2")["models"]:
        for i, (b, s, d) in enumerate(zip(m["base"], m["ssd"], m["delta"])):
            assert round(s - b, 1) == pytest.approx(d, abs=1e-9), (m["key"], i)


def test_table2_difficulty_split_fails_exactly_on_the_rows_the_paper_gets_wrong():
    t2 = paper("table2")
    columns = t2["columns"]
    flagged = {(i["model"], i["row"], i["column"]) for i in t2["inconsistencies"]}
    failing = set()
    for m in t2["models"]:
        for row in ("base", "ssd"):
            for release, first in SPLIT_GROUPS:
                if not rounding_consistent(m[row], t2["difficulty_counts"][release], first):
                    failing.add((m["key"], row, columns[first]))
    assert failing == flagged


def test_table2_split_counts_sum_to_the_benchmark_sizes():
    counts = paper("table2")["difficulty_counts"]
    assert sum(counts["v6"][d] for d in ("easy", "medium", "hard")) == 131
    assert sum(counts["v5"][d] for d in ("easy", "medium", "hard")) == 374


def test_table5_thirty_b_instruct_changes_stay_within_two_points_as_the_text_claims():
    m = model_rows(paper("table5"))["qwen3-30b-instruct"]
    assert max(abs(s - b) for b, s in zip(m["base"], m["ssd"])) <= 2.0


def test_fig1_printed_gains_equal_table2_deltas():
    f1, rows = paper("fig01"), model_rows(paper("table2"))
    for key, gains in f1["bars"]["printed_gain"].items():
        assert gains == [rows[key]["delta"][i] for i in (0, 2, 3)]
    for key, gain in f1["footer_gain"].items():
        assert gain == rows[key]["delta"][0]
    m = rows["qwen3-30b-instruct"]
    assert round(100 * (m["ssd"][0] / m["base"][0] - 1)) == f1["relative_gain_30b_instruct_percent"]


def test_fig2_best_base_levels_are_at_least_the_table4_base_and_match_the_stated_range():
    f2, rows = paper("fig02"), model_rows(paper("table2"))
    columns = [0, 3, 4, 7]
    for key, margins in f2["margins"].items():
        for col, margin in zip(columns, margins):
            assert rows[key]["ssd"][col] - margin >= rows[key]["base"][col]
    best_30b = rows["qwen3-30b-instruct"]["ssd"][0] - f2["margins"]["qwen3-30b-instruct"][0]
    assert best_30b == pytest.approx(f2["text_claims"]["qwen3-30b-instruct_base_p1_range"][1])


def test_fig10_stress_cell_matches_fig7_fig15_and_its_baseline_matches_table2():
    f10, f7, f15 = paper("fig10"), paper("fig07"), paper("fig15")
    row, col = f10["t_train"].index(2.0), f10["t_eval"].index(f15["peak"]["t_eval"])
    for k in ("pass@1", "pass@5"):
        assert f10[k][row][col] == f7["ssd"][k] == f15["peak"][k]
        assert f10[k][row][col] == max(f10[k][row])
    base = model_rows(paper("table2"))["qwen3-30b-instruct"]["base"]
    assert [f10["baseline"]["pass@1"], f10["baseline"]["pass@5"]] == [base[0], base[4]]


def test_fig11_table_setting_cell_equals_table2_ssd_row():
    f11 = paper("fig11")
    t3 = model_rows(paper("table3"))["qwen3-4b-thinking"]
    row = f11["t_train"].index(t3["generation"]["temperature"])
    col = f11["t_eval"].index(t3["evaluation"]["temperature"])
    ssd = model_rows(paper("table2"))["qwen3-4b-thinking"]["ssd"]
    assert (f11["pass@1"][row][col], f11["pass@5"][row][col]) == (ssd[0], ssd[4])


def test_fig10_grid_reproduces_the_papers_effective_temperature_fit():
    f3, f10 = paper("fig03"), paper("fig10")
    x, y, _ = t_eff_points(f10, "pass@1")
    _, r2, _ = quadratic_fit(x, y)
    assert r2 == pytest.approx(f3["no_truncation_fit"]["r2"], abs=0.015)


def test_table3_and_table4_settings_equal_the_experiment_configs():
    assert config_disagreements(REPO / "experiments") == []


def test_config_check_reports_a_contradicting_config(tmp_path):
    shutil.copytree(REPO / "experiments" / "paper", tmp_path / "paper")
    path = tmp_path / "paper" / "qwen3-30b-a3b-instruct-2507.yaml"
    path.write_text(path.read_text().replace("temperature: 1.6", "temperature: 1.5"))
    problems = config_disagreements(tmp_path)
    assert len(problems) == 1 and "synthesis_decoding.temperature = 1.5" in problems[0]


def test_fig5_reconstruction_gives_the_stated_plateau_and_spike():
    from theory.toy import plateau_spike_example

    expected, example = paper("fig05")["expected"], plateau_spike_example()
    fork, kept = example["fork"], example["fork"]["kept"]
    assert kept == expected["fork_kept"]
    assert fork["teacher"][0] / fork["teacher"][kept - 1] == pytest.approx(expected["fork_head_ratio_base"], abs=0.05)
    assert fork["student"][0] / fork["student"][kept - 1] == pytest.approx(expected["fork_head_ratio_ssd"], abs=0.05)
    assert example["lock"]["kept"] == expected["lock_kept"]


def test_toy_figures_reproduce_the_papers_fig14_readouts_within_its_printed_digits():
    from theory.toy import pass_curve

    c4 = paper("toy_c4")
    for model in ("teacher", "student"):
        ours = 100 * pass_curve(model, c4["butterfly_t"])
        # one decimal printed; the teacher at T = 1.0 computes 6.453 where the paper prints 6.4 (toy_c4.yaml)
        assert np.abs(ours - c4["butterfly_pass"][model]).max() <= 0.06, model


def test_toy_optima_and_fork_nuclei_match_the_papers_numbers():
    from theory.toy import best_temperature, nucleus

    c4 = paper("toy_c4")
    for model, digits in (("teacher", 0.001), ("student", 0.004)):
        t_best, p_best = best_temperature(model)
        assert p_best == pytest.approx(c4[f"{model}_best"]["pass"], abs=0.0001)
        assert t_best == pytest.approx(c4[f"{model}_best"]["t"], abs=digits)
        fork = 100 * nucleus(model, "fork", t_best)
        printed = c4["fork_at_optimum"]["teacher_text" if model == "teacher" else "student"]
        assert np.abs(fork - printed).max() <= 0.05 + 1e-9, model


def test_toy_archetype_entropies_match_fig12b():
    from theory.toy import archetype_bars

    bars, printed = archetype_bars(), paper("toy_c4")["entropy_bits"]
    for state in ("fork", "lock"):
        assert round(bars[state]["entropy_bits"], 2) == printed[state]


# ------------------------------------------------------------------------------------------ the build


def _rate_grid(rows: int, cols: int) -> list[list[float]]:
    return [[round(0.2 + 0.01 * (r + c), 3) for c in range(cols)] for r in range(rows)]


def write_our_results(root: Path) -> None:
    """A results folder in the documented schemas (paper_figures/README.md)."""
    cpu = root / "cpu"
    cpu.mkdir(parents=True)
    arm = lambda v: {"pass@1": {"value": v, "ci": [v - 0.05, v + 0.05]},  # noqa: E731
                     "pass@5": {"value": v + 0.1, "ci": [v + 0.05, v + 0.15]}}
    headline = {"wall_seconds": 1.0, "seeds": [0], "base": arm(0.3), "ssd": arm(0.4)}
    (cpu / "summary.json").write_text(json.dumps(headline))
    (cpu / "fig2_teval_sweep.json").write_text(json.dumps(
        {"t_eval": [0.5, 1.0, 1.5], "base": {"pass@1": [0.3, 0.32, 0.25], "pass@5": [0.4, 0.45, 0.4]},
         "ssd": {"pass@1": 0.4, "pass@5": 0.5}}))
    for name in ("no_truncation", "truncated"):
        (cpu / f"grid_{name}.json").write_text(json.dumps(
            {"t_train": [0.5, 1.0], "t_eval": [0.6, 1.0, 1.4], "pass@1": _rate_grid(2, 3), "pass@5": _rate_grid(2, 3)}))
    (cpu / "fig6_token_stats.json").write_text(json.dumps(
        {"rank": [1, 2, 3], "t_eval": [0.5, 1.0],
         **{a: {"cumulative_mass": [0.8, 0.9, 0.95], "kept_tokens": [1.0, 1.5], "entropy": [0.1, 0.3]}
            for a in ("base", "ssd")}}))
    (cpu / "fig7_stress.json").write_text(json.dumps(
        {"no_code_rate": 0.5, "base": {"pass@1": 0.3, "pass@5": 0.4}, "ssd": {"pass@1": 0.35, "pass@5": 0.5}}))


def test_every_table_is_written_as_markdown_and_latex(tmp_path, capsys):
    assert builder.run(builder.TABLES, Context(out=tmp_path, results=tmp_path / "none")) == 0
    for name in builder.TABLES:
        assert (tmp_path / f"{name}.md").read_text().count("|") > 10
        assert "\\begin{tabular}" in (tmp_path / f"{name}.tex").read_text()


def test_figures_without_our_runs_are_built_from_paper_data_and_fig6_is_skipped(tmp_path, capsys):
    ctx = Context(out=tmp_path, results=tmp_path / "none")
    names = ["fig01", "fig06", "fig10"]
    assert builder.run(names, ctx) == 0
    out = capsys.readouterr().out
    assert "skip  fig06:" in out and not (tmp_path / "fig06.png").exists()
    assert (tmp_path / "fig10.png").stat().st_size > 5_000 and (tmp_path / "fig10.pdf").exists()


@pytest.mark.parametrize("name", ["fig01", "fig02", "fig03", "fig06", "fig07", "fig09", "fig10", "fig11"])
def test_figure_draws_our_run_beside_the_paper(tmp_path, name):
    write_our_results(tmp_path / "results")
    module = __import__(f"paper_figures.{name}", fromlist=["build"])
    built = module.build(Context(out=tmp_path / "out", results=tmp_path / "results"))
    assert any(s.startswith("our run") for s in built.sources)
    assert all(p.exists() for p in built.paths)


def test_table2_lists_our_runs_in_both_summary_layouts(tmp_path):
    write_our_results(tmp_path / "results")
    metric = {"pass@1": {"value": 0.5, "ci": [0.4, 0.6]}, "pass@5": {"value": 0.7, "ci": [0.6, 0.8]}}
    experiment = {"benchmarks": {"lcb_v6": {a: {"summary": {"overall": metric, "by_difficulty": {"hard": metric}}}
                                            for a in ("base", "ssd")}}}
    (tmp_path / "results" / "qwen3-4b").mkdir()
    (tmp_path / "results" / "qwen3-4b" / "summary.json").write_text(json.dumps(experiment))
    from paper_figures import table2

    table2.build(Context(out=tmp_path / "out", results=tmp_path / "results"))
    text = (tmp_path / "out" / "table2_ours.md").read_text()
    assert "| cpu | headline | all | 30.0 [25.0, 35.0] | 40.0 [35.0, 45.0] | +10.0 |" in text
    assert "| qwen3-4b | lcb_v6 | all | 50.0 [40.0, 60.0] |" in text
    assert "| qwen3-4b | lcb_v6 | hard | 50.0 [40.0, 60.0] | 50.0 [40.0, 60.0] | 0.0 |" in text


def test_bad_result_file_names_file_and_field_and_keeps_the_previous_figure(tmp_path, capsys):
    write_our_results(tmp_path / "results")
    ctx = Context(out=tmp_path / "out", results=tmp_path / "results")
    assert builder.run(["fig07"], ctx) == 0
    before = (tmp_path / "out" / "fig07.png").read_bytes()
    (tmp_path / "results" / "cpu" / "fig7_stress.json").write_text(json.dumps(
        {"no_code_rate": 62, "base": {"pass@1": 0.3, "pass@5": 0.4}, "ssd": {"pass@1": 0.35, "pass@5": 0.5}}))
    assert builder.run(["fig07"], ctx) == 1
    err = capsys.readouterr().err
    assert "fig7_stress.json: field 'no_code_rate': expected a number in [0, 1], got 62" in err
    assert (tmp_path / "out" / "fig07.png").read_bytes() == before


def test_unparsable_result_file_reports_its_line(tmp_path):
    write_our_results(tmp_path / "results")
    (tmp_path / "results" / "cpu" / "fig2_teval_sweep.json").write_text('{"t_eval": [0.5,\n ]}')
    from paper_figures import fig02

    with pytest.raises(DataError, match=r"fig2_teval_sweep.json: line 2: not valid JSON"):
        fig02.build(Context(out=tmp_path / "out", results=tmp_path / "results"))


def test_unknown_artefact_name_is_refused():
    with pytest.raises(SystemExit):
        builder.main(["figures", "fig99"])


def test_malformed_transcribed_grid_names_file_and_field(tmp_path, monkeypatch, capsys):
    from paper_figures import sources

    data = tmp_path / "data"
    shutil.copytree(sources.DATA_DIR, data)
    grid = data / "fig10.yaml"
    grid.write_text(grid.read_text().replace("  - [43.5, 43.5, 43.7, 43.4, 44.0, 43.6, 44.3, 43.9, 45.5, 45.2]\n",
                                             "  - [43.5, 43.5]\n", 1))
    monkeypatch.setattr(sources, "DATA_DIR", data)
    monkeypatch.setattr(sources, "REPO_ROOT", tmp_path)
    assert builder.run(["fig10"], Context(out=tmp_path / "out", results=tmp_path / "none")) == 1
    assert "data/fig10.yaml: field 'pass@1': expected 5 rows (t_train) of 10 values (t_eval)" in capsys.readouterr().err
    assert not (tmp_path / "out" / "fig10.png").exists()


def test_unmeasured_grid_cells_and_incomplete_labels_are_drawn_as_gaps(tmp_path):
    write_our_results(tmp_path / "results")
    cpu = tmp_path / "results" / "cpu"
    grid = json.loads((cpu / "grid_no_truncation.json").read_text())
    grid["pass@5"][0][0] = None
    (cpu / "grid_no_truncation.json").write_text(json.dumps(grid))
    stats = json.loads((cpu / "fig6_token_stats.json").read_text())
    stats["by_label"] = {"fork": {"base": stats["base"], "ssd": stats["ssd"]}, "lock": {"base": stats["base"]}}
    (cpu / "fig6_token_stats.json").write_text(json.dumps(stats))
    from paper_figures import fig06, fig10

    ctx = Context(out=tmp_path / "out", results=tmp_path / "results")
    assert all(p.exists() for p in fig10.build(ctx).paths + fig06.build(ctx).paths)


def test_gallery_keeps_rows_of_artefacts_not_rebuilt(tmp_path):
    ctx = Context(out=tmp_path, results=tmp_path / "none")
    builder.run(["table3", "fig06"], ctx)
    builder.run(["table4"], ctx)
    gallery = (tmp_path / "GALLERY.md").read_text()
    assert "| table3 |" in gallery and "| table4 |" in gallery and "| fig06 | " in gallery
    assert gallery.index("| fig06 |") < gallery.index("| table3 |") < gallery.index("| table4 |")


def test_summaries_without_both_arms_are_left_out_of_table2(tmp_path):
    from paper_figures.sources import run_summaries

    metric = {"pass@1": {"value": 0.5, "ci": [0.4, 0.6]}, "pass@5": {"value": 0.7, "ci": [0.6, 0.8]}}
    for run, content in (("base-only", {"benchmarks": {"lcb_v6": {"base": {"summary": {"overall": metric}}}}}),
                         ("other", {"wall_seconds": 3})):
        (tmp_path / run).mkdir()
        (tmp_path / run / "summary.json").write_text(json.dumps(content))
    assert run_summaries(Context(out=tmp_path / "out", results=tmp_path)) == []
