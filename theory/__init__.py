"""Verified theory of SSD (numpy/scipy/sympy only; never imports torch; importing `theory` imports nothing).

Modules: `decoding` (the vLLM v0.11 decoding oracle), `distributions` (tempering, restriction, entropies in log
space), `ssd` (S_s, q_s, the loss and its terms, the ideal-fit student), `operators` (the ranked decode-only
operators of Appendix B.5), `identities` (both sides of every statement), `statements` (registry and numeric
checker), `symbolic` (sympy proofs), `realizability` (Prop. B.8 / Obs. B.9), `toy` (the Appendix C.4 FSM and
figure data), `report` (`python -m theory.report`).
"""
