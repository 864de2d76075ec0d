"""bench/common.py: spreads over repetitions, ratios within repetitions, and the machine-load record."""
import os

import pytest

from bench import common
from bench.common import MachineWatch, ratio_spread, spread


def test_spread_is_min_median_max_over_repetitions():
    assert spread([3.0, 1.0, 2.0, 10.0]) == {"min": 1.0, "median": 2.5, "max": 10.0, "n": 4}
    with pytest.raises(ValueError, match="at least one"):
        spread([])


def test_ratios_pair_each_repetition_with_itself_not_medians_with_medians():
    # a slowed both sides in repetition 2 (load): per repetition a is 2x b every time
    ratios = ratio_spread([10.0, 2.0, 12.0], [5.0, 1.0, 6.0])
    assert ratios == {"min": 2.0, "median": 2.0, "max": 2.0, "n": 3}
    with pytest.raises(ValueError, match="2 numerators for 3 denominators"):
        ratio_spread([1.0, 2.0], [1.0, 2.0, 3.0])


@pytest.mark.parametrize(("load_before", "other_busy", "busy"), [(0.1, 0.2, False), (9.0, 0.2, True),
                                                                 (0.1, 9.0, True)])
def test_machine_watch_flags_a_busy_machine(monkeypatch, load_before, other_busy, busy):
    loads = iter([load_before, 0.5])
    monkeypatch.setattr(common.os, "getloadavg", lambda: (next(loads), 0.0, 0.0))
    with MachineWatch() as watch:
        pass
    watch.other_cores_busy = other_busy
    record = watch.record()
    assert record["busy"] is busy
    assert record["load_average_before"] == load_before and record["load_average_after"] == 0.5
    assert record["busy_above_cores"] == round(common.BUSY_FRACTION * (os.cpu_count() or 1), 2)


def test_other_cores_busy_is_machine_cpu_time_minus_this_process_tree_over_wall_time(monkeypatch):
    monkeypatch.setattr(common, "_busy_cpu_seconds", iter([100.0, 104.0]).__next__)  # machine: 4 CPU s
    monkeypatch.setattr(common, "_own_cpu_seconds", iter([10.0, 13.0]).__next__)  # ours: 3 of them
    monkeypatch.setattr(common.time, "perf_counter", iter([50.0, 52.0]).__next__)  # over 2 s of wall time
    with MachineWatch() as watch:
        pass
    assert watch.other_cores_busy == pytest.approx(0.5)
