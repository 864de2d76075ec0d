"""The generated CPU benchmark: determinism, disjoint splits, correct references, exact fork/lock labels."""
import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssd.studies.testbed import benchmark as bm

SMALL = {"easy": 4, "medium": 4, "hard": 4}


def _labelled(text, spans, label):
    return [(s["start"], text[s["start"]:s["end"]]) for s in spans if s["label"] == label]


keys = st.builds(
    bm.Key,
    st.lists(st.sampled_from([
        bm.Step("filter", "gt", 3), bm.Step("filter", "odd"), bm.Step("filter", "ndiv", 4),
        bm.Step("map", "mul", 5), bm.Step("map", "sq"), bm.Step("map", "neg"), bm.Step("map", "fdiv", 2),
    ]), min_size=1, max_size=3).map(tuple),
    st.sampled_from(sorted(bm.REDUCERS)),
)


def test_same_seed_gives_identical_problems():
    assert bm.make_split("eval", SMALL, seed=1) == bm.make_split("eval", SMALL, seed=1)


def test_difficulty_is_composition_depth():
    for p in bm.make_split("val", SMALL):
        assert len(bm.parse_key(p.metadata["key"]).steps) == bm.DEPTH[p.difficulty]


def test_splits_are_disjoint_and_checked():
    splits = {name: bm.make_split(name, SMALL) for name in bm.SPLIT_BUCKETS}
    bm.check_disjoint(splits)
    keysets = [{p.metadata["key"] for p in ps} for ps in splits.values()]
    assert all(not (a & b) for a, b in itertools.combinations(keysets, 2))


def test_check_disjoint_rejects_a_problem_moved_to_another_split():
    problem = bm.make_split("eval", {"easy": 1})[0]
    with pytest.raises(ValueError, match="does not hash to split"):
        bm.check_disjoint({"pool": [problem.__class__(**{**problem.__dict__,
                                                        "metadata": {**problem.metadata, "split": "pool"}})]})


def test_check_disjoint_rejects_a_statement_in_two_splits():
    problem = bm.make_split("eval", {"easy": 1})[0]
    with pytest.raises(ValueError, match="occurs in splits"):
        bm.check_disjoint({"eval": [problem], "val": [problem]})


def test_key_space_is_tens_of_thousands_beyond_easy():
    keys = list(itertools.islice(bm.iter_keys("pretrain", "medium", seed=0), 20000))
    assert len(set(keys)) == 20000


def test_too_many_easy_keys_is_a_clear_error():
    with pytest.raises(ValueError, match="distinct easy keys"):
        bm.make_split("eval", {"easy": 10_000})


def test_reference_answer_follows_the_statement():
    key = bm.Key((bm.Step("filter", "gt", 3), bm.Step("map", "mul", 2)), "sum")
    assert bm.reference_answer(key, [1, 4, 5, -2]) == 18
    assert "greater than 3" in bm.statement(key, "functional")
    assert "multiply each number by 2" in bm.statement(key, "stdin")


def test_functional_tests_are_json_and_stdin_tests_are_lines():
    for p in bm.make_split("eval", SMALL):
        for t in p.tests:
            if p.kind == "functional":
                assert t["input"].startswith("[") and p.func_name == "solve"
            else:
                assert t["input"].endswith("\n") and t["output"].endswith("\n")


@given(keys, st.integers(0, 10_000), st.sampled_from(bm.KINDS))
def test_uses_of_a_bound_loop_variable_are_labelled(key, seed, kind):
    """After `for v in`, each use of `v` is a lock (or a fork where operand order is free)."""
    text, spans = bm.render(key, kind, bm.random_choices(key, random.Random(seed)))
    labelled = {i for s in spans for i in range(s["start"], s["end"])}
    for v in bm.LOOP_VARS:
        for bound in [i for i in range(len(text)) if text.startswith(f"for {v} in", i)]:
            use = bound + len("for ")
            assert use in labelled


choices = st.builds(
    bm.Choices, forms=st.tuples(*[st.integers(0, 2)] * 3), loop_vars=st.tuples(*[st.integers(0, 2)] * 4),
    orders=st.tuples(*[st.integers(0, 1)] * 3), reducer_form=st.integers(0, 2), stdin_read=st.integers(0, 1),
)


