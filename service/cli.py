"""The `orderhub` command line (Typer): validate, run, simulate, generate, describe."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from engine import registry
from engine.errors import NotFound, OrderhubError, ValidationError
from engine.loader import check_workflow, load_workflow, workflow_schema
from engine.order import order_fields
from engine.settings import load_settings
from engine.store import Store, open_store
from engine.store.db import check_url
from engine.workflow import Workflow
from service import logfile
from service.access import Actor
from service.automation_cli import outbox_app, scheduler
from service.cli_common import AS, database_url, fail
from service.console import (
    RunDisplay,
    Verbosity,
    WarningEcho,
    console,
    errors,
    fields_table,
    nodes_table,
    summary_line,
    summary_table,
)
from service.identity import acting_user
from service.insights_cli import import_app, insights_app
from service.intake import check_systems
from service.orders_cli import orders_app
from service.people_cli import queue_app, users_app
from service.report import compare_with_expected
from service.returns_cli import returns_app
from service.running import DEFAULT_WAIT_S, RunOutcome, run_workflow
from service.runs_cli import runs_app
from service.scenarios import ScenarioInfo, read_scenario
from service.serve_cli import serve
from service.sim_cli import scenario_app, simulator
from service.systems_cli import systems_app
from service.targets import is_file, load_file, resolve
from service.tokens_cli import token_app
from service.ui_cli import ui
from service.versions_cli import audit_app, versions_app

app = typer.Typer(
    help="orderhub: every channel's orders through one versioned workflow.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(scenario_app, name="scenario")
app.command()(simulator)
app.add_typer(users_app, name="users")
app.add_typer(queue_app, name="queue")
app.add_typer(orders_app, name="orders")
app.add_typer(versions_app, name="versions")
app.add_typer(audit_app, name="audit")
app.add_typer(runs_app, name="runs")
app.add_typer(insights_app, name="insights")
app.add_typer(import_app, name="import")
app.command("ui")(ui)
app.add_typer(token_app, name="token")
app.command("serve")(serve)
app.add_typer(returns_app, name="returns")
app.add_typer(systems_app, name="systems")
app.add_typer(outbox_app, name="outbox")
app.command()(scheduler)

#: `run`'s exit status when it ran but orders wait for a system (or a time: a retry later);
#: orders waiting for a person's decision, for stock, for an event (a returned parcel) or for
#: a wait limit (``time limit``, a late parcel) are the workflow's normal course
WAITING_EXIT = 3
MACHINE_WAITS = ("system ", "time")
NORMAL_TIMES = "time limit"
DEFAULT_WORKFLOW = Path(__file__).resolve().parent.parent / "workflows" / "order_intake.yaml"
LIVE_ORDERS = 300  # the live demo's day: orders arrive over a few minutes, not all at once


@app.command()
def validate(files: list[Path]) -> None:
    """Check workflow files; print every problem as FILE:LINE:COL and exit 1 on any."""
    failed = False
    for file in files:
        problems = check_workflow(file)
        for problem in problems:
            typer.echo(str(problem), err=True)
        if problems:
            failed = True
        else:
            console.print(f"{file}: ok")
    raise typer.Exit(1 if failed else 0)


@app.command()
def run(
    workflow: str = typer.Argument(..., help="a workflow file, or a stored workflow ID[@vN]"),
    scenario: Path | None = typer.Option(None, help="serve this scenario from a simulator"),
    db: str | None = typer.Option(None, help="database URL (default ORDERHUB_DB or orderhub.db)"),
    report: Path | None = typer.Option(None, help="write the report JSON here"),
    concurrency: int = typer.Option(32, min=1, help="runs in flight at once"),
    config: Path | None = typer.Option(None, help="settings file (default orderhub.toml)"),
    since: datetime | None = typer.Option(
        None, formats=["%Y-%m-%dT%H:%M:%S%z"], help="first pull starts here (no cursor yet)"
    ),
    until: datetime | None = typer.Option(
        None, formats=["%Y-%m-%dT%H:%M:%S%z"], help="pull up to here (default: now - lag)"
    ),
    tries: int = typer.Option(
        3, min=1, help="tries of a run that stops on a passing fault, one per `run`"
    ),
    wait: float = typer.Option(
        DEFAULT_WAIT_S, min=0, help="seconds to wait for another run of the workflow to end"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="only errors and one summary line"),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="a line per page pulled, warnings as they happen"
    ),
    as_: str | None = AS,
) -> None:
    """Pull every order, run each through WORKFLOW, print a summary and write a report.

    WORKFLOW is a file (a draft run unless its content is a saved version) or the id of a
    stored workflow (its active version; ID@vN for another one).

    With --scenario a simulator serves it on a free loopback port and the pull runs until
    every order of the scenario is in; without, the systems in the settings file are pulled
    from each channel's saved cursor. One run of a workflow at a time: another one waits
    for it (up to --wait seconds). Progress shows on a terminal, not in a pipe.

    It runs as --as, ORDERHUB_AS or [cli] as; on a store where nobody holds a role yet,
    as your login in the role admin. It needs the role admin or ops_manager.

    It says how many orders wait and for what (a decision in a queue, stock, a system, a
    time). Exit status: 3 when orders wait for a system or a time, 1 on an error or a
    channel that was not pulled, else 0.
    """
    if quiet and verbose:
        typer.echo("error: --quiet and --verbose contradict each other; give one", err=True)
        raise typer.Exit(2)
    try:
        if db is not None:
            check_url(db)  # before anything else is read or made
        wf = load_file(workflow) if is_file(workflow) else None  # a broken file writes nothing
        if wf is None and (workflow.endswith((".yaml", ".yml")) or "/" in workflow):
            raise NotFound(f"{workflow}: no such workflow file")  # before settings or a db
        verbosity = "quiet" if quiet else "verbose" if verbose else "normal"
        options = RunOptions(
            scenario, db, report, concurrency, config, since, until, tries, wait, verbosity, as_
        )
        result = _run(workflow, wf, options)
    except OrderhubError as exc:
        fail(exc)
    for channel, why in result["not_pulled"].items():  # the rest ran; a scheduler must see it
        typer.echo(f"error: {channel} was not pulled ({why}); the next run tries again", err=True)
    if result["not_pulled"]:
        raise typer.Exit(1)
    if any(
        thing.startswith(MACHINE_WAITS) and not thing.startswith(NORMAL_TIMES)
        for thing in result["waiting"]
    ):
        raise typer.Exit(WAITING_EXIT)  # orders wait for a system: a scheduler must see it


@app.command()
def demo(
    orders: int | None = typer.Option(
        None, min=1, help=f"orders in the generated day (default {LIVE_ORDERS}; --batch 1200)"
    ),
    seed: int = typer.Option(42, help="generator seed"),
    db: str | None = typer.Option(None, help="database URL (default: a fresh temporary file)"),
    keep: bool = typer.Option(
        False, "--keep", help="keep the temporary folder (scenario, database, logs) to look at"
    ),
    batch: bool = typer.Option(
        False, "--batch", help="one run of the whole day, checked against its oracle, and exit"
    ),
    minutes: float = typer.Option(
        5, min=0.1, help="the generated day arrives over this many minutes (live)"
    ),
    port: int = typer.Option(8000, help="the API's port (live)"),
    ui_port: int = typer.Option(8501, help="the editor's port (live)"),
) -> None:
    """The hub alive: a simulated day arriving over a few minutes, some orders pushed and
    some pulled (every minute), the API with its scheduler and the editor; it prints the
    editor's URL and the demo users' sign-ins, and Ctrl-C stops all of it.

    --batch instead generates a scenario, runs workflows/order_intake.yaml on it once and
    compares the report with the scenario's oracle. Everything goes in a temporary folder,
    removed at the end unless --keep.
    """
    if not batch:
        from service.demo_cli import LiveDemo

        LiveDemo(orders or LIVE_ORDERS, seed, db, keep, minutes, port, ui_port).main()
        return
    orders = orders or 1200
    from connectors.simulator.generator import generate_scenario, write_scenario

    workdir = Path(tempfile.mkdtemp(prefix="orderhub-demo-"))
    try:
        path = workdir / f"intake-{orders}-s{seed}.json"
        write_scenario(generate_scenario(orders, seed), path)
        console.print(f"generated {orders} orders (seed {seed})")
        options = RunOptions(path, db or str(workdir / "demo.db"), workdir / "report.json")
        result = _run(str(DEFAULT_WORKFLOW), load_workflow(DEFAULT_WORKFLOW), options)
        expected = json.loads(path.read_text(encoding="utf-8"))["expected"]
        diffs = compare_with_expected(result, expected)
        if diffs:
            errors.print("report differs from the scenario's oracle:\n" + "\n".join(diffs))
            raise typer.Exit(1)
        console.print("[green]the report reproduces the scenario's independent oracle exactly[/]")
    finally:
        if keep:
            console.print(f"kept the scenario, database and report in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


@app.command()
def nodes(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Every registered node type with its params, defaults, bounds and outcomes."""
    described = [registry.describe(cls) for cls in registry.all_types().values()]
    if as_json:
        typer.echo(json.dumps(described, indent=2, ensure_ascii=False))
    else:
        console.print(nodes_table(described))


