"""Where models come from: a packaged GGUF as a Hugging Face folder (`sources.py`) and tiny Qwen3 models with
their tokenizers built from scratch (`tiny.py`)."""
