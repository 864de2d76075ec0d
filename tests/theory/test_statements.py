"""The statement registry: every check passes, and the checker detects false claims."""
import dataclasses

import numpy as np
import pytest

from theory import identities as ids
from theory.decoding import kept_support
from theory.distributions import temper
from theory.statements import STATEMENTS, by_name, check, violation


@pytest.mark.parametrize("statement", STATEMENTS, ids=[s.name for s in STATEMENTS])
def test_statement_holds_on_random_cases(statement):
    result = check(statement, draws=40, seed=1)
    assert result.passed, f"{statement.name}: {result.max_violation:.3e}"


def test_every_statement_is_labelled_paper_or_package():
    assert {s.source for s in STATEMENTS} == {"paper", "package"}
    assert len({s.name for s in STATEMENTS}) == len(STATEMENTS)


def test_retruncation_between_temperings_breaks_composition():
    def retruncated(logp, t1, t2, support=None):
        first = temper(logp, t1)
        nucleus = kept_support(first, top_p=0.5)
        return ids.both_sides(np.exp(temper(first, t2, nucleus)), np.exp(temper(logp, t1 * t2)))
    broken = dataclasses.replace(by_name("Lemma B.1"), sides=retruncated)
    assert not check(broken, draws=40).passed


def test_checker_flags_a_violated_inequality():
    flipped = dataclasses.replace(by_name("Eq. (39)"), sides=lambda **c: ids.eq39_prefix_mass_le(**c)[::-1])
    assert not check(flipped, draws=40).passed


def test_checker_counts_nan_as_a_violation():
    nan_sides = dataclasses.replace(by_name("Eq. (16)"), sides=lambda **c: (np.array([np.nan]), np.array([0.0])))
    assert violation(nan_sides, {}) == float("inf")


def test_unknown_statement_name_raises():
    with pytest.raises(KeyError):
        by_name("Lemma Z.9")
