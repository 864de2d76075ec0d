"""`ssd.runtime.host_info`: the host record every benchmark JSON carries."""
import json
import os
from pathlib import Path

import pytest
import torch

from ssd.runtime import CPU_FLAGS, host_info


def test_host_info_is_json_and_reports_the_running_process():
    info = json.loads(json.dumps(host_info()))
    assert info["cpu_count"] == os.cpu_count()
    assert info["torch"] == torch.__version__
    assert info["torch_threads"] == torch.get_num_threads()
    assert set(info["cpu_flags"]) == set(CPU_FLAGS)
    assert len(info["load_average"]) == 3 and all(x >= 0 for x in info["load_average"])
    assert info["torch_build"]["cuda"] == torch.version.cuda
    assert len(info["gpus"]) == (torch.cuda.device_count() if torch.cuda.is_available() else 0)


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="flags are read from Linux's /proc/cpuinfo")
def test_host_info_flags_match_proc_cpuinfo():
    text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    flags = set(next(line for line in text.splitlines() if line.startswith("flags")).split(":", 1)[1].split())
    assert host_info()["cpu_flags"] == {flag: flag in flags for flag in CPU_FLAGS}
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), None)
    if model:
        assert host_info()["cpu_model"] == model
