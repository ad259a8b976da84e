"""The embedded pace adapts to the last run: none when idle, longer only under load, bounded."""

from __future__ import annotations

import pytest

from worker.pacing import Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_no_run_yet_means_no_wait() -> None:
    assert Pacer(0.1, clock=Clock()).delay() == 0


def test_the_wait_is_the_factor_times_the_last_run_less_the_time_since() -> None:
    clock = Clock()
    pacer = Pacer(0.1, factor=3, clock=clock)
    pacer.run_ended(0.010)  # a 10 ms run: the next message waits 30 ms from its end
    assert pacer.delay() == pytest.approx(0.030)
    clock.now += 0.020
    assert pacer.delay() == pytest.approx(0.010)
    clock.now += 0.050  # idle since: no wait
    assert pacer.delay() == 0


def test_long_runs_wait_at_most_the_bound() -> None:
    clock = Clock()
    pacer = Pacer(0.1, factor=3, clock=clock)
    pacer.run_ended(2.0)
    assert pacer.delay() == pytest.approx(0.1)
