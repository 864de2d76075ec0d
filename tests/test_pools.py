"""Prompt pools on small files written by the tests: the paper's and official selection, sample filters,
contamination guard, and clear errors."""
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ssd.config import ConfigError
from ssd.data.pools import (FIDELITY, exclude_contaminated, find_contaminated, fidelity, load_rstar_seed,
                       select_samples)
from ssd.records import Problem, RecordError, Sample

ROWS = [
    {"question_id": "a", "question": "Sum two numbers.\nRead a and b.", "starter_code": "", "response": "x"},
    {"question_id": "a", "question": "Sum  two numbers.\n\nRead a and b.  ", "starter_code": "", "response": "y"},
    {"question_id": "b", "question": "Reverse a list.", "starter_code": "class Solution:\n    def rev(self, xs):\n",
     "response": "z"},
    {"question_id": "c", "question": "   ", "starter_code": None, "response": ""},
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def sample(text, i=0):
    return Sample(problem_id=f"p{i}", sample_index=0, prompt="q", completion=text, finish_reason="stop",
                  n_completion_tokens=len(text), decoding={}, seed=i)


def test_paper_selection_deduplicates_whitespace_normalized_statements(tmp_path):
    problems = load_rstar_seed(write_jsonl(tmp_path / "seed.jsonl", ROWS))
    assert [p.question for p in problems] == [ROWS[0]["question"], ROWS[2]["question"]]


def test_official_selection_keeps_every_non_empty_row(tmp_path):
    problems = load_rstar_seed(write_jsonl(tmp_path / "seed.jsonl", ROWS), dedup=False)
    assert [p.id for p in problems] == ["rstar-row0", "rstar-row1", "rstar-row2"]


def test_dedup_ids_are_content_hashes_independent_of_file_order(tmp_path):
    forward = load_rstar_seed(write_jsonl(tmp_path / "f.jsonl", ROWS))
    backward = load_rstar_seed(write_jsonl(tmp_path / "b.jsonl", ROWS[::-1]))
    assert sorted(p.id for p in forward) == sorted(p.id for p in backward)


def test_starter_code_with_a_function_makes_a_functional_problem(tmp_path):
    problems = load_rstar_seed(write_jsonl(tmp_path / "seed.jsonl", ROWS))
    assert (problems[0].kind, problems[1].kind, problems[1].func_name) == ("stdin", "functional", "rev")


def test_parquet_folder_is_read_in_file_order(tmp_path):
    folder = tmp_path / "seed_sft"
    folder.mkdir()
    pq.write_table(pa.Table.from_pylist(ROWS[2:3]), folder / "data-00001-of-00002.parquet")
    pq.write_table(pa.Table.from_pylist(ROWS[:2]), folder / "data-00000-of-00002.parquet")
    assert [p.metadata["question_id"] for p in load_rstar_seed(folder)] == ["a", "b"]


def test_a_row_without_a_question_names_file_and_line(tmp_path):
    path = write_jsonl(tmp_path / "seed.jsonl", [ROWS[0], {"prompt": "no question field"}])
    with pytest.raises(RecordError, match=r"seed.jsonl:2: field 'question'"):
        load_rstar_seed(path)


def test_missing_pool_is_a_record_error(tmp_path):
    with pytest.raises(RecordError, match="prompt pool not found"):
        load_rstar_seed(tmp_path / "nope")


def test_stub_filter_drops_empty_and_single_line_responses():
    texts = ["", "   ", "```python\npass\n```", "print(1)", "```python\nx = 1\nprint(x)\n```"]
    kept, report = select_samples([sample(t, i) for i, t in enumerate(texts)], "stubs")
    assert [s.completion for s in kept] == [texts[4]]
    assert report["n_empty"] == 2 and report["n_dropped"] == 4


def test_official_filter_drops_empty_and_the_shortest_ten_percent():
    texts = [""] + ["x" * n for n in range(1, 21)]
    kept, report = select_samples([sample(t, i) for i, t in enumerate(texts)], "shortest-10%")
    assert sorted(len(s.completion) for s in kept) == list(range(3, 21))
    assert report["n_kept"] == 18


def test_official_filter_cuts_at_a_stripped_length_and_keeps_ties():
    padded = ["   x   "] + ["ab"] * 9  # stripped lengths 1, 2 x 9: only the padded one is short
    kept, _ = select_samples([sample(t, i) for i, t in enumerate(padded)], "shortest-10%")
    assert [s.completion for s in kept] == ["ab"] * 9
    tied = ["a", "b"] + ["cc"] * 8  # cutoff = sorted lengths[int(10 * 0.1)] = 1: both ties at it stay
    kept, report = select_samples([sample(t, i) for i, t in enumerate(tied)], "shortest-10%")
    assert len(kept) == 10 and report["n_dropped"] == 0


def test_unknown_filter_is_a_config_error():
    with pytest.raises(ConfigError, match="sample_filter"):
        select_samples([], "longest")


def test_fidelity_presets_differ_in_the_documented_choices():
    paper, official = FIDELITY["paper"], FIDELITY["official-code"]
    assert (paper.dedup, paper.prompt_style, paper.sample_filter) == (True, "paper", "stubs")
    assert (official.dedup, official.prompt_style, official.sample_filter, official.temperature) == (
        False, "official-raw", "shortest-10%", 1.5)
    with pytest.raises(ConfigError, match="fidelity"):
        fidelity("mine")


def problem(pid, question):
    return Problem(id=pid, source="t", question=question, kind="stdin", tests=[])


def test_contamination_matches_after_case_and_whitespace_normalization():
    pool = [problem("p1", "Given N,\n  print  N+1."), problem("p2", "Something else.")]
    evals = [problem("e1", "given n, print n+1.")]
    assert find_contaminated(pool, evals) == [("p1", "e1")]


def test_contamination_matches_a_long_statement_contained_in_a_prompt():
    statement = "You are given an array of integers and must count the inversions. " * 4
    pool = [problem("p1", "Preface. " + statement + " Extra notes."), problem("p2", "count inversions")]
    evals = [problem("e1", statement), problem("e2", "Count inversions, please")]
    assert find_contaminated(pool, evals) == [("p1", "e1")]


def test_contaminated_prompts_are_excluded_by_default_and_reported():
    pool = [problem("p1", "Same text."), problem("p2", "Other text.")]
    kept, report = exclude_contaminated(pool, [problem("e1", "same text.")])
    assert [p.id for p in kept] == ["p2"]
    assert report["matches"] == [{"pool_id": "p1", "eval_id": "e1"}]
    kept_all, _ = exclude_contaminated(pool, [problem("e1", "same text.")], exclude=False)
    assert len(kept_all) == 2
