"""SSD on SmolLM2-135M-Instruct with HumanEval on CPU (`ssd smollm`): `config.py` (the YAML), `pool.py` (the
offline stdlib prompt pool), `run.py` (the arms on the one runner), `report.py` (headline and report.md)."""
from ssd.studies.smollm.config import SETTINGS, SmolLMConfig, arm_decoding, humaneval_subset, load_smollm
from ssd.studies.smollm.pool import stdlib_prompt_pool
from ssd.studies.smollm.report import headline, render_report, testbed_form
from ssd.studies.smollm.run import arms, print_plan, prompt_pool, run, smollm_plan

__all__ = ["SETTINGS", "SmolLMConfig", "arm_decoding", "arms", "headline", "humaneval_subset", "load_smollm",
           "print_plan", "prompt_pool", "render_report", "run", "smollm_plan", "stdlib_prompt_pool", "testbed_form"]
