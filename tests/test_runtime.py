"""ssd.runtime.run_in_processes: independent jobs in spawned processes that share the thread budget."""
import functools
import os

import pytest
import torch

from ssd.runtime import run_in_processes


def test_jobs_run_in_separate_processes_with_their_share_of_the_threads_and_results_keep_their_order():
    jobs = [functools.partial(os.getenv, "SSD_THREADS"), functools.partial(torch.get_num_threads), os.getpid,
            functools.partial(pow, 2, 10)]
    share, torch_threads, pid, power = run_in_processes(jobs, threads=2)
    assert (share, torch_threads, power) == ("1", 1, 1024)
    assert pid != os.getpid()


def test_four_threads_over_two_jobs_give_each_process_two():
    jobs = [functools.partial(os.getenv, "SSD_THREADS"), functools.partial(torch.get_num_threads)]
    assert run_in_processes(jobs, threads=4) == ["2", 2]


def test_one_thread_runs_the_jobs_in_this_process():
    assert run_in_processes([os.getpid, os.getpid], threads=1) == [os.getpid(), os.getpid()]


def test_a_failing_job_raises_its_own_error():
    with pytest.raises(ValueError, match="invalid literal"):
        run_in_processes([functools.partial(pow, 2, 3), functools.partial(int, "x")], threads=2)
