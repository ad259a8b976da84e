"""Platform connectors: the platforms push, livetally receives (docs/connectors.md).

Each connector verifies its platform's own signature, splits a push into messages and maps
each message to catalogue events (`handle`); the intake appends them and keeps every message's
fate in the ledger, dead letters included. The registry of connectors is
`service.ingest.wiring.build_connectors`; a platform with no app configured (in settings or
on a connection) answers 404.
"""

from __future__ import annotations

PLATFORMS = ("doudian", "tiktok_shop", "douyin_live", "wechat_shop", "kuaishou_shop")

__all__ = ["PLATFORMS"]
