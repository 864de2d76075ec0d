"""SSD on SmolLM2-135M-Instruct with HumanEval on CPU (`ssd smollm`); see run.py."""