@given(keys, choices, st.sampled_from(bm.KINDS), st.integers(0, 4), st.integers(0, 3))
def test_changing_one_choice_first_changes_the_text_at_a_fork(key, base, kind, field, position):
    """Forks are exactly where correct alternatives diverge: flip one choice, the first difference is a fork."""
    text, spans = bm.render(key, kind, base)
    name = ("forms", "loop_vars", "orders", "reducer_form", "stdin_read")[field]
    value = getattr(base, name)
    if isinstance(value, tuple):
        i = position % len(value)
        flipped = value[:i] + (value[i] + 1,) + value[i + 1:]
    else:
        flipped = value + 1
    other, _ = bm.render(key, kind, bm.Choices(**{**base.__dict__, name: flipped}))
    diffs = [i for i, (a, b) in enumerate(zip(text, other)) if a != b]
    if diffs:
        assert diffs[0] in {s for s, _ in _labelled(text, spans, "fork")}


def test_each_choice_changes_the_text_exactly_at_its_fork():
    key = bm.Key((bm.Step("filter", "gt", 3),), "max")
    base_text, spans = bm.render(key, "functional", bm.Choices(forms=(0,), loop_vars=(0, 0), orders=(0,)))
    forks = [s for s, _ in _labelled(base_text, spans, "fork")]
    variants = [bm.Choices(forms=(1,), loop_vars=(0, 0), orders=(0,)),
                bm.Choices(forms=(0,), loop_vars=(1, 0), orders=(0,)),
                bm.Choices(forms=(0,), loop_vars=(0, 0), orders=(1,)),
                bm.Choices(forms=(0,), loop_vars=(0, 0), orders=(0,), reducer_form=1)]
    for choices in variants:
        other, _ = bm.render(key, "functional", choices)
        first_diff = next(i for i, (a, b) in enumerate(zip(base_text, other)) if a != b)
        assert first_diff in forks


def test_constants_of_the_statement_are_locks():
    key = bm.Key((bm.Step("filter", "lt", 7),), "sum")
    text, spans = bm.render(key, "stdin", bm.Choices())
    assert any("7" in t for _, t in _labelled(text, spans, "lock"))


def test_canonical_solution_is_a_fenced_block_with_offset_labels():
    p = bm.make_split("eval", {"hard": 1})[0]
    canonical, offset = p.metadata["canonical"], p.metadata["canonical_offset"]
    assert canonical.startswith("```python\n") and canonical.endswith("```")
    assert all(0 <= s["start"] < s["end"] <= len(canonical) - offset for s in p.metadata["labels"])


def test_every_fork_combination_passes_the_hidden_tests_in_the_sandbox():
    from ssd.grading import grade_samples
    from ssd.records import Sample

    problems = {p.id: p for p in bm.make_split("val", {"easy": 3, "medium": 3, "hard": 3})}
    samples = []
    for p in problems.values():
        key = bm.parse_key(p.metadata["key"])
        n = len(key.steps)
        for i in range(6):  # each index of each choice at least once (indices wrap)
            choices = bm.Choices(forms=(i,) * n, loop_vars=(i,) * (n + 1), orders=(i,) * n,
                                 reducer_form=i, stdin_read=i)
            code, _ = bm.render(key, p.kind, choices)
            samples.append(Sample(p.id, i, "", bm.completion_text(code), "stop", 0, {}))
    verdicts = grade_samples(samples, problems, workers=2)
    assert [v.status for v in verdicts] == ["passed"] * len(samples)


def test_hidden_tests_reject_a_solution_with_the_wrong_constant():
    from ssd.grading import grade_samples
    from ssd.records import Sample

    problems = {p.id: p for p in bm.make_split("val", {"medium": 12})}
    samples = []
    for p in problems.values():
        key = bm.parse_key(p.metadata["key"])
        wrong = bm.Key(tuple(bm.Step(s.family, s.op, None if s.c is None else s.c + 1) if i == 0 else s
                             for i, s in enumerate(key.steps)), key.reducer)
        if wrong != key:
            code, _ = bm.render(wrong, p.kind, bm.Choices())
            samples.append(Sample(p.id, 0, "", bm.completion_text(code), "stop", 0, {}))
    verdicts = grade_samples(samples, problems, workers=2)
    assert sum(v.status != "passed" for v in verdicts) >= 0.8 * len(samples) > 0
