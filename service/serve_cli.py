"""`orderhub serve`: the HTTP API on uvicorn (OpenAPI at /docs)."""

from __future__ import annotations

import importlib.util

import typer

from engine.errors import OrderhubError
from engine.store import open_store
from service import logfile
from service.cli_common import DB, database_url, fail, settings


def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    db: str | None = DB,
    with_scheduler: bool = typer.Option(
        False, "--with-scheduler", help="run the scheduler in the same process (one machine)"
    ),
) -> None:
    """Serve the HTTP API: every request needs a token (orderhub token create) but /healthz,
    /readyz and the channels' signed pushes (/hooks/h5, /hooks/youzan, /hooks/douyin); the
    documentation is at /docs."""
    import uvicorn

    from service.api import create_app
    from service.hooks import hooks_router
    from service.scheduler import schedule_settings, scheduler_router

    try:
        read = settings()
        store = open_store(database_url(db, read))
    except OrderhubError as exc:
        fail(exc)
    logfile.configure()
    routers = [hooks_router(store, read.systems)]
    if with_scheduler:
        try:
            timing = schedule_settings(read.scheduler)
        except OrderhubError as exc:
            fail(exc)
        routers.append(scheduler_router(store, read.systems, timing))
    app = create_app(store, systems=read.systems, routers=routers)
    typer.echo(f"orderhub API on http://{host}:{port} (docs at /docs), database {store.url}")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", **_fast())
    finally:
        store.dispose()


def _fast() -> dict[str, str]:
    options: dict[str, str] = {}
    if importlib.util.find_spec("httptools") is not None:
        options["http"] = "httptools"
    if importlib.util.find_spec("uvloop") is not None:
        options["loop"] = "uvloop"
    return options