@app.command()
def schema() -> None:
    """Print the workflow JSON Schema, with every node type's params (for editors such as
    VS Code's YAML extension)."""
    typer.echo(json.dumps(workflow_schema(), indent=2, ensure_ascii=False))


@app.command()
def fields(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Every order field an expression can read, with its type and a description."""
    listed = [f.as_data() for f in order_fields()]
    if as_json:
        typer.echo(json.dumps(listed, indent=2, ensure_ascii=False))
    else:
        console.print(fields_table(listed))


@dataclass
class RunOptions:
    scenario: Path | None = None
    db: str | None = None
    report: Path | None = None
    concurrency: int = 32
    config: Path | None = None
    since: datetime | None = None
    until: datetime | None = None
    tries: int = 3
    wait_s: float = DEFAULT_WAIT_S
    verbosity: Verbosity = "normal"
    as_: str | None = None  # who is acting (else ORDERHUB_AS, [cli] as, the login as admin)


def _run(ref: str, wf: Workflow | None, options: RunOptions) -> dict[str, Any]:
    """The `run` door: settings, URL and scenario checked before the database is opened."""
    settings = load_settings(str(options.config) if options.config else None)
    url = database_url(options.db, settings)
    if options.scenario is not None:
        info = read_scenario(options.scenario)
    else:
        info = None
        check_systems(settings.systems)  # a missing token is named before a file is made
    store = open_store(url)
    quiet = options.verbosity == "quiet"
    try:
        actor = acting_user(
            store, options.as_, configured=settings.cli_as, configured_token=settings.cli_token
        )
        if not quiet:
            console.print(f"workflow: {resolve(store, ref, wf).label}")
        outcome = _run_in(store, actor, ref, wf, options, info, settings.systems)
    finally:
        store.dispose()
    result, summary = outcome.report, outcome.summary
    if quiet:
        typer.echo(summary_line(outcome))
    else:
        console.print(summary_table(summary, result))
    if options.verbosity == "normal":
        for warning in summary.warnings:
            typer.echo(f"warning: {warning}", err=True)
    if not quiet:
        for ref_, reason in list(outcome.troubled.items())[:10]:
            typer.echo(f"{ref_} ended in {reason}", err=True)
    if summary.outcomes.get("retry") and not quiet:
        typer.echo(
            f"{summary.outcomes['retry']} run(s) stopped on a passing fault; the next run "
            "tries them again from where they stopped (orderhub runs list)",
            err=True,
        )
    result["waiting"] = outcome.waiting
    if outcome.waiting and not quiet:
        what = ", ".join(f"{n} for {thing}" for thing, n in outcome.waiting.items())
        typer.echo(  # part of the summary, so on standard output with it
            f"{outcome.waiting_orders} orders are waiting: {what} (orderhub queue list; a "
            "decision, stock or the system coming back lets them go on)"
        )
    if options.report is not None:
        options.report.write_text(json.dumps(result, ensure_ascii=False, indent=1), "utf-8")
        if not quiet:
            console.print(f"report written to {options.report}")
    return result


def _run_in(
    store: Store,
    actor: Actor,
    ref: str,
    wf: Workflow | None,
    options: RunOptions,
    info: ScenarioInfo | None,
    systems: dict[str, dict[str, Any]],
) -> RunOutcome:
    display = RunDisplay(options.verbosity)
    echo = WarningEcho(display)
    logger = logging.getLogger("orderhub")
    logger.addHandler(echo)
    try:
        with display:

            def go(systems: dict[str, dict[str, Any]], since: Any, until: Any) -> RunOutcome:
                return asyncio.run(
                    run_workflow(
                        store,
                        actor,
                        ref,
                        workflow=wf,
                        systems=systems,
                        since=since,
                        until=until,
                        refs=set(info.refs) if info is not None else None,
                        concurrency=options.concurrency,
                        tries=options.tries,
                        wait_s=options.wait_s,
                        watch=display.watch(),
                    )
                )

            if info is None:
                return go(systems, options.since, options.until)
            from connectors.simulator.server import start_simulator

            with start_simulator(str(info.path)) as sim:
                return go(sim.systems, options.since or info.since, options.until or info.until)
    finally:
        logger.removeHandler(echo)


def main(argv: list[str] | None = None) -> None:
    """The console script: every command runs here, so an unexpected error is caught once.

    It prints one line (type and masked message) and exits 2; the trace goes to the log
    file (`service.logfile`), with phones and addresses masked.
    """
    handler = logfile.configure()
    try:
        app(args=argv, prog_name="orderhub")
    except ValidationError as exc:
        errors.print(str(exc), markup=False)
        raise SystemExit(1) from exc
    except Exception as exc:  # noqa: BLE001 - the one place that catches what nobody expected
        logging.getLogger("orderhub").error("unexpected error", exc_info=exc)
        where = f"the trace is in {handler.baseFilename}"
        if handler.failed:
            where = f"the trace could not be written to {handler.baseFilename}"
        typer.echo(f"unexpected error: {logfile.one_line(exc)}; {where}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":  # pragma: no cover
    main()
