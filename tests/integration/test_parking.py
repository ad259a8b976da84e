"""Poison streams: parked after a few failed runs with their error, named by /health, counted
by /metrics, retried by the CLI; other streams never wait for them. Both backends."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from projections.registry import SessionProjection
from service.cli import main
from tests.builders import Broadcast
from tests.integration.conftest import Api
from worker.parking import PARK_AFTER


def test_a_stream_that_keeps_failing_is_parked_and_the_others_go_on(
    api_any: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fold = SessionProjection.fold

    def poisoned(self: SessionProjection, state: Any, event: Any) -> Any:
        if event.stream_id == "session-poison":
            raise OverflowError("a sum outgrew its column")
        return real_fold(self, state, event)

    monkeypatch.setattr(SessionProjection, "fold", poisoned)
    api_any.post(
        {
            "events": Broadcast("poison").start(0).join(1, "v1").events
            + Broadcast("clean")
            .start(0)
            .join(1, "v1")
            .place(2, "o1", "v1", "9.90")
            .pay(3, "o1")
            .events
        }
    )
    projector = api_any.runtime.worker.projector
    for _ in range(PARK_AFTER - 1):  # failing runs raise, so the message is retried
        with pytest.raises(OverflowError):
            projector.project("session-poison")
    assert api_any.get("/api/v1/health").json["parked_streams"] == []
    assert projector.project("session-poison") == 0  # the last try parks it: no raise
    assert projector.project("session-poison") == 0  # parked: skipped, not run
    projector.project("session-clean")
    clean = api_any.get("/api/v1/sessions/clean").json["metrics"]
    assert (clean["views"], clean["gmv"]) == (1, 9.9)
    health = api_any.get("/api/v1/health").json
    assert health["status"] == "degraded"
    assert [p["stream_id"] for p in health["parked_streams"]] == ["session-poison"]
    assert "OverflowError: a sum outgrew its column" in health["parked_streams"][0]["error"]
    metrics = api_any.client.get("/metrics").data.decode()
    assert "livetally_parked_streams 1.0" in metrics

    monkeypatch.setattr(SessionProjection, "fold", real_fold)  # the cause is fixed
    result = CliRunner().invoke(
        main,
        ["projections", "retry", "session-poison", "--db", api_any.runtime.settings.database_url],
    )
    assert result.exit_code == 0, result.output
    assert "2 events projected" in result.output
    assert api_any.get("/api/v1/sessions/poison").json["metrics"]["views"] == 1
    assert api_any.get("/api/v1/health").json["parked_streams"] == []
