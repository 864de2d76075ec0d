import json

import pytest

from ssd.records import JsonlWriter, Problem, RecordError, Sample, Verdict, read_jsonl, write_jsonl


def _sample(i=0):
    return Sample(problem_id="p", sample_index=i, prompt="x", completion="y", finish_reason="stop",
                  n_completion_tokens=1, decoding={"temperature": 1.0}, seed=0)


def test_round_trip(tmp_path):
    path = tmp_path / "s.jsonl"
    write_jsonl(path, [_sample(0), _sample(1)])
    assert [s.sample_index for s in read_jsonl(path, Sample)] == [0, 1]


def test_error_names_file_line_and_field(tmp_path):
    path = tmp_path / "v.jsonl"
    good = {"problem_id": "p", "sample_index": 0, "status": "passed", "tests_passed": 1, "tests_total": 1,
            "seconds": 0.1}
    bad = dict(good, tests_total="one")
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(RecordError, match=r"v\.jsonl:2: field 'tests_total'"):
        list(read_jsonl(path, Verdict))


def test_unknown_field_is_an_error(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"id": "a", "source": "s", "question": "q", "kind": "stdin", "tests": [],
                                "colour": "red"}) + "\n")
    with pytest.raises(RecordError, match="field 'colour': unknown"):
        list(read_jsonl(path, Problem))


def test_invalid_status_is_rejected(tmp_path):
    path = tmp_path / "v.jsonl"
    path.write_text(json.dumps({"problem_id": "p", "sample_index": 0, "status": "ok", "tests_passed": 1,
                                "tests_total": 1, "seconds": 0.1}) + "\n")
    with pytest.raises(RecordError, match="field 'status'"):
        list(read_jsonl(path, Verdict))


def test_writer_discards_a_partial_last_line_on_resume(tmp_path):
    path = tmp_path / "s.jsonl"
    with JsonlWriter(path) as w:
        w.write(_sample(0))
    with path.open("a") as fh:
        fh.write('{"problem_id": "p", "sample_ind')  # a write cut short by a kill
    with JsonlWriter(path) as w:
        w.write(_sample(1))
    assert [s.sample_index for s in read_jsonl(path, Sample)] == [0, 1]


def test_reader_can_skip_a_partial_tail(tmp_path):
    path = tmp_path / "s.jsonl"
    write_jsonl(path, [_sample(0)])
    with path.open("a") as fh:
        fh.write('{"problem_id": "p"')
    assert len(list(read_jsonl(path, Sample, drop_partial_tail=True))) == 1
    with pytest.raises(RecordError, match=":2: not valid"):
        list(read_jsonl(path, Sample))
