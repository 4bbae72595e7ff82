"""Where an order's time goes: `python -m bench.intake [--quick]`.

Prints figures and never fails on speed (it is not part of the pass/fail suite):

1. the 4,000-order peak day end to end, the path `orderhub run --scenario` takes (simulator
   subprocess over loopback HTTP, `run_intake`, `build_report`, oracle check), then the same
   calls composed here so the pull (ingest) and run phases can be timed apart, with commits
   and SQL statements counted;
2. a generated day of 50,000 orders (10,000 with `--quick`): does the cost per order stay flat?
3. peak memory (RSS) of this process and of the simulator child after each run;
4. the interpreter's overhead per node: the engine on the same orders without network
   (dry run) against the same decisions written as plain Python, with and without a SQLite
   commit per order.

`--profile` instead runs the 1,200-order day under cProfile and books each function's own
time to a library (HTTP client, SQLAlchemy, sqlite3, pydantic, engine, nodes ...).

The last line printed is one JSON object with every figure, for the README to quote.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "workflows" / "order_intake.yaml"
PEAK_DAY = ROOT / "tests" / "fixtures" / "intake-4000-s11.json"
BIG_SEED = 2026
OUTCOMES = (
    "shipped",
    "held_low_stock",
    "out_of_stock",
    "duplicate_review",
    "invalid",
    "awaiting_payment",
)


# --------------------------------------------------------------------------- memory


def rss_self_mb() -> float:
    """Peak RSS of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_children_mb() -> float:
    """Largest peak RSS of any child this process has waited for."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def proc_hwm_mb(pid: int | str = "self") -> float | None:
    """VmHWM (peak RSS) of a live process from /proc, None where unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def reset_hwm() -> bool:
    """Reset this process's VmHWM (Linux `clear_refs` 5) so a phase's own peak shows."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


# --------------------------------------------------------------------------- SQL counting


class SqlCounter:
    """Counts statements (by verb) and commits on one engine while active."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self._event = event
        self.engine = engine
        self.statements: Counter[str] = Counter()
        self.rows_batched = 0  # parameter sets sent through executemany
        self.commits = 0
        event.listen(engine, "before_cursor_execute", self._on_execute)
        event.listen(engine, "commit", self._on_commit)

    def _on_execute(self, _conn, _cursor, statement, parameters, _context, executemany) -> None:  # type: ignore[no-untyped-def]
        self.statements[statement.lstrip().split(None, 1)[0].upper()] += 1
        if executemany:
            self.rows_batched += len(parameters)

    def _on_commit(self, _conn) -> None:  # type: ignore[no-untyped-def]
        self.commits += 1

    def stop(self) -> None:
        self._event.remove(self.engine, "before_cursor_execute", self._on_execute)
        self._event.remove(self.engine, "commit", self._on_commit)

    @property
    def total(self) -> int:
        return sum(self.statements.values())


# --------------------------------------------------------------------------- 1 + 2: end to end


@contextmanager
def simulator(path: Path) -> Iterator[tuple[Any, dict[str, Any]]]:
    """A simulator subprocess for `path`; `mem` gets its peak RSS once it is stopped."""
    from connectors.simulator.server import start_simulator

    mem: dict[str, Any] = {}
    cpu0 = children_cpu_s()
    sim = start_simulator(str(path))
    proc = getattr(sim._stopper, "proc", None)  # the subprocess, to read its peak RSS
    try:
        yield sim, mem
    finally:
        if proc is not None:
            mem["sim_hwm_mb"] = proc_hwm_mb(proc.pid)
        sim.stop()
        mem["children_maxrss_mb"] = rss_children_mb()
        mem["sim_cpu_s"] = children_cpu_s() - cpu0  # start-up and serving, once it exited


