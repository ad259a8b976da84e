"""Everything a livetally process holds, built once from Settings at the entry point."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from events import Recorder, create_engine
from projections.scoring.scorecards import Scorecards
from service.auth.tokens import TokenChecker
from service.ingest.connectors.intake import Intake
from service.ingest.wiring import ConnectorSide, build_connector_side
from service.process.scorecard_files import load_scorecards
from service.process.settings import Settings
from worker.runtime import APPENDER_REDIS_TIMEOUT, WorkerParts, build_worker_parts


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    recorder: Recorder
    tokens: TokenChecker
    worker: WorkerParts
    scorecards: Scorecards
    connectors: ConnectorSide

    @property
    def intake(self) -> Intake:
        return self.connectors.intake

    def streams_moved(self, stream_ids: Iterable[str]) -> None:
        self.worker.dispatcher.streams_moved(stream_ids)

    def close(self) -> None:
        self.engine.dispose()


class BadTimezone(ValueError):
    """Raised when LIVETALLY_TIMEZONE is not an IANA time zone the system knows."""


def check_timezone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadTimezone(
            f"LIVETALLY_TIMEZONE {name!r} is not an IANA time zone (e.g. Asia/Shanghai, UTC)"
        ) from None
    return name


def build_runtime(settings: Settings, create_key: bool = False) -> Runtime:
    """Builds, does not connect: the engine and Redis client connect on first use."""
    check_timezone(settings.timezone)
    engine = create_engine(settings.database_url)
    # The API appends: it waits on Redis for at most APPENDER_REDIS_TIMEOUT.
    worker = build_worker_parts(
        engine,
        settings.redis_url,
        settings.embedded_pace_ms / 1000,
        APPENDER_REDIS_TIMEOUT,
        settings.embedded_pace_factor,
    )
    recorder = worker.recorder  # one reader of the store per process, `recent` shared
    return Runtime(
        settings=settings,
        engine=engine,
        recorder=recorder,
        tokens=TokenChecker(engine),
        worker=worker,
        # Validated now, at start: a bad scorecard file stops the process with a clear message.
        scorecards=load_scorecards(settings.scorecards_path),
        connectors=build_connector_side(
            settings,
            engine,
            recorder,
            worker.dispatcher.streams_moved,
            worker.broker,
            create_key,
            worker.publisher,
        ),
    )
