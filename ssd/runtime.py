"""Process-wide runtime knobs (the torch thread count, the default device), independent jobs in parallel
processes, and a description of the host.

Guarantees: `configure_threads(n)` sets torch's intra-op threads to `n` (default: the `SSD_THREADS`
environment variable, else the number of cores) and inter-op threads to 1, once per process, so that
two cores are never oversubscribed. `run_in_processes(jobs, threads)` runs independent jobs in at most
`threads` spawned processes that share the `threads` torch threads (each process's `SSD_THREADS` is its share),
and returns their results in order. `host_info()` describes the machine a measurement ran on: CPU model,
cores, the instruction-set flags that decide CPU matmul speed (bf16 is emulated, ~10x slower, without
avx512_bf16 or AMX), the torch build, threads in use and the load average at call time, GPUs if any.
Does not: pin processes to cores.
"""
from __future__ import annotations

import multiprocessing
import os
import platform
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable

_configured: int | None = None
# CPU flags that change what a CPU benchmark measures (names as in /proc/cpuinfo).
CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")


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
    import torch  # noqa: PLC0415 - heavy; importing ssd must not load it

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


def _worker_threads(n: int) -> None:
    os.environ["SSD_THREADS"] = str(n)  # every configure_threads() in the worker, SFT's included, keeps its share
    configure_threads(n)


def run_in_processes(jobs: list[Callable[[], Any]], threads: int) -> list[Any]:
    """Each job (a picklable zero-argument callable, e.g. a functools.partial of a module-level function) in one of
    min(threads, len(jobs)) spawned processes, started in list order; their results in that order. The first
    failure is raised once the running jobs end (jobs not yet started are cancelled). One worker: in this process."""
    workers = min(threads, len(jobs))
    if workers <= 1:
        return [job() for job in jobs]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_threads,
                             initargs=(threads // workers,)) as pool:
        futures = [pool.submit(job) for job in jobs]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def default_device() -> str:
    import torch  # noqa: PLC0415 - heavy; importing ssd must not load it

    return "cuda" if torch.cuda.is_available() else "cpu"


def _cpu_model_and_flags() -> tuple[str, set[str]]:
    """The CPU model name and flag set from /proc/cpuinfo (Linux); the platform's processor string elsewhere."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return model, flags
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            model = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = set(value.split())
    return model, flags


def host_info() -> dict[str, Any]:
    """The host a measurement runs on (see the module docstring); JSON-able. Without torch installed, the torch
    fields are absent."""
    model, flags = _cpu_model_and_flags()
    info: dict[str, Any] = {
        "cpu_model": model,
        "cpu_count": os.cpu_count(),
        "cpu_flags": {flag: flag in flags for flag in CPU_FLAGS},
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        import torch  # noqa: PLC0415 - heavy, and optional for the theory-only install
    except ImportError:
        return info
    build = torch.__config__.show()
    cuda = torch.cuda.is_available()
    info.update({
        "torch": torch.__version__,
        "torch_build": {
            "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version() if cuda else None,
            "mkl": torch.backends.mkl.is_available(),
            "onednn": torch.backends.mkldnn.is_available(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "onednn_version": next((line.split("MKL-DNN", 1)[1].split("(")[0].strip()
                                    for line in build.splitlines() if "MKL-DNN" in line), None),
        },
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else [],
    })
    return info