def check_report(store: Any, path: Path, refs: set[str]) -> tuple[bool, list[str], float]:
    from service.report import build_report, compare_with_expected

    t0 = time.perf_counter()
    report = build_report(store, refs)
    seconds = time.perf_counter() - t0
    expected = json.loads(path.read_text(encoding="utf-8"))["expected"]
    diffs = compare_with_expected(report, expected)
    wrong = [r for r, want in expected["outcomes"].items() if report["outcomes"].get(r) != want]
    if wrong:  # say why, while the database still exists
        from sqlalchemy import select

        from engine.store.models import OrderRow

        with store.session() as session:
            for row in session.execute(
                select(OrderRow.channel, OrderRow.order_id, OrderRow.reason)
            ):
                if f"{row.channel}:{row.order_id}" in wrong[:5]:
                    diffs.append(f"{row.channel}:{row.order_id} reason: {row.reason}")
    return not diffs, diffs, seconds


def end_to_end_cli(path: Path, workdir: Path) -> dict[str, Any]:
    """Exactly what `orderhub run workflows/order_intake.yaml --scenario PATH` calls."""
    from engine.loader import load_workflow
    from engine.store import open_store
    from service.intake import read_scenario, run_intake

    reset_hwm()
    wf = load_workflow(WORKFLOW)
    store = open_store(str(workdir / f"cli-{path.stem}.db"))
    info = read_scenario(path)
    with simulator(path) as (sim, mem):
        t0, c0 = time.perf_counter(), time.process_time()
        summary = asyncio.run(
            run_intake(wf, store, sim.systems, since=info.since, until=info.until)
        )
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    matched, diffs, report_s = check_report(store, path, set(info.refs))
    store.dispose()
    return {
        "orders": summary.runs,
        "seconds": seconds,
        "cpu_s": cpu,
        "orders_per_s": summary.runs / seconds,
        "ms_per_order": 1000 * seconds / summary.runs,
        "outcomes": dict(summary.outcomes),
        "messages_sent": summary.messages_sent,
        "report_s": report_s,
        "matched_oracle": matched,
        "diffs": diffs[:10],
        "rss_self_peak_mb": rss_self_mb(),
        "rss_phase_hwm_mb": proc_hwm_mb(),
        **mem,
    }


async def _composed(wf: Any, store: Any, sim: Any, info: Any, out: dict[str, Any]) -> None:
    """The calls `run_intake` makes, one by one, each timed."""
    import engine.ingest as ingest_mod
    from connectors import build_connectors
    from engine.dispatch import EmbeddedDispatcher, unfinished_runs
    from engine.outbox import drain_outbox
    from engine.runner import RunEnv, Runner

    store_s = [0.0]
    store_batch = ingest_mod._store_batch

    def timed_store_batch(*args: Any) -> None:  # the pull's database part, timed apart
        t = time.perf_counter()
        try:
            store_batch(*args)
        finally:
            store_s[0] += time.perf_counter() - t

    counter = SqlCounter(store.engine)
    connectors = build_connectors(sim.systems)
    env = RunEnv(wf, store, connectors)
    outcomes: Counter[str] = Counter()
    ingest_mod._store_batch = timed_store_batch
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        pulled = await ingest_mod.ingest(env, since=info.since, until=info.until)
        t1, c1 = time.perf_counter(), time.process_time()
        ingest_sql = counter.total
        run_ids = unfinished_runs(store, wf.id)
        t2, c2 = time.perf_counter(), time.process_time()
        commits_before = env.writer.commits

        def done(_run_id: int, outcome: str | None) -> None:
            outcomes[outcome or "unfinished"] += 1

        await EmbeddedDispatcher(Runner(env), 32).run_all(run_ids, on_done=done)
        env.writer.commit()
        t3, c3 = time.perf_counter(), time.process_time()
        run_sql = counter.total - ingest_sql
        sent = await drain_outbox(store, connectors)
        t4, c4 = time.perf_counter(), time.process_time()
    finally:
        ingest_mod._store_batch = store_batch
        env.close()
        await connectors.aclose()
        counter.stop()
    n = len(run_ids)
    out.update(
        {
            "orders": n,
            "pulled": pulled.pulled,
            "seconds": t4 - t0,
            "cpu_s": c4 - c0,
            "orders_per_s": n / (t4 - t0),
            "ms_per_order": 1000 * (t4 - t0) / n,
            "pull_s": t1 - t0,
            "pull_cpu_s": c1 - c0,
            "pull_store_s": store_s[0],
            "pull_http_and_prepare_s": (t1 - t0) - store_s[0],
            "find_runs_s": t2 - t1,
            "run_s": t3 - t2,
            "run_cpu_s": c3 - c2,
            "run_orders_per_s": n / (t3 - t2),
            "outbox_s": t4 - t3,
            "messages_sent": sent,
            "outcomes": dict(outcomes),
            "writer_commits_run": env.writer.commits - commits_before,
            "commits_total": counter.commits,
            "sql_statements": counter.total,
            "sql_statements_pull": ingest_sql,
            "sql_statements_run": run_sql,
            "sql_per_order_run": run_sql / n,
            "sql_by_verb": dict(counter.statements.most_common()),
            "sql_executemany_rows": counter.rows_batched,
        }
    )


