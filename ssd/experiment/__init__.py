"""Experiments: configs (`config.py`), the steps every experiment runs (`steps.py`), the one runner
(`run.py`), the dry-run estimate (`estimate.py`) and the result writer (`report.py`)."""
