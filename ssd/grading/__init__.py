"""Grading: code extraction (`extract.py`) and verdicts from sandboxed runs with LiveCodeBench-compatible
comparison (`grade.py`; its docstring states the rules).

Public API: `grade_samples(samples, problems, workers=...)`, `grade_distinct_programs(...)` (each distinct
program run once; what every experiment uses), `grade_file(...)`, `make_limits(...)`,
`default_ks(n)`, `stdout_matches`, `value_matches`, `program_for`, `extract_code`, `PRELUDE_MODULES`,
`LCB_PRELUDE`.
"""
from ssd.grading.extract import extract_code, fenced_blocks
from ssd.grading.grade import (
    LCB_PRELUDE, PRELUDE_MODULES, default_ks, grade_distinct_programs, grade_file, grade_samples, make_limits,
    program_for, stdout_matches, value_matches,
)

__all__ = [
    "LCB_PRELUDE", "PRELUDE_MODULES", "default_ks", "extract_code", "fenced_blocks", "grade_distinct_programs",
    "grade_file", "grade_samples",
    "make_limits", "program_for", "stdout_matches", "value_matches",
]
