"""Generation backends with one interface and the package's own decoding semantics.

Public API: `make_backend(name, model, *, device=None, dtype=None, batch_size=16) -> Backend`,
`Backend.generate(prompts, cfg, *, seeds=None) -> list[list[Completion]]`, `Completion`, `derive_seed`,
and `ssd.generation.processing` (the logits operator equal to `theory.decoding`). See `backend.py`.
"""
from ssd.generation.backend import BACKENDS, Backend, Completion, derive_seed, make_backend

__all__ = ["BACKENDS", "Backend", "Completion", "derive_seed", "make_backend"]
