"""Alerts: the thresholds that need a clock (the sweep applies them with its own `now`), and
where an alert stands now.

An alert has a lifecycle, the same on every page (docs/metrics.md, "Alerts"):
- `on`: raised and still on (online is still down, the room is still silent, the gap is still
  there, the incident is still open);
- `cleared`: its condition is over (`cleared_at`: online came back, events resumed, the gap
  closed, or the broadcast ended);
- `resolved`: an incident resolved (`resolved_at`);
- `raised`: a one-off notice with nothing to clear (a shop connection that failed, a gap that
  closed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from events.fields import format_timestamp
from projections.clock import US_PER_SECOND
from projections.shapes import Incident

SILENCE_US = 60 * US_PER_SECOND

# Alerts whose condition lasts, and which say when it ended.
CLEARABLE = frozenset({"online_drop", "no_events", "platform_gap"})
RESOLVABLE = frozenset({"incident_opened"})


def alert_state(alert: dict[str, Any]) -> str:
    """on, cleared, resolved or raised (see above)."""
    kind = alert.get("kind")
    if kind in RESOLVABLE:
        return "resolved" if alert.get("resolved_at") is not None else "on"
    if kind in CLEARABLE:
        return "cleared" if alert.get("cleared_at") is not None else "on"
    return "raised"


def silence_alert(since: int, cleared_at: int | None) -> dict[str, Any]:
    """The "no events for 60 s while live" alert: `since` the last event recorded before the
    silence, raised 60 s after it (`at`), cleared by the next event recorded (`cleared_at`).
    The sweep raises it live; the fold logs it once events resume. Both give the same `since`
    and `at`, so a page matches the two."""
    return {
        "kind": "no_events",
        "since": since,
        "at": since + SILENCE_US,
        "cleared_at": cleared_at,
    }


def _iso(micros: int | None) -> str | None:
    return None if micros is None else format_timestamp(micros)


def alert_now(alert: dict[str, Any], incidents: Mapping[str, Incident]) -> dict[str, Any]:
    """A logged alert as it stands now, for the pages: its times as text and its `state`; an
    incident's from the incident (resolved since, or not)."""
    shown = {**alert, "at": format_timestamp(alert["at"])}
    for key in ("since", "cleared_at"):
        if key in alert:
            shown[key] = _iso(alert[key])
    if alert.get("kind") in RESOLVABLE:
        incident = incidents.get(str(alert.get("incident_id")))
        shown["resolved_at"] = _iso(None if incident is None else incident.resolved_at)
    shown["state"] = alert_state(shown)
    return shown


def open_silence(last_recorded_at: int) -> dict[str, Any]:
    """The silence alert while it is on (the sweep's, and the read model's for a snapshot)."""
    shown = alert_now(silence_alert(last_recorded_at, None), {})
    return shown
