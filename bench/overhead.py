"""The engine without network (dry run) against plain Python: overhead per node."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import WORKFLOW, SqlCounter, rss_self_mb
from bench.plain import plain_intake, plain_with_commits

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
        run_ids = unfinished_runs(store, wf.id, env.version)
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
