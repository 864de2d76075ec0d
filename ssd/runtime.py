"""Process-wide runtime knobs: the torch thread count and the default device.

Guarantees: `configure_threads(n)` sets torch's intra-op threads to `n` (default: the `SSD_THREADS`
environment variable, else the number of cores) and inter-op threads to 1, once per process, so that
two cores are never oversubscribed. Does not: pin processes to cores.
"""
from __future__ import annotations

import os

_configured: int | None = None


def default_threads() -> int:
    env = os.environ.get("SSD_THREADS")
    if env:
        value = int(env)
        if value < 1:
            raise ValueError(f"SSD_THREADS: expected an integer >= 1, got {env!r}")
        return value
    return max(1, os.cpu_count() or 1)


def configure_threads(n: int | None = None) -> int:
    global _configured
    import torch  # noqa: PLC0415

    n = n or default_threads()
    if _configured != n:
        torch.set_num_threads(n)
        if _configured is None:
            try:
                torch.set_num_interop_threads(1)
            except RuntimeError:  # already set by the first parallel op; harmless
                pass
        _configured = n
    return n


def default_device() -> str:
    import torch  # noqa: PLC0415

    return "cuda" if torch.cuda.is_available() else "cpu"
