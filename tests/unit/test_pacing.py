"""The embedded pace adapts to recent runs and to how busy the API is: none when idle, longer
only under load, bounded."""

from __future__ import annotations

import pytest

from service.process.metered import MeteredApp
from worker.pacing import ApiLoad, Pacer
from worker.projector import SNAPSHOT_EVERY, snapshot_spacing


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_no_run_yet_means_no_wait() -> None:
    assert Pacer(0.1, clock=Clock()).delay() == 0


def test_the_wait_is_the_factor_times_the_run_less_the_time_since() -> None:
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


def test_one_slow_run_among_short_ones_does_not_set_the_wait() -> None:
    clock = Clock()
    pacer = Pacer(0.1, factor=3, clock=clock)
    for duration in (0.002, 0.002, 0.050, 0.002, 0.002):
        pacer.run_ended(duration)
    assert pacer.delay() == pytest.approx(0.006)  # the median run: 2 ms, not 3 x 50 ms
    for _ in range(5):
        pacer.run_ended(0.020)  # runs that stay long: the load grew, the wait follows
    assert pacer.delay() == pytest.approx(0.060)


class Busy:
    def __init__(self, share: float) -> None:
        self.share = share

    def busy(self) -> float:
        return self.share


@pytest.mark.parametrize(
    ("busy", "factor"),
    [
        (0.0, 0.0),  # an idle API: the worker runs at once
        (0.2, 0.25),  # b / (1 - b): the worker takes the share the API leaves idle
        (0.5, 1.0),
        (0.75, 3.0),
        (0.95, 3.0),  # saturated: never more than 1 / (1 + FACTOR) for the worker
        (1.0, 3.0),
    ],
)
def test_the_factor_follows_the_share_the_api_leaves_idle(busy: float, factor: float) -> None:
    clock = Clock()
    pacer = Pacer(1.0, factor=3, clock=clock, load=Busy(busy))  # type: ignore[arg-type]
    pacer.run_ended(0.010)
    assert pacer.delay() == pytest.approx(factor * 0.010)


def test_api_load_is_the_recent_share_of_time_with_a_request_in_hand() -> None:
    clock = Clock()
    load = ApiLoad(clock)
    assert load.busy() == 0
    load.started()
    clock.now += 5.0  # ten time constants busy
    assert load.busy() == pytest.approx(1.0, abs=1e-3)
    load.started()  # two at once count as busy, not twice
    load.ended()
    clock.now += 0.5
    assert load.busy() == pytest.approx(1.0, abs=1e-3)
    load.ended()
    clock.now += 0.5  # one time constant idle: e^-1 of it left
    assert load.busy() == pytest.approx(0.3679, abs=1e-3)
    clock.now += 5.0
    assert load.busy() == pytest.approx(0.0, abs=1e-3)


def test_the_metered_app_marks_a_request_busy_until_it_returns_even_when_it_fails() -> None:
    clock = Clock()
    load = ApiLoad(clock)
    seen: list[float] = []

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        clock.now += 5.0
        seen.append(load.busy())
        raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError):
        MeteredApp(app, load)({}, lambda *a: None)
    assert seen[0] == pytest.approx(1.0, abs=1e-3)
    clock.now += 5.0
    assert load.busy() == pytest.approx(0.0, abs=1e-3)  # the failed request ended


def test_streams_fed_in_step_snapshot_at_different_versions() -> None:
    spacings = [snapshot_spacing(f"session-lat-{i}") for i in range(20)]
    assert all(SNAPSHOT_EVERY <= s < 2 * SNAPSHOT_EVERY for s in spacings)
    assert len(set(spacings)) >= 15
    assert snapshot_spacing("session-lat-3") == spacings[3]  # the same in every process
