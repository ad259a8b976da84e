"""The person ledger: `fold_person(state, event) -> state`.

Registration, targets per period, ratings, recorded KPI values, clips and violations. A later
target or recorded value for the same (period, kpi) replaces an earlier one; "later" is by
occurred_at, then by stream version.
"""

from __future__ import annotations

from typing import Any

from events.recorder import StoredEvent


def new_person(person_id: str) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "version": 0,
        "registered": False,
        "name": None,
        "role": None,
        "level": None,
        "team_id": None,
        "manager_id": None,
        "on_air_since": None,
        "targets": {},  # period -> kpi -> [value, occurred_at, version]
        "metrics": {},  # period -> kpi -> [value, occurred_at, version]
        "ratings": [],  # [kind, value, rater_id, occurred_at]
        "clips": {},  # clip_id -> [occurred_at, viral]
        "violations": [],  # [rule, fine_fen, occurred_at]
    }


def _keep_latest(
    table: dict[str, Any], period: str, kpi: str, value: Any, event: StoredEvent
) -> None:
    entry = [value, event.occurred_at, event.version]
    current = table.setdefault(period, {}).get(kpi)
    if current is None or entry[1:] > current[1:]:
        table[period][kpi] = entry


def fold_person(state: dict[str, Any], event: StoredEvent) -> dict[str, Any]:
    data = event.data
    kind = event.type
    if kind == "person.registered":
        state["registered"] = True
        for key in ("name", "role", "level", "team_id", "manager_id", "on_air_since"):
            state[key] = data.get(key)
    elif kind == "target.set":
        _keep_latest(state["targets"], data["period"], data["kpi"], data["value"], event)
    elif kind == "metric.recorded":
        _keep_latest(state["metrics"], data["period"], data["kpi"], data["value"], event)
    elif kind == "rating.recorded":
        state["ratings"].append(
            [data["kind"], data["value"], data.get("rater_id"), event.occurred_at]
        )
    elif kind == "clip.published":
        state["clips"].setdefault(data["clip_id"], [event.occurred_at, bool(data.get("viral"))])
    elif kind == "violation.recorded":
        state["violations"].append([data["rule"], data["fine_fen"], event.occurred_at])
    state["version"] = event.version
    return state
