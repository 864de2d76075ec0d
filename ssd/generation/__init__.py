"""Generation: engines with one interface and the package's own decoding semantics, and sampling into records.

Public API: `make_backend(name, model, ...) -> Backend` (this module: the factory, so the interface in
`base.py` knows no engine), `Backend.generate(prompts, cfg, *, seeds=None) -> list[list[Completion]]`,
`Completion`, `derive_seed` (base.py), the engines (`hf.py`, `vllm_backend.py`), the logits operator equal
to `theory.decoding` (`processing.py`), and `generate_samples` / `read_shards` (`sampling.py`: sharded,
resumable Sample records).
"""
from __future__ import annotations

from ssd.config import ConfigError
from ssd.generation.base import Backend, Completion, derive_seed
from ssd.generation.vllm_backend import VLLMBackend

__all__ = ["BACKENDS", "Backend", "Completion", "derive_seed", "make_backend"]

BACKENDS = ("transformers", "vllm")


def make_backend(name: str, model: str, *, device: str | None = None, dtype: str | None = None,
                 batch_size: int = 16, tensor_parallel_size: int = 1, max_model_len: int | None = None,
                 gpu_memory_utilization: float | None = None) -> Backend:
    """A backend by name: "transformers" (CPU or GPU) or "vllm". `model` is an HF directory or hub id.

    `tensor_parallel_size`, `max_model_len` and `gpu_memory_utilization` are vLLM engine settings; the
    transformers backend runs on one device and refuses tensor parallelism.
    """
    if name == "transformers":
        from ssd.generation.hf import TransformersBackend  # noqa: PLC0415 - imports torch and transformers

        if tensor_parallel_size != 1:
            raise ConfigError("tensor_parallel_size: the transformers backend runs on one device; use vllm")
        return TransformersBackend(model, device=device, dtype=dtype, batch_size=batch_size)
    if name == "vllm":
        engine = {"tensor_parallel_size": tensor_parallel_size, "max_model_len": max_model_len,
                  "gpu_memory_utilization": gpu_memory_utilization}
        return VLLMBackend(model, dtype=dtype, **{k: v for k, v in engine.items() if v is not None})
    raise ConfigError(f"backend: expected one of {BACKENDS}, got {name!r}")