def end_to_end_composed(path: Path, workdir: Path) -> dict[str, Any]:
    from engine.loader import load_workflow
    from engine.store import open_store
    from service.intake import read_scenario

    gc.collect()
    reset_hwm()
    wf = load_workflow(WORKFLOW)
    store = open_store(str(workdir / f"composed-{path.stem}.db"))
    info = read_scenario(path)
    out: dict[str, Any] = {}
    with simulator(path) as (sim, mem):
        asyncio.run(_composed(wf, store, sim, info, out))
    matched, diffs, report_s = check_report(store, path, set(info.refs))
    store.dispose()
    out.update(
        matched_oracle=matched,
        diffs=diffs[:10],
        report_s=report_s,
        rss_self_peak_mb=rss_self_mb(),
        rss_phase_hwm_mb=proc_hwm_mb(),
        **mem,
    )
    return out


def generate_day(orders: int, seed: int, path: Path) -> float:
    """Generate a day in a child process (keeps this process's peak RSS its own)."""
    code = (
        "import sys\n"
        "from connectors.simulator.generator import generate_scenario, write_scenario\n"
        "write_scenario(generate_scenario(int(sys.argv[1]), int(sys.argv[2])), sys.argv[3])\n"
    )
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code, str(orders), str(seed), str(path)], check=True, cwd=ROOT
    )
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- 4: plain Python


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


def plain_phone(phone: str | None) -> str:
    digits = "".join(c for c in _nfkc(phone or "") if c.isdigit() and c.isascii())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def plain_problems(order: dict[str, Any], catalogue: set[str], phone: str) -> list[str]:
    items = order.get("items") or []
    found = []
    if not phone:
        found.append("missing_receiver_phone")
    if any(i.get("sku") not in catalogue for i in items):
        found.append("unknown_sku")
    if any(int(i.get("qty", 0)) <= 0 for i in items):
        found.append("bad_quantity")
    return found


def plain_key(order: dict[str, Any], phone: str) -> tuple[str, str, str]:
    r = order.get("receiver") or {}
    address = "".join(_nfkc(r.get(k, "")) for k in ("province", "city", "district", "address"))
    address = "".join(address.split())
    skus = ",".join(sorted({"".join(_nfkc(i["sku"]).split()) for i in order.get("items") or []}))
    return phone, address, skus


def plain_warehouse(order: dict[str, Any], by_province: dict[str, str], default: str) -> str:
    province = "".join(_nfkc((order.get("receiver") or {}).get("province", "")).split())
    return by_province.get(province, default)


