"""Verified theory of SSD (numpy/scipy/sympy only; never imports torch)."""
