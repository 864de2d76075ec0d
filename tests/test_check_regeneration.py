"""scripts/check_regeneration: fresh headline values against the committed intervals."""
import json

import pytest

from scripts.check_regeneration import HEADLINES, compare, differing_paths, main


def summary(value: float, half_width: float = 0.05) -> dict:
    out: dict = {}
    for path in HEADLINES:
        node = out
        *parents, leaf = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = {"value": value, "ci": [value - half_width, value + half_width]}
    return out


def test_values_inside_the_committed_intervals_pass(tmp_path):
    rows = compare(summary(0.40), summary(0.43))
    assert all(r["inside"] for r in rows) and len(rows) == len(HEADLINES)
    (tmp_path / "ref.json").write_text(json.dumps(summary(0.40)))
    (tmp_path / "new.json").write_text(json.dumps(summary(0.43)))
    assert main(["--reference", str(tmp_path / "ref.json"), "--fresh", str(tmp_path / "new.json")]) == 0


def test_a_value_outside_fails_and_a_missing_headline_is_named(tmp_path, capsys):
    fresh = summary(0.40)
    fresh["base"]["pass@1"]["value"] = 0.88  # the swing issue 14 reported (42.8 committed, 87.8 fresh)
    (tmp_path / "ref.json").write_text(json.dumps(summary(0.40)))
    (tmp_path / "new.json").write_text(json.dumps(fresh))
    assert main(["--reference", str(tmp_path / "ref.json"), "--fresh", str(tmp_path / "new.json")]) == 1
    assert "NOT regenerated: base.pass@1" in capsys.readouterr().out
    del fresh["positive_control"]
    (tmp_path / "new.json").write_text(json.dumps(fresh))
    assert main(["--reference", str(tmp_path / "ref.json"), "--fresh", str(tmp_path / "new.json")]) == 2
    assert "positive_control.predicted_gain missing" in capsys.readouterr().err


def test_a_value_just_outside_can_still_agree_within_the_two_runs_combined_uncertainty(tmp_path, capsys):
    rows = compare(summary(0.40, half_width=0.03), summary(0.44, half_width=0.03))  # 0.04 <= hypot(0.03, 0.03)
    assert not any(r["inside"] for r in rows) and all(r["agree"] for r in rows)
    assert rows[0]["combined_half_width"] == pytest.approx(0.03 * 2 ** 0.5)
    rows = compare(summary(0.40, half_width=0.03), summary(0.45, half_width=0.03))
    assert not any(r["agree"] for r in rows)
    (tmp_path / "ref.json").write_text(json.dumps(summary(0.40, half_width=0.03)))
    (tmp_path / "new.json").write_text(json.dumps(summary(0.44, half_width=0.03)))
    assert main(["--reference", str(tmp_path / "ref.json"), "--fresh", str(tmp_path / "new.json")]) == 1
    assert "the two runs agree on every headline" in capsys.readouterr().out


def test_a_subset_of_headlines_can_be_checked(tmp_path):
    fresh = summary(0.40)
    fresh["base"]["pass@1"]["value"] = 0.88
    (tmp_path / "ref.json").write_text(json.dumps(summary(0.40)))
    (tmp_path / "new.json").write_text(json.dumps(fresh))
    args = ["--reference", str(tmp_path / "ref.json"), "--fresh", str(tmp_path / "new.json")]
    assert main([*args, "--headline", "positive_control.measured_gain", "--headline", "ssd.pass@1"]) == 0
    assert main([*args, "--headline", "base.pass@1"]) == 1


def test_the_record_names_every_differing_path_and_treats_the_host_as_one_value(tmp_path):
    ref, fresh = summary(0.40), summary(0.40)
    ref["host"], fresh["host"] = {"cpu_model": "A", "load_average": [1.0]}, {"cpu_model": "B", "load_average": [2.0]}
    ref["bases"], fresh["bases"] = [{"seed": 0, "training_seconds": 10}], [{"seed": 0, "training_seconds": 12}]
    assert differing_paths(ref, fresh) == ["bases.0.training_seconds", "host"]
    (tmp_path / "ref.json").write_text(json.dumps(ref))
    (tmp_path / "new.json").write_text(json.dumps(fresh))
    out = tmp_path / "check.json"
    assert main(["--reference", str(tmp_path / "ref.json"), "--fresh", str(tmp_path / "new.json"),
                 "--record", str(out)]) == 0
    written = json.loads(out.read_text())
    assert written["headlines_identical"] and written["fresh_host"]["cpu_model"] == "B"
    assert len(written["rows"]) == len(HEADLINES)
