"""The feed's history: only versions that went to a client can be resumed from."""

from __future__ import annotations

import asyncio
from typing import Any

from service.feed.channels import HISTORY, SessionChannel


def document(version: int, views: int) -> dict[str, Any]:
    return {"session_id": "s-1", "version": version, "status": "live", "metrics": {"views": views}}


def test_versions_published_with_no_client_keep_nothing_and_sent_ones_resume_with_a_diff() -> None:
    async def check() -> None:
        channel = SessionChannel("s-1")
        for version in range(1, 101):
            channel.update(document(version, version * 10), [])
        assert len(channel.history) == 0  # nobody watched: nothing to resume from
        assert channel.resumed_from(50) is None
        channel.sent_out(channel.latest)
        channel.update(document(101, 1_010), [])
        resumed = channel.resumed_from(100)
        assert resumed == {"version": 100, "metrics": {"views": 1_000}}
        assert b'"views":1010' in channel.update_message(resumed)

    asyncio.run(check())


def test_the_history_keeps_the_latest_versions_sent() -> None:
    async def check() -> None:
        channel = SessionChannel("s-1")
        for version in range(1, HISTORY + 11):
            channel.update(document(version, version), [])
            channel.sent_out(channel.latest)
        assert len(channel.history) == HISTORY
        assert channel.resumed_from(10) is None and channel.resumed_from(11) is not None

    asyncio.run(check())
