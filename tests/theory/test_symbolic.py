"""sympy proofs run as tests, and a check that the prover does reject a false identity."""
import pytest
import sympy as sp

from theory.symbolic import PROOFS, vanishes


@pytest.mark.parametrize("name", sorted(PROOFS))
def test_symbolic_proof(name):
    assert PROOFS[name]() is True


def test_prover_rejects_additive_temperature_composition():
    p1, p2, t1, t2 = sp.symbols("p1 p2 T1 T2", positive=True)

    def temper(ws, t):
        return [w ** (1 / t) / sum(x ** (1 / t) for x in ws) for w in ws]
    assert not vanishes(temper(temper([p1, p2], t1), t2)[0] - temper([p1, p2], t1 + t2)[0])
