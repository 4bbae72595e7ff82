"""`orderhub ui`: start the Streamlit editor on a database (``streamlit run ui/app.py``)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import typer

from engine.errors import OrderhubError
from engine.settings import load_settings
from service.cli_common import DB, database_url, fail

APP = Path(__file__).resolve().parent.parent / "ui" / "app.py"


def ui(
    port: int = typer.Option(8501, help="port to listen on"),
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    idle_minutes: float = typer.Option(30, help="sign a session out after this long idle"),
    db: str | None = DB,
    config: Path | None = typer.Option(
        None, "--config", help="settings file (else $ORDERHUB_CONFIG or ./orderhub.toml)"
    ),
) -> None:
    """Start the editor and wait (sign in with a password `users passwd` set); Ctrl-C stops it."""
    if importlib.util.find_spec("streamlit") is None:
        typer.echo("error: the editor needs streamlit: pip install 'orderhub[ui]'", err=True)
        raise typer.Exit(1)
    try:
        url = database_url(db, load_settings(str(config)) if config is not None else None)
    except OrderhubError as exc:
        fail(exc)
    env = {**os.environ, "ORDERHUB_DB": url, "ORDERHUB_UI_IDLE_S": str(idle_minutes * 60)}
    if config is not None:  # the systems a decision continues an order's run with
        env["ORDERHUB_CONFIG"] = str(config.resolve())
    typer.echo(f"orderhub editor on http://{host}:{port}  (Ctrl-C stops it)")
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--client.showErrorDetails",
        "none",  # an unexpected error is one generic line in the browser, never a trace
    ]
    try:
        code = subprocess.call(command, env=env)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)
