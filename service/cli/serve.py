"""Commands that run a process: up (embedded), api, worker, feed."""

from __future__ import annotations

import click

from service.cli.common import connect, main, settings_from, wait_for_signal


@main.command()
@click.option("--host", default=None, help="API and feed bind address [127.0.0.1]")
@click.option("--port", type=int, default=None, help="API port [8000]")
@click.option("--feed-port", type=int, default=None, help="websocket feed port [8765]")
@click.option("--db", "database_url", default=None, help="database URL [sqlite:///./livetally.db]")
@click.option("--demo", is_flag=True, help="also drive a simulated broadcast into it")
@click.option("--demo-speed", type=float, default=1.0, show_default=True)
def up(
    host: str | None,
    port: int | None,
    feed_port: int | None,
    database_url: str | None,
    demo: bool,
    demo_speed: float,
) -> None:
    """Everything in one process: API, feed, worker, on a SQLite file (the embedded default)."""
    from service.process.database_state import DatabaseUnusable
    from service.process.embedded import run_embedded

    settings = settings_from(
        api_host=host, feed_host=host, api_port=port, feed_port=feed_port, database_url=database_url
    )
    try:
        run_embedded(settings, demo=demo, demo_speed=demo_speed, wait=wait_for_signal)
    except DatabaseUnusable as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--workers", type=int, default=2, show_default=True, help="gunicorn processes")
@click.option("--threads", type=int, default=4, show_default=True)
def api(host: str | None, port: int | None, workers: int, threads: int) -> None:
    """The HTTP API under gunicorn (production; set LIVETALLY_REDIS_URL)."""
    from service.process.gunicorn_app import run_gunicorn

    settings = settings_from(api_host=host, api_port=port)
    run_gunicorn(settings, workers=workers, threads=threads)


@main.command()
@click.option("--threads", type=int, default=None, help="worker threads [2]")
def worker(threads: int | None) -> None:
    """Projection workers on Redis (production; needs LIVETALLY_REDIS_URL)."""
    from service.ingest.wiring import build_connector_side
    from service.process.gc_tuning import tune_garbage_collector
    from worker.heartbeat import application_name, worker_identity
    from worker.runtime import RunningWorker, build_worker_parts

    settings = settings_from(worker_threads=threads)
    if settings.redis_url is None:
        raise click.UsageError(
            "livetally worker needs LIVETALLY_REDIS_URL (the embedded default "
            "runs its worker inside `livetally up`)"
        )
    # Its connections name the worker, so that a live worker can end them if this one freezes.
    engine = connect(
        settings.database_url, migrate=False, application_name=application_name(worker_identity())
    )
    parts = build_worker_parts(engine, settings.redis_url)
    # Before the dramatiq worker starts: its queues are the ones declared by then.
    connector_jobs = build_connector_side(
        settings,
        engine,
        parts.recorder,
        parts.dispatcher.streams_moved,
        parts.broker,
        publisher=parts.publisher,
    ).jobs()
    running = RunningWorker(
        parts, engine, settings.worker_threads, settings.sweep_seconds, settings.worker_timeout_ms
    )
    running.start()
    connector_jobs.start()
    tune_garbage_collector()
    click.echo(f"worker running: {settings.worker_threads} threads", err=True)
    wait_for_signal()
    connector_jobs.stop()
    running.stop()


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
def feed(host: str | None, port: int | None) -> None:
    """The websocket feed (production; fans out from Redis pub/sub)."""
    import uvloop

    from service.auth.tokens import TokenChecker
    from service.feed.server import run_feed
    from service.process.gc_tuning import tune_garbage_collector

    settings = settings_from(feed_host=host, feed_port=port)
    if settings.redis_url is None:
        raise click.UsageError(
            "livetally feed needs LIVETALLY_REDIS_URL (the embedded default "
            "runs its feed inside `livetally up`)"
        )
    engine = connect(settings.database_url, migrate=False)
    tune_garbage_collector()
    click.echo(f"feed on ws://{settings.feed_host}:{settings.feed_port}/feed", err=True)
    # uvloop: the feed is a fan-out of small writes to thousands of sockets, where libuv's loop
    # costs a fraction of asyncio's own per write and per wake-up.
    uvloop.run(
        run_feed(
            engine,
            TokenChecker(engine),
            settings.redis_url,
            settings.feed_host,
            settings.feed_port,
            settings.feed_max_rate,
        )
    )