def plain_reserve(
    order: dict[str, Any], warehouse: str, available: dict[tuple[str, str], int], safety: int
) -> tuple[str, list[str]]:
    need: Counter[str] = Counter()
    for item in order["items"]:
        need[item["sku"]] += int(item["qty"])
    if any(qty > available.get((sku, warehouse), 0) for sku, qty in need.items()):
        return "out_of_stock", []
    for sku, qty in need.items():
        available[(sku, warehouse)] -= qty
    low = [f"{sku}@{warehouse}" for sku in need if available[(sku, warehouse)] < safety]
    return ("held_low_stock" if low else "shipped"), low


WORKFLOW_WAREHOUSES = {
    "east": ["上海市", "江苏省", "浙江省", "安徽省", "山东省", "江西省"],
    "south": ["广东省", "广西壮族自治区", "福建省", "海南省"],
}


def plain_intake(scenario: dict[str, Any], on_order: Any = None) -> dict[str, Any]:
    """order_intake.yaml's decisions as plain functions over the scenario's dicts, in memory.

    Paid? -> invalid reasons -> dedup key within the window -> warehouse by province ->
    reserve stock (shipped / held_low_stock / out_of_stock). `on_order(ref, outcome,
    reason, warehouse, reserved)` is called after each order (used to add a commit).
    """
    rules = scenario.get("rules") or {}
    window = timedelta(minutes=rules.get("dedup_window_minutes", 60))
    safety = rules.get("safety_stock", 10)
    catalogue = {s["sku"] for s in scenario["skus"]}
    by_province = {
        "".join(_nfkc(p).split()): c for c, ps in WORKFLOW_WAREHOUSES.items() for p in ps
    }
    available: dict[tuple[str, str], int] = Counter()
    for row in scenario["inventory"]:
        available[(row["sku"], row["warehouse"])] += int(row["on_hand"])
    rows = sorted(
        (datetime.fromisoformat(o["created_at"]), channel, o["order_id"], o)
        for channel, orders in scenario["channels"].items()
        for o in orders
    )
    outcomes: dict[str, str] = {}
    duplicates: dict[str, str] = {}
    last_seen: dict[tuple[str, str, str], tuple[datetime, str]] = {}
    alerts: set[str] = set()
    for created, channel, order_id, order in rows:
        ref = f"{channel}:{order_id}"
        reason = warehouse = None
        reserved: dict[str, int] = {}
        if order.get("status") != "paid":
            outcome = "awaiting_payment"
        else:
            phone = plain_phone((order.get("receiver") or {}).get("phone"))
            problems = plain_problems(order, catalogue, phone)
            if problems:
                outcome, reason = "invalid", problems[0]
            else:
                key = plain_key(order, phone)
                earlier = last_seen.get(key)
                last_seen[key] = (created, ref)
                if earlier is not None and created - earlier[0] <= window:
                    outcome, reason = "duplicate_review", f"possible duplicate of {earlier[1]}"
                    duplicates[ref] = earlier[1]
                else:
                    warehouse = plain_warehouse(order, by_province, "east")
                    outcome, low = plain_reserve(order, warehouse, available, safety)
                    alerts.update(low)
                    if outcome != "out_of_stock":
                        for item in order["items"]:
                            reserved[item["sku"]] = reserved.get(item["sku"], 0) + item["qty"]
        outcomes[ref] = outcome
        if on_order is not None:
            on_order(ref, outcome, reason, warehouse, reserved)
    totals = Counter(outcomes.values())
    return {
        "orders_total": len(outcomes),
        "outcome_totals": {name: totals.get(name, 0) for name in OUTCOMES},
        "outcomes": outcomes,
        "duplicates": duplicates,
        "purchase_alerts": sorted(alerts),
    }


