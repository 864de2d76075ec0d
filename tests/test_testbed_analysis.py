"""Token labels for the fork/lock statistics, the statistics themselves, and the report's headline rule."""
import numpy as np
import pytest

from ssd.studies.testbed import benchmark as bm
from ssd.experiment.report import verdict_sentence
from ssd.studies.testbed import tokenstats
from ssd.studies.testbed.tokenstats import lock_kind, statistics, token_labels
from ssd.models.tiny import train_tokenizer


@pytest.fixture(scope="module")
def problem_and_tokenizer():
    problems = bm.make_split("eval", {"medium": 6})
    texts = [p.metadata["canonical"] for p in problems] * 3
    return problems, train_tokenizer(texts, vocab_size=400)


def test_a_token_holding_a_fork_character_is_a_fork(problem_and_tokenizer):
    problems, tok = problem_and_tokenizer
    for p in problems:
        text, offset = p.metadata["canonical"], p.metadata["canonical_offset"]
        ids, labels = token_labels(tok, text, p.metadata["labels"], offset)
        spans = tok(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        forks = {s["start"] + offset for s in p.metadata["labels"] if s["label"] == "fork"}
        for (a, b), label in zip(spans, labels):
            assert (label == "fork") == any(a <= f < b for f in forks)


def test_labels_align_one_to_one_with_tokens(problem_and_tokenizer):
    problems, tok = problem_and_tokenizer
    p = problems[0]
    ids, labels = token_labels(tok, p.metadata["canonical"], p.metadata["labels"], p.metadata["canonical_offset"])
    assert len(ids) == len(labels) and {"fork", "lock", "other"} >= set(labels) and "lock" in labels


def test_statistics_of_a_spike_and_a_plateau():
    spike = np.array([10.0, 0.0, 0.0, 0.0])
    plateau = np.array([1.0, 1.0, 1.0, 1.0])
    logits = np.stack([spike, plateau])
    s_spike = statistics(logits[:1], np.array([0]), [1.0], top_k=0, top_p=0.9, max_rank=4)
    s_plateau = statistics(logits[1:], np.array([0]), [1.0], top_k=0, top_p=0.9, max_rank=4)
    assert s_spike["kept_tokens"] == [1.0] and s_plateau["kept_tokens"] == [4.0]
    assert s_spike["entropy"][0] == pytest.approx(0.0) and s_plateau["entropy"][0] == pytest.approx(np.log(4))
    assert s_plateau["cumulative_mass"] == pytest.approx([0.25, 0.5, 0.75, 1.0])


@pytest.mark.parametrize("token, kind", [(" 7", "number"), ("-1", "number"), (" x", "loop variable"),
                                         ("v", "loop variable"), (" nums", "other"), (" total", "other")])
def test_lock_kind_names_what_the_lock_copies(token, kind):
    assert lock_kind(token) == kind


def test_lock_accuracy_counts_a_model_that_copies_numbers_only(problem_and_tokenizer, tmp_path, monkeypatch):
    """A model right at every number lock and wrong elsewhere scores 1 on numbers and 0 on the other kinds,
    over exactly the lock positions of `token_labels`."""
    problems, tok = problem_and_tokenizer
    tok.save_pretrained(tmp_path)
    targets, labels = [], []
    for p in problems:
        ids, labs = token_labels(tok, p.metadata["canonical"], p.metadata["labels"], p.metadata["canonical_offset"])
        targets += ids
        labels += labs
    right = [lab == "lock" and lock_kind(tok.decode([t])) == "number" for t, lab in zip(targets, labels)]
    logits = np.zeros((len(targets), len(tok)))
    logits[np.arange(len(targets)), [t if ok else (t + 1) % len(tok) for t, ok in zip(targets, right)]] = 5.0
    monkeypatch.setattr(tokenstats, "position_logits", lambda *a: (logits, np.array(targets), labels))
    acc = tokenstats.lock_accuracy(tmp_path, problems, "paper")
    assert acc["number"]["accuracy"] == 1.0 and acc["loop variable"]["accuracy"] == 0.0
    assert sum(a["positions"] for a in acc.values()) == labels.count("lock") and acc["number"]["positions"] > 0


@pytest.mark.parametrize("ci, word", [((0.01, 0.05), "helped"), ((-0.02, 0.03), "no detectable"),
                                      ((-0.05, -0.01), "hurt")])
def test_headline_follows_the_paired_interval(ci, word):
    paired = {"delta": sum(ci) / 2, "ci": list(ci), "p_value": 0.5}
    assert word in verdict_sentence(paired)
