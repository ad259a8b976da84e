"""Live numbers flow out to screens: the websocket feed sends snapshots, coalesced updates,
alerts and pings."""