def plain_with_commits(scenario: dict[str, Any], db_path: Path) -> dict[str, Any]:
    """`plain_intake` writing each order's outcome and reservation, one commit per order."""
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE outcome (ref TEXT PRIMARY KEY, status TEXT, reason TEXT, wh TEXT)")
    db.execute("CREATE TABLE stock (sku TEXT, wh TEXT, reserved INT, PRIMARY KEY (sku, wh))")
    db.executemany(
        "INSERT OR IGNORE INTO stock VALUES (?, ?, 0)",
        [(r["sku"], r["warehouse"]) for r in scenario["inventory"]],
    )

    def write(ref: str, outcome: str, reason: str | None, wh: str | None, reserved: dict) -> None:
        db.execute("BEGIN")
        db.execute("INSERT INTO outcome VALUES (?, ?, ?, ?)", (ref, outcome, reason, wh))
        for sku, qty in reserved.items():
            db.execute(
                "UPDATE stock SET reserved = reserved + ? WHERE sku = ? AND wh = ?", (qty, sku, wh)
            )
        db.execute("COMMIT")

    try:
        return plain_intake(scenario, write)
    finally:
        db.close()


# --------------------------------------------------------------------------- 4: engine, no network


def engine_dry_run(scenario: dict[str, Any], db_path: Path) -> dict[str, Any]:
    """The engine on the scenario's orders: ingest's `_store_batch`, then every run, dry run."""
    from sqlalchemy import func, select

    from engine.dispatch import EmbeddedDispatcher, unfinished_runs
    from engine.ingest import Batch, IndexContext, IngestResult, _store_batch
    from engine.loader import load_workflow
    from engine.runner import RunEnv, Runner
    from engine.store import open_store
    from engine.store import stock as stock_store
    from engine.store.models import StepRow
    from service.report import build_report, compare_with_expected

    wf = load_workflow(WORKFLOW)
    store = open_store(f"sqlite:///{db_path}")
    with store.engine.begin() as conn:
        stock_store.sync_catalogue(conn, scenario["skus"])
        stock_store.sync_inventory(conn, scenario["inventory"])
    counter = SqlCounter(store.engine)
    env = RunEnv(wf, store, None, dry_run=True)
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        indexers = [n for n in env.nodes.values() if hasattr(n, "index")]
        index_ctx = IndexContext(env.catalogue())
        env.writer.commit()
        result = IngestResult()
        end = datetime.fromisoformat(scenario["window"]["end"])
        for channel, orders in scenario["channels"].items():
            batch = Batch(
                f"{wf.id}/{wf.source}/{channel}",
                end,
                [({**o, "channel": channel}, o) for o in orders],
            )
            with store.engine.begin() as conn:
                _store_batch(env, conn, batch, indexers, index_ctx, result)
        t1 = time.perf_counter()
        ingest_sql = counter.total
        run_ids = unfinished_runs(store, wf.id)
        commits_before = env.writer.commits
        asyncio.run(EmbeddedDispatcher(Runner(env)).run_all(run_ids))
        env.writer.commit()
        t2, c2 = time.perf_counter(), time.process_time()
    finally:
        env.close()
        counter.stop()
    with store.engine.connect() as conn:
        steps = conn.execute(select(func.count()).select_from(StepRow.__table__)).scalar()
    report = build_report(store)
    diffs = compare_with_expected(report, scenario["expected"])
    store.dispose()
    n = len(run_ids)
    return {
        "orders": n,
        "seconds": t2 - t0,
        "cpu_s": c2 - c0,
        "store_s": t1 - t0,
        "run_s": t2 - t1,
        "steps": steps,
        "nodes_per_order": steps / n,
        "writer_commits_run": env.writer.commits - commits_before,
        "sql_statements_store": ingest_sql,
        "sql_statements_run": counter.total - ingest_sql,
        "outcome_totals": report["outcome_totals"],
        "matched_oracle": not diffs,
        "diffs": diffs[:10],
    }


