"""Small named shapes of the session fold's state: an incident and a minute's bucket."""

from __future__ import annotations

from typing import Any


class Incident:
    """An incident as its events tell it, in whatever order they arrive: a resolve that comes
    before its open keeps its time for when the open arrives."""

    __slots__ = ("description", "kind", "opened", "opened_at", "resolved_at", "severity")

    def __init__(self) -> None:
        self.opened = False
        self.kind: str | None = None
        self.severity: int | None = None
        self.opened_at: int | None = None
        self.resolved_at: int | None = None
        self.description: str | None = None

    def dump(self) -> list[Any]:
        return [getattr(self, name) for name in self.__slots__]

    @classmethod
    def load(cls, raw: list[Any]) -> Incident:
        incident = cls()
        for name, value in zip(cls.__slots__, raw, strict=True):
            setattr(incident, name, value)
        return incident


class MinuteBucket:
    """One UTC minute of the timeline, by occurred_at. `online` is -1 until an audience event
    of the minute sets it; a reading (audience.sampled) sets it when it is the minute's latest
    (`reading_at`, its (occurred_at, version)), and joins and leaves no longer move it then.
    `kinds`: the interactions by kind, for minutes whose kinds the platform also reports."""

    __slots__ = ("clicks", "interactions", "joins", "kinds", "leaves", "online", "reading_at")

    def __init__(self) -> None:
        self.joins = 0
        self.leaves = 0
        self.online = -1
        self.interactions = 0
        self.clicks = 0
        self.kinds: dict[str, int] = {}
        self.reading_at: list[int] | None = None

    def dump(self) -> list[Any]:
        return [getattr(self, name) for name in self.__slots__]

    @classmethod
    def load(cls, raw: list[Any]) -> MinuteBucket:
        bucket = cls()
        for name, value in zip(cls.__slots__, raw, strict=True):
            setattr(bucket, name, value)
        return bucket
