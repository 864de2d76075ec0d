"""Problem sources: LiveCodeBench lite rows (JSONL and parquet, compressed private tests), HumanEval, our JSONL."""
import base64
import json
import os
import pickle
import zlib

import pytest

from ssd.data.problems import (RELEASE_WINDOWS, decode_private_tests, encode_private_tests, load_humaneval,
                          load_livecodebench, read_problems, write_problems)
from ssd.records import Problem, RecordError


def lcb_row(qid, date, difficulty="easy", functional=False, compressed=True):
    public = [{"input": "[1, 2]" if functional else "1 2\n", "output": "3" if functional else "3\n",
               "testtype": "functional" if functional else "stdin"}]
    private = [{"input": "[5, 5]" if functional else "5 5\n", "output": "10" if functional else "10\n",
                "testtype": public[0]["testtype"]}]
    blob = json.dumps(private)
    if compressed:  # the format code_generation_lite ships: base64(zlib(pickle(json string)))
        blob = base64.b64encode(zlib.compress(pickle.dumps(blob))).decode()
    return {"question_title": f"t{qid}", "question_content": f"question {qid}", "platform": "atcoder",
            "question_id": qid, "contest_id": "c1", "contest_date": f"{date}T00:00:00",
            "starter_code": "class Solution:\n    def add(self, xs):\n        " if functional else "",
            "difficulty": difficulty, "public_test_cases": json.dumps(public), "private_test_cases": blob,
            "metadata": json.dumps({"func_name": "add"} if functional else {})}


ROWS = [lcb_row("a", "2024-07-31"), lcb_row("b", "2024-08-01", "medium"), lcb_row("c", "2025-01-31", "hard", True),
        lcb_row("d", "2025-02-01", compressed=False), lcb_row("e", "2025-05-31", "hard", True),
        lcb_row("f", "2025-06-01")]


@pytest.fixture
def lcb_jsonl(tmp_path):
    path = tmp_path / "test.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return path


@pytest.mark.parametrize("release, ids", [("v5", ["b", "c"]), ("v6", ["d", "e"]), (None, list("abcdef"))])
def test_release_windows_select_by_contest_date(lcb_jsonl, release, ids):
    assert sorted(load_livecodebench(lcb_jsonl, release)) == ids


def test_windows_match_the_paper():
    assert RELEASE_WINDOWS == {"v5": ("2024-08-01", "2025-02-01"), "v6": ("2025-02-01", "2025-06-01")}


def test_rows_become_problems_with_private_tests_kind_and_function_name(lcb_jsonl):
    problems = load_livecodebench(lcb_jsonl, None)
    assert problems["b"].kind == "stdin" and problems["b"].func_name == ""
    assert problems["b"].tests == [{"input": "5 5\n", "output": "10\n"}]
    assert (problems["c"].kind, problems["c"].func_name, problems["c"].difficulty) == ("functional", "add", "hard")
    assert problems["d"].tests == problems["b"].tests  # plain-JSON private tests decode the same way


def test_a_functional_row_without_func_name_takes_the_starter_codes_function(tmp_path):
    row = lcb_row("g", "2025-03-01", functional=True)
    row["metadata"] = json.dumps({})
    path = tmp_path / "test.jsonl"
    path.write_text(json.dumps(row) + "\n")
    problem = load_livecodebench(path, None)["g"]
    assert (problem.kind, problem.func_name) == ("functional", "add")


def test_all_tests_puts_public_first(lcb_jsonl):
    problem = load_livecodebench(lcb_jsonl, None, tests="all")["b"]
    assert [t["input"] for t in problem.tests] == ["1 2\n", "5 5\n"]


def test_difficulty_filter_and_custom_window(lcb_jsonl):
    assert sorted(load_livecodebench(lcb_jsonl, None, difficulties=["HARD"])) == ["c", "e"]
    assert sorted(load_livecodebench(lcb_jsonl, None, start="2025-01-01", end="2025-03-01")) == ["c", "d"]


def test_parquet_rows_load_like_jsonl(lcb_jsonl, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "parquet"
    folder.mkdir()
    pq.write_table(pa.Table.from_pylist(ROWS), folder / "test-00000.parquet")
    assert load_livecodebench(folder, "v6") == load_livecodebench(lcb_jsonl, "v6")


def test_crafted_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))
    row = lcb_row("x", "2025-03-01")
    row["private_test_cases"] = base64.b64encode(zlib.compress(pickle.dumps(Exploit()))).decode()
    path = tmp_path / "evil.jsonl"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(RecordError, match=r"evil.jsonl:1: field 'private_test_cases'"):
        load_livecodebench(path, "v6")
    assert not marker.exists()


def test_missing_field_names_file_line_and_field(tmp_path):
    row = lcb_row("x", "2025-03-01")
    del row["difficulty"]
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(lcb_row("ok", "2025-03-01")) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(RecordError, match=r"bad.jsonl:2: field 'difficulty': missing"):
        load_livecodebench(path, "v6")


def test_bad_date_and_unknown_release_are_errors(tmp_path, lcb_jsonl):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({**lcb_row("x", "2025-03-01"), "contest_date": "soon"}) + "\n")
    with pytest.raises(RecordError, match="contest_date"):
        load_livecodebench(path, "v6")
    with pytest.raises(ValueError, match="release"):
        load_livecodebench(lcb_jsonl, "v7")


def test_private_test_codec_round_trips():
    tests = [{"input": "1\n", "output": "2\n", "testtype": "stdin"}]
    assert decode_private_tests(encode_private_tests(tests)) == tests


def test_humaneval_has_164_problems_with_tests_and_entry_points():
    problems = load_humaneval()
    assert len(problems) == 164
    he0 = problems["HumanEval/0"]
    assert (he0.kind, he0.func_name) == ("humaneval", "has_close_elements")
    assert "def check(candidate)" in he0.tests[0]["output"]


def test_problem_jsonl_round_trips_and_rejects_duplicates(tmp_path, lcb_jsonl):
    problems = load_livecodebench(lcb_jsonl, None)
    path = tmp_path / "problems.jsonl"
    write_problems(path, problems)
    assert read_problems(path) == problems
    path.write_text(path.read_text() + path.read_text().splitlines(keepends=True)[0])
    with pytest.raises(RecordError, match="duplicate id"):
        read_problems(path)


def test_problem_jsonl_with_a_bad_kind_names_the_line(tmp_path):
    path = tmp_path / "problems.jsonl"
    path.write_text(json.dumps({**Problem("p", "s", "q", "stdin", []).__dict__, "kind": "shell"}) + "\n")
    with pytest.raises(RecordError, match=r"problems.jsonl:1: field 'kind'"):
        read_problems(path)
