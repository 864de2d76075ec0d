"""The positive control of issue #14: a benchmark family where the theory predicts an SSD gain, and its benign twin.

benchmark.py generates it, truth.py holds its true distributions, exact.py computes exact pass@1 of decoding
policies, policies.py selects the four policies (decode-only in vLLM order, decode-only in any order, ideal SSD
student, trained SSD student) on validation and reports them on evaluation.
"""
