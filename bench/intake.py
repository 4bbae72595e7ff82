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
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import (
    BIG_SEED,
    PEAK_DAY,
    ROOT,
    WORKFLOW,
    SqlCounter,
    children_cpu_s,
    load_average,
    proc_hwm_mb,
    reset_hwm,
    rss_children_mb,
    rss_self_mb,
)
from bench.overhead import overhead
from bench.printing import e2e_rows, table

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
    from service.intake import run_intake
    from service.scenarios import read_scenario

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
        run_ids = unfinished_runs(store, wf.id, env.version)
        t2, c2 = time.perf_counter(), time.process_time()
        commits_before = env.writer.commits
        statements_before = env.writer.statements

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
            # the per-order path runs prepared statements on the driver, which SqlCounter's
            # SQLAlchemy events do not see: the writer counts them
            "writer_statements_run": env.writer.statements - statements_before,
            "writer_statements_per_order": (env.writer.statements - statements_before) / n,
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
    from service.scenarios import read_scenario

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
    from service.scenarios import read_scenario

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
