"""The positive-control generator: disjoint deterministic splits, labels confirmed by execution, one token per line,
a corpus whose statistics are the design's, and exact pass@1 matching sampled pass rates graded in the sandbox."""
import math

import pytest

from ssd.prompts import build_prompt
from ssd.studies.control import benchmark
from ssd.studies.control.checks import sampled_pass_rate, verify_by_execution
from ssd.studies.control.corpus import allocate, corpus_records
from ssd.studies.control.exact import sweep
from ssd.studies.control.tokenizer import build_tokenizer
from ssd.studies.control.truth import truth_table

PROBLEMS = benchmark.generate({"pretrain": 300, "pool": 20, "val": 20, "eval": 20}, seed=5)


def test_splits_are_disjoint_and_generation_is_deterministic():
    keys = {split: {p.metadata["key"] for p in problems} for split, problems in PROBLEMS.items()}
    for a in keys:
        for b in keys:
            assert a == b or not keys[a] & keys[b]
    again = benchmark.generate({"pretrain": 300, "pool": 20, "val": 20, "eval": 20}, seed=5)
    assert [p.tests for p in again["eval"]] == [p.tests for p in PROBLEMS["eval"]]
    assert all(benchmark.split_of(benchmark.key_of(p)) == split for split, ps in PROBLEMS.items() for p in ps)


def test_design_distributions_sum_to_one_with_the_stated_shares():
    design = benchmark.Design()
    for kind in benchmark.FORK_KINDS:
        dist = benchmark.fork_distribution(design, kind)
        assert math.isclose(sum(dist.values()), 1.0)
        assert math.isclose(sum(dist[line] for line in kind.correct), design.fork_correct)
    dist = benchmark.lock_distribution(design, benchmark.LOCK_OPS[3].line)
    assert len(dist) == 31 and math.isclose(dist[benchmark.LOCK_OPS[3].line], 1 - design.lock_error)


def test_every_label_holds_when_the_programs_run_in_the_sandbox():
    fragile = next(p for p in PROBLEMS["eval"] if p.metadata["family"] == "fragile")
    benign = next(p for p in PROBLEMS["eval"] if p.metadata["family"] == "benign")
    report = verify_by_execution([fragile, benign])
    assert report["programs"] > 2 * (len(benchmark.FORK_LINES) + 4 * 30)
    assert report["violations"] == []


def test_each_decision_is_one_token_and_text_round_trips():
    tokenizer = build_tokenizer()
    problem = PROBLEMS["eval"][0]
    kind = benchmark.KIND_BY_NAME[problem.metadata["fork_kind"]]
    for fork in (kind.popular, *kind.correct):
        text = benchmark.completion_text(benchmark.completion_lines(fork, problem.metadata["locks"]))
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert len(ids) == 9 and tokenizer.unk_token_id not in ids
        assert tokenizer.decode(ids) == text
    prompt = build_prompt(problem, "raw", tokenizer)
    assert prompt == problem.question
    assert tokenizer.unk_token_id not in tokenizer(prompt, add_special_tokens=False)["input_ids"]


def test_allocation_matches_the_design_to_within_one_count():
    dist = benchmark.fork_distribution(benchmark.Design(), benchmark.FORK_KINDS[0])
    lines = allocate(dist, 1000)
    assert len(lines) == 1000
    for line, p in dist.items():
        assert abs(lines.count(line) - 1000 * p) < 1


def test_corpus_fork_frequencies_are_the_design_not_sampling_noise():
    design = benchmark.Design()
    records = corpus_records(PROBLEMS["pretrain"], design, seed=0)
    for kind in benchmark.FORK_KINDS:
        chosen = [r["completion"].split("\n")[2] for r, p in zip(records, PROBLEMS["pretrain"])
                  if p.metadata["fork_kind"] == kind.name]
        if chosen:
            assert abs(chosen.count(kind.popular) - design.fork_popular * len(chosen)) < 1


def test_corpus_lock_frequencies_are_the_design_at_every_lock_position():
    design = benchmark.Design()
    problems = PROBLEMS["pretrain"]
    records = corpus_records(problems, design, seed=0)
    contexts: dict[tuple[int, str], list[bool]] = {}
    for record, problem in zip(records, problems):
        written = record["completion"].split("\n")[3:3 + benchmark.LOCK_COUNT]
        for j, (line, dictated) in enumerate(zip(written, problem.metadata["locks"])):
            contexts.setdefault((j, dictated), []).append(line == dictated)
    assert len({j for j, _ in contexts}) == benchmark.LOCK_COUNT
    for hits in contexts.values():
        assert abs(sum(hits) - (1 - design.lock_error) * len(hits)) < 1


@pytest.mark.parametrize("temperature, top_k, top_p", [(1.0, 0, 1.0), (1.2, 20, 0.6)])
def test_exact_pass_matches_sampling_graded_in_the_sandbox(temperature, top_k, top_p):
    design = benchmark.Design()
    problems = [p for p in PROBLEMS["val"] if p.metadata["family"] == "fragile"][:6]
    exact = float(sweep(truth_table(problems, design), "TKP", [temperature], [top_k], [top_p]).mean())
    n = 60
    sampled = sampled_pass_rate(problems, design, temperature, top_k, top_p, n=n, seed=1)
    half_width = 3.3 * math.sqrt(exact * (1 - exact) / (n * len(problems)))  # ~99.9% binomial interval
    assert abs(sampled - exact) <= half_width, (sampled, exact)
