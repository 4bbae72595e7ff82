"""How the CLI shows things: summary tables, node tables, problems, progress."""

from __future__ import annotations

import json
import logging
import time
from types import TracebackType
from typing import Any, Literal

from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from service.intake import IntakeSummary
from service.logfile import mask_personal
from service.running import RunOutcome, Watch

#: how wide a table may grow when it goes to a file or a pipe: as wide as its content
PIPE_WIDTH = 10_000


class _Console(Console):
    """A rich console as wide as a terminal on a terminal, and unbounded in a pipe.

    Rich lays out for 80 columns when it finds no terminal, which cuts a table piped to a
    file (``li.wei:op…``), even where ``COLUMNS`` is exported (pytest's workers set it to
    80); in a pipe nothing is cut.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if "width" not in options:
            self._width = None  # rich fixed it from COLUMNS; a terminal's own size wins

    @property
    def size(self) -> ConsoleDimensions:
        size = super().size
        if self.is_terminal or self._width is not None:
            return size
        return ConsoleDimensions(PIPE_WIDTH, size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


console = _Console()
errors = _Console(stderr=True)

Verbosity = Literal["quiet", "normal", "verbose"]


class RunDisplay:
    """What `orderhub run` shows while it works, on stderr.

    On a terminal: a live panel of orders pulled per channel as pages arrive and runs done
    of total with their rate, gone when the run ends. In a pipe: nothing (a script reads the
    summary). `verbose` adds a line per page (on a terminal or not); `quiet` shows no
    progress at all. Whoever holds the workflow's run lease is named in any case, once.
    """

    def __init__(self, verbosity: Verbosity = "normal", out: Console | None = None) -> None:
        self.out = out or errors
        self.verbosity = verbosity
        self.live = verbosity != "quiet" and self.out.is_terminal
        self._bar: Progress | None = None
        self._channels: dict[str, TaskID] = {}
        self._pulled: dict[str, int] = {}
        self._runs: TaskID | None = None
        self._started = 0.0

    def __enter__(self) -> RunDisplay:
        self._started = time.perf_counter()  # the rate counts from here, like the summary's
        if self.live:
            self._bar = Progress(
                TextColumn("[bold]{task.description:<14}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                console=self.out,
                transient=True,
            )
            self._bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def watch(self) -> Watch:
        """The callbacks `run_workflow` calls."""
        return Watch(waiting=self.waiting, page=self.page, runs=self.runs)

    def waiting(self, message: str) -> None:
        self._line(f"waiting: {message}")

    def page(self, channel: str, orders: int) -> None:
        pulled = self._pulled[channel] = self._pulled.get(channel, 0) + orders
        if self.verbosity == "verbose" and orders:
            self._line(f"{channel}: page of {orders} orders stored ({pulled} so far)")
        if self._bar is None:
            return
        if channel not in self._channels:
            self._channels[channel] = self._bar.add_task(f"pulled {channel}", total=None, rate="")
        self._bar.update(self._channels[channel], completed=pulled)

    def runs(self, done: int, total: int) -> None:
        if self._bar is None:
            return
        if self._runs is None:
            self._runs = self._bar.add_task("runs", total=total, rate="")
        elapsed = time.perf_counter() - self._started
        rate = f"{done / elapsed:,.0f} orders/s" if elapsed > 0 else ""
        self._bar.update(self._runs, completed=done, total=total, rate=rate)

    def warning(self, message: str) -> None:
        """A warning as it happens (verbose only; otherwise they are listed at the end)."""
        if self.verbosity == "verbose":
            self._line(f"warning: {message}")

    def _line(self, text: str) -> None:
        self.out.print(text, markup=False, highlight=False, soft_wrap=True)


def summary_table(summary: IntakeSummary, report: dict[str, Any]) -> Table:
    table = Table(title="orderhub run", show_lines=False)
    table.add_column("outcome")
    after_sales = "state_totals" in report  # an after_sales.yaml run: requests, not orders
    table.add_column("requests" if after_sales else "orders", justify="right")
    for outcome, count in sorted(_totals(report).items(), key=lambda kv: -kv[1]):
        table.add_row(outcome, str(count))
    table.add_section()
    if after_sales:
        table.add_row("requests in store", str(report["requests_total"]))
        table.add_row("pulled this run", str(summary.pulled))
        table.add_row("runs finished", str(summary.runs))
        table.add_row("restocked", str(len(report["restock"])))
        table.add_row("seconds", f"{summary.seconds:.2f}")
        return table
    table.add_row("orders in store", str(report["orders_total"]))
    table.add_row("pulled this run", str(summary.pulled))
    table.add_row("new or changed", str(summary.changed))
    table.add_row("runs finished", str(summary.runs))
    table.add_row("waybills", str(len(report["waybills"])))
    table.add_row("purchase alerts", ", ".join(report["purchase_alerts"]) or "-")
    table.add_row("seconds", f"{summary.seconds:.2f}")
    table.add_row("orders/s", f"{summary.orders_per_second:.0f}")
    return table


def nodes_table(described: list[dict[str, Any]]) -> Table:
    table = Table(
        title="node types",
        show_lines=True,
        caption="(end): the run may end on this outcome when the workflow routes it nowhere; "
        "every other outcome needs a route or `next`",
    )
    for column in ("type", "summary", "outcomes", "params"):
        table.add_column(column)
    for d in described:
        params = "\n".join(
            f"{name}: {_param_text(schema, name in d['required'], d['shapes'][name])}"
            for name, schema in d["params"].items()
        )
        kind = " (source)" if d["source"] else " (side effects)" if d["side_effects"] else ""
        outcomes = ", ".join(o + (" (end)" if o in d["terminal"] else "") for o in d["outcomes"])
        table.add_row(d["type"] + kind, escape(d["summary"]), outcomes, escape(params))
    return table


def fields_table(fields: list[dict[str, Any]]) -> Table:
    table = Table(
        title="order fields an expression can read",
        caption="expressions also read params.<name> (the workflow's params) and "
        "state.<node>.<key> (what an earlier step recorded); a datetime is ISO 8601 text, "
        'compared as date(order.created_at) > date("2026-01-10"); params that list order '
        "fields (dedup_key's fields) write the path: receiver.phone, items.sku",
    )
    for column in ("field", "type", "description"):
        table.add_column(column)
    for f in fields:
        table.add_row(escape(f["field"]), f["type"], escape(f["description"]))
    return table


def _param_text(schema: dict[str, Any], required: bool, shape: str) -> str:
    bits = [shape]
    if required:
        bits.append("required")
    if "default" in schema:
        bits.append(f"default {json.dumps(schema['default'], ensure_ascii=False)}")
    for bound, sign in (("minimum", ">="), ("maximum", "<="), ("minLength", "len>=")):
        if bound in schema:
            bits.append(f"{sign} {schema[bound]}")
    return ", ".join(bits)


class WarningEcho(logging.Handler):
    """Hands the ``orderhub`` loggers' warnings to a `RunDisplay` as they happen, masked."""

    def __init__(self, display: RunDisplay) -> None:
        super().__init__(logging.WARNING)
        self.display = display

    def emit(self, record: logging.LogRecord) -> None:
        self.display.warning(mask_personal(record.getMessage()))


def summary_line(outcome: RunOutcome) -> str:
    """The run in one line, for --quiet: version, counts, time, rate and outcomes."""
    s = outcome.summary
    outcomes = ", ".join(
        f"{name} {count}"
        for name, count in sorted(_totals(outcome.report).items(), key=lambda kv: -kv[1])
        if count
    )
    return (
        f"{outcome.version}: pulled {s.pulled}, new or changed {s.changed}, "
        f"{s.runs} runs in {s.seconds:.1f} s ({s.orders_per_second:.0f} orders/s)"
        + (f"; {outcomes}" if outcomes else "")
    )


def _totals(report: dict[str, Any]) -> dict[str, int]:
    """Outcome counts of an intake report, or state counts of an after-sales one."""
    return report.get("outcome_totals") or report.get("state_totals") or {}