def overhead(scenario: dict[str, Any], workdir: Path, repeat: int = 3) -> dict[str, Any]:
    """(a) engine dry run vs (b) plain Python vs (c) plain Python + a commit per order."""
    expected = {k: v for k, v in scenario["expected"]["outcome_totals"].items() if v}
    plain_s = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        plain = plain_intake(scenario)
        plain_s.append(time.perf_counter() - t0)
    time_b = min(plain_s)
    plain_matched = {k: v for k, v in plain["outcome_totals"].items() if v} == expected

    t0 = time.perf_counter()
    committed = plain_with_commits(scenario, workdir / "plain-commits.db")
    time_c = time.perf_counter() - t0

    a = engine_dry_run(scenario, workdir / "engine-dry.db")
    n = a["orders"]
    node_execs = a["steps"]
    return {
        "orders": n,
        "a_engine_s": a["seconds"],
        "a_engine_cpu_s": a["cpu_s"],
        "a_engine_orders_per_s": n / a["seconds"],
        "a_store_s": a["store_s"],
        "a_run_s": a["run_s"],
        "a_run_orders_per_s": n / a["run_s"],
        "a_nodes_per_order": a["nodes_per_order"],
        "a_writer_commits_run": a["writer_commits_run"],
        "a_sql_statements_store": a["sql_statements_store"],
        "a_sql_statements_run": a["sql_statements_run"],
        "a_matched_oracle": a["matched_oracle"],
        "a_diffs": a["diffs"],
        "b_plain_s": time_b,
        "b_plain_orders_per_s": n / time_b,
        "b_matched_totals": plain_matched,
        "c_plain_commit_per_order_s": time_c,
        "c_plain_commit_per_order_orders_per_s": n / time_c,
        "c_matched_totals": committed["outcome_totals"] == plain["outcome_totals"],
        "ratio_a_over_b": a["seconds"] / time_b,
        "ratio_a_run_over_b": a["run_s"] / time_b,
        "per_node_overhead_us": 1e6 * (a["seconds"] - time_b) / node_execs,
        "per_node_overhead_run_only_us": 1e6 * (a["run_s"] - time_b) / node_execs,
        "per_node_overhead_cpu_us": 1e6 * (a["cpu_s"] - time_b) / node_execs,
        "rss_self_peak_mb": rss_self_mb(),
    }


# --------------------------------------------------------------------------- 5: profile

PROFILE_DAY = ROOT / "tests" / "fixtures" / "intake-1200-s7.json"
#: where a function's own time is booked, by the first fragment found in its file name
PROFILE_BUCKETS = (
    (
        "HTTP client (httpx, httpcore, anyio, h11, ssl, socket)",
        ("httpx", "httpcore", "anyio", "h11", "ssl", "socket", "sniffio"),
    ),
    ("SQLAlchemy", ("sqlalchemy",)),
    ("sqlite3 (the database itself)", ("sqlite3",)),
    ("pydantic", ("pydantic",)),
    ("json", ("json",)),
    ("connectors/", ("/connectors/",)),
    ("engine/", ("/engine/",)),
    ("nodes/", ("/nodes/",)),
    ("asyncio", ("asyncio",)),
)


def profile_day(path: Path = PROFILE_DAY) -> dict[str, Any]:
    """cProfile the composed end-to-end path on a day; own time booked by library."""
    import cProfile
    import pstats

    from engine.loader import load_workflow
    from engine.store import open_store
    from service.intake import read_scenario

    with tempfile.TemporaryDirectory(prefix="orderhub-bench-") as tmp:
        wf = load_workflow(WORKFLOW)
        store = open_store(str(Path(tmp) / "profile.db"))
        info = read_scenario(path)
        out: dict[str, Any] = {}
        profiler = cProfile.Profile()
        with simulator(path) as (sim, _mem):
            profiler.enable()
            asyncio.run(_composed(wf, store, sim, info, out))
            profiler.disable()
        store.dispose()
    stats = pstats.Stats(profiler)
    buckets: Counter[str] = Counter()
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{filename}:{name}"
        label = next(
            (label for label, parts in PROFILE_BUCKETS if any(p in where for p in parts)),
            "other (builtins, stdlib)",
        )
        buckets[label] += tottime
    total = sum(buckets.values())
    print(f"\n== 5. where the time goes: cProfile of {path.name}, composed calls")
    print(f"  {out['orders']:,} orders, {out['seconds']:.1f} s wall under the profiler")
    for label, seconds in buckets.most_common():
        print(f"  {label:<58} {seconds:7.2f} s  {100 * seconds / total:5.1f} %")
    print("\n  top functions by cumulative time:")
    stats.sort_stats("cumulative").print_stats(r"(engine|nodes|connectors)/", 25)
    return {k: round(v, 3) for k, v in buckets.items()}


