"""The positive control of issue #14: a benchmark family where the theory predicts an SSD gain, and its benign twin.

benchmark.py generates it (truth.py: its true distributions; corpus.py: the pretraining corpus; tokenizer.py: one
token per line), exact.py computes exact pass@1 of decoding policies, policies.py selects the policies (a) decode-only
in vLLM order, (b) decode-only in any order, (c) the ideal SSD student; models.py trains the bases and the (d) trained
SSD students through the package's generation backend and SFT; study.py runs it all (`run_control`), report.py
renders the markdown section and the figure; checks.py confirms labels and exact values by sandboxed execution.

Use: cfg = ssd.config.load_config("experiments/cpu/control.yaml", ControlConfig); result = run_control(cfg, root);
render_markdown(result); plot(result, "positive_control.png").
"""
from ssd.studies.control.report import plot, render_markdown
from ssd.studies.control.study import ControlConfig, run_control

__all__ = ["ControlConfig", "plot", "render_markdown", "run_control"]
