"""Grading each distinct program once gives every sample the verdict that grading it alone would give."""
from ssd.grading import grade_samples
from ssd.records import Sample
from ssd.studies.testbed import benchmark as bm
from ssd.studies.testbed.evaluation import grade_distinct


def test_distinct_grading_matches_grading_every_sample():
    problems = {p.id: p for p in bm.make_split("val", {"easy": 2, "medium": 2})}
    samples = []
    for p in problems.values():
        key = bm.parse_key(p.metadata["key"])
        right, _ = bm.render(key, p.kind, bm.Choices())
        wrong = right.replace("nums", "nums[1:]", 1) if p.kind == "stdin" else right.replace("return ", "return 1 + ")
        texts = [bm.completion_text(right), bm.completion_text(wrong), bm.completion_text(right), "no code here"]
        samples += [Sample(p.id, i, "", t, "stop", 0, {}) for i, t in enumerate(texts)]
    distinct, count = grade_distinct(samples, problems, workers=2)
    full = grade_samples(samples, problems, workers=2)
    assert [(v.problem_id, v.sample_index, v.status) for v in distinct] == \
        [(v.problem_id, v.sample_index, v.status) for v in full]
    assert count == 3 * len(problems)
    assert {v.status for v in distinct} >= {"passed", "no_code"}