# --------------------------------------------------------------------------- printing


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if value is None:
        return "n/a"
    return str(value)


def table(title: str, rows: list[tuple[str, Any]]) -> None:
    print(f"\n== {title}")
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {_fmt(value)}")


def e2e_rows(r: dict[str, Any]) -> list[tuple[str, Any]]:
    rows = [
        ("orders (runs)", r["orders"]),
        ("seconds (wall)", r["seconds"]),
        ("CPU s, this process", r["cpu_s"]),
        ("CPU s, simulator child", r.get("sim_cpu_s")),
        ("orders/s", r["orders_per_s"]),
        ("ms per order", r["ms_per_order"]),
    ]
    if "pull_s" in r:
        rows += [
            ("  pull (ingest) s", r["pull_s"]),
            ("    CPU s", r["pull_cpu_s"]),
            ("    of which storing pages s", r["pull_store_s"]),
            ("    of which HTTP + ERP sync s", r["pull_http_and_prepare_s"]),
            ("  find unfinished runs s", r["find_runs_s"]),
            ("  run (dispatcher) s", r["run_s"]),
            ("    CPU s", r["run_cpu_s"]),
            ("  run orders/s", r["run_orders_per_s"]),
            ("  outbox drain s", r["outbox_s"]),
            ("writer commits in the run phase", r["writer_commits_run"]),
            ("commits (all, this engine)", r["commits_total"]),
            (
                "SQL statements (pull / run)",
                f"{r['sql_statements_pull']:,} / {r['sql_statements_run']:,}",
            ),
            ("SQL statements per order, run phase", r["sql_per_order_run"]),
            ("SQL by verb", r["sql_by_verb"]),
        ]
    rows += [
        ("outcomes", r["outcomes"]),
        ("messages sent (WeCom)", r["messages_sent"]),
        ("build_report s", r["report_s"]),
        ("matches the oracle", r["matched_oracle"]),
        ("peak RSS, this process MB", r["rss_self_peak_mb"]),
        ("peak RSS, this phase MB (VmHWM)", r["rss_phase_hwm_mb"]),
        ("peak RSS, simulator child MB", r.get("sim_hwm_mb")),
        ("RUSAGE_CHILDREN max MB", r.get("children_maxrss_mb")),
    ]
    if r["diffs"]:
        rows.append(("differences", "; ".join(r["diffs"])))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 orders instead of 50,000")
    parser.add_argument(
        "--profile", action="store_true", help="only profile the 1,200-order day (cProfile)"
    )
    args = parser.parse_args(argv)
    if args.profile:
        buckets = profile_day()
        print(json.dumps({"profile_own_time_s": buckets}, separators=(",", ":")))
        return 0
    big = 10_000 if args.quick else 50_000
    figures: dict[str, Any] = {
        "quick": args.quick,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_average_start": load_average(),
    }
    print(f"orderhub intake benchmark; {os.cpu_count()} CPUs, load average {load_average()}")
    print("figures only: nothing here passes or fails on speed")

    with tempfile.TemporaryDirectory(prefix="orderhub-bench-") as tmp:
        workdir = Path(tmp)

        cli = end_to_end_cli(PEAK_DAY, workdir)
        figures["peak_day_cli"] = cli
        table(
            "1. 4,000-order peak day, end to end as `orderhub run --scenario` (run_intake)",
            e2e_rows(cli),
        )

        composed = end_to_end_composed(PEAK_DAY, workdir)
        figures["peak_day"] = composed
        table("1b. the same day, run_intake's calls composed and timed apart", e2e_rows(composed))

        big_path = workdir / f"intake-{big}-s{BIG_SEED}.json"
        gen_s = generate_day(big, BIG_SEED, big_path)
        big_run = end_to_end_composed(big_path, workdir)
        big_run["generate_s"] = gen_s
        big_run["ms_per_order_vs_4000"] = big_run["ms_per_order"] / composed["ms_per_order"]
        figures["big_day"] = big_run
        table(
            f"2. generated {big:,}-order day (seed {BIG_SEED}), composed calls",
            [("generating the scenario s", gen_s), *e2e_rows(big_run)]
            + [
                ("ms per order, 4,000-order day", composed["ms_per_order"]),
                (f"ms per order, {big:,}-order day", big_run["ms_per_order"]),
                ("ratio (flat = 1.0)", big_run["ms_per_order_vs_4000"]),
                (
                    "run-phase ms per order 4,000 / big",
                    f"{1000 * composed['run_s'] / composed['orders']:.3f} / "
                    f"{1000 * big_run['run_s'] / big_run['orders']:.3f}",
                ),
                (
                    "pull-phase ms per order 4,000 / big",
                    f"{1000 * composed['pull_s'] / composed['orders']:.3f} / "
                    f"{1000 * big_run['pull_s'] / big_run['orders']:.3f}",
                ),
            ],
        )

        scenario = json.loads(PEAK_DAY.read_text(encoding="utf-8"))
        ov = overhead(scenario, workdir)
        figures["overhead"] = ov
        table(
            "4. interpreter overhead, 4,000-order day, no network (waybill in dry run)",
            [
                ("(a) engine: store + run, orders/s", ov["a_engine_orders_per_s"]),
                (
                    "    seconds (store pages / run)",
                    f"{ov['a_engine_s']:.3f} ({ov['a_store_s']:.3f} / {ov['a_run_s']:.3f})",
                ),
                ("    run phase alone, orders/s", ov["a_run_orders_per_s"]),
                ("    nodes executed per order", ov["a_nodes_per_order"]),
                ("    writer commits (run phase)", ov["a_writer_commits_run"]),
                (
                    "    SQL statements (store / run)",
                    f"{ov['a_sql_statements_store']:,} / {ov['a_sql_statements_run']:,}",
                ),
                ("    matches the oracle", ov["a_matched_oracle"]),
                ("(b) plain Python in memory, orders/s", ov["b_plain_orders_per_s"]),
                ("    outcome totals match", ov["b_matched_totals"]),
                (
                    "(c) plain Python + commit per order, orders/s",
                    ov["c_plain_commit_per_order_orders_per_s"],
                ),
                ("ratio (a)/(b)", ov["ratio_a_over_b"]),
                ("ratio (a run phase)/(b)", ov["ratio_a_run_over_b"]),
                ("per-node overhead µs, (a) whole", ov["per_node_overhead_us"]),
                ("per-node overhead µs, (a) run phase", ov["per_node_overhead_run_only_us"]),
                ("per-node overhead µs, (a) CPU time", ov["per_node_overhead_cpu_us"]),
                ("peak RSS, this process MB", ov["rss_self_peak_mb"]),
            ],
        )
    figures["rss_self_peak_mb"] = rss_self_mb()
    figures["load_average_end"] = load_average()
    print(f"\nload average at the end {load_average()} (other work on the machine skews wall time)")
    print()
    print(json.dumps(figures, ensure_ascii=False, default=str, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
