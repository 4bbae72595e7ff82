"""Insights benchmark: `python -m bench.insights`. Prints figures; never fails on speed.

Generates (once, cached in --workdir) a history of 90 days of 4,000 orders a day, imports it
into a fresh SQLite file and a fresh PostgreSQL schema (``--pg URL``, default
ORDERHUB_TEST_PG), then times:

- the import (three channel CSVs and the ERP stock) and the first refresh of the order
  facts (every order read once);
- **all four insights** as a morning would compute them: channel health (30 days against
  the 30 before), the hot-SKU check (with its alerts; run the morning the planted SKU sells
  out, so its first check walks the week before), customer groups (90 days) and tomorrow's
  outbound forecast with its 28-day backtest — target under 10 s and 500 MB.

Peak memory is this process's VmHWM, reset before the four are computed (and read again at
the end for the whole run). Scientific libraries are imported before the clock starts and
their import time is printed on its own.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.common import load_average, proc_hwm_mb, reset_hwm

KEY = b"bench-insights-key-0123456789"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.insights")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--orders-per-day", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workdir", default="/tmp/orderhub-bench-insights")
    parser.add_argument("--pg", default=os.environ.get("ORDERHUB_TEST_PG"))
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    print(f"load average before: {load_average()}")
    files = _history(Path(args.workdir), args.days, args.orders_per_day, args.seed)
    manifest = json.loads(files["manifest"].read_text(encoding="utf-8"))
    t = time.perf_counter()
    import sklearn.cluster  # noqa: F401
    import statsmodels.api  # noqa: F401

    print(f"import scikit-learn + statsmodels: {time.perf_counter() - t:.2f} s")
    for backend in args.backends.split(","):
        if backend == "postgresql" and not args.pg:
            print("postgresql: skipped (no --pg URL and no ORDERHUB_TEST_PG)")
            continue
        with _database(backend, args.workdir, args.pg) as url:
            _run(backend, url, files, manifest)
    print(f"peak memory of the whole run: {proc_hwm_mb():.0f} MB; load: {load_average()}")


def _run(backend: str, url: str, files: dict[str, Path], manifest: dict[str, Any]) -> None:
    from engine.store import open_store
    from service.access import Actor
    from service.insights.channels import channel_health
    from service.insights.customers import customer_groups
    from service.insights.facts import refresh
    from service.insights.forecast import outbound_forecast
    from service.insights.hot_skus import check_hot_skus
    from service.insights.imports import import_orders, import_stock
    from service.insights.inputs import read_ad_spend, read_promotions

    ops = Actor("bench", "ops_manager")
    store = open_store(url)
    t = time.perf_counter()
    refresh(store, KEY)  # an empty store: records the key, so the import writes the facts
    orders = sum(
        import_orders(store, ops, files[c], c, key=KEY).orders for c in ("youzan", "douyin", "h5")
    )
    import_stock(store, ops, files["stock"])
    imported = time.perf_counter() - t
    t = time.perf_counter()
    indexed = refresh(store, KEY).indexed
    indexed_s = time.perf_counter() - t
    print(
        f"{backend}: import {orders:,} orders {imported:.1f} s ({orders / imported:,.0f}/s), "
        f"then refresh {indexed:,} orders {indexed_s:.1f} s"
    )
    today = date.fromisoformat(manifest["expected"]["window"]["last_day"]) + timedelta(days=1)
    promotions = read_promotions(files["promotions"])
    spend = read_ad_spend(files["ad_spend"])
    reset_hwm()
    cpu, t = time.process_time(), time.perf_counter()
    laps = {}
    lap = time.perf_counter()
    channels = channel_health(store, ops, key=KEY, days=30, today=today, ad_spend=spend)
    laps["channels"], lap = time.perf_counter() - lap, time.perf_counter()
    hot = manifest["expected"]["hot_sku"]  # checked the morning it sells out: its last week
    opened = check_hot_skus(store, ops, key=KEY, today=date.fromisoformat(hot["sells_out_on"]))
    laps["hot-skus"], lap = time.perf_counter() - lap, time.perf_counter()
    groups = customer_groups(store, ops, key=KEY, days=90, today=today)
    laps["customers"], lap = time.perf_counter() - lap, time.perf_counter()
    forecast = outbound_forecast(store, ops, key=KEY, today=today, promotions=promotions)
    laps["forecast"] = time.perf_counter() - lap
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    print(
        f"{backend}: all four insights {wall:.2f} s (CPU {cpu:.2f} s), peak {proc_hwm_mb():.0f} MB"
        f" — " + ", ".join(f"{k} {v:.2f} s" for k, v in laps.items())
    )
    group = manifest["expected"]["high_return_group"]
    best = max(groups.groups, key=lambda g: g.return_rate)
    print(
        f"  channels: best completion {channels.best_completion}; hot SKU alerts "
        f"{[(e.sku, e.started_on.isoformat()) for e in opened]} (planted {hot['sku']} sells out "
        f"{hot['sells_out_on']}); highest-return group {best.name!r} ({best.customers} "
        f"customers, planted {len(group['members'])} at {group['return_rate']:.1%}); forecast "
        f"{forecast.method}: {forecast.note}"
    )
    t = time.perf_counter()
    stability = customer_groups(store, ops, key=KEY, days=90, today=today, stability=True)
    print(
        f"  customer groups week on week (adjusted Rand index): {stability.stability} "
        f"({time.perf_counter() - t:.1f} s)"
    )
    store.dispose()


def _history(workdir: Path, days: int, per_day: int, seed: int) -> dict[str, Path]:
    from connectors.simulator.history import generate_history, history_files, write_history

    workdir.mkdir(parents=True, exist_ok=True)
    manifest = workdir / f"history-{days}x{per_day}-s{seed}.json"
    files = {"manifest": manifest, **history_files(manifest, ["youzan", "douyin", "h5"])}
    if all(f.exists() for f in files.values()):
        print(f"history: {manifest} (cached)")
        return files
    t = time.perf_counter()
    written = write_history(generate_history(days, per_day, seed), manifest)
    print(f"history: generated and written in {time.perf_counter() - t:.1f} s")
    return written


class _database:
    """A fresh database of the backend: a SQLite file, or a PostgreSQL schema dropped after."""

    def __init__(self, backend: str, workdir: str, pg: str | None) -> None:
        self.backend, self.workdir, self.pg = backend, workdir, pg
        self.schema = f"bench_{uuid.uuid4().hex[:10]}"

    def __enter__(self) -> str:
        if self.backend == "sqlite":
            path = Path(self.workdir) / "insights.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return f"sqlite:///{path}"
        from sqlalchemy import create_engine, text

        admin = create_engine(self.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {self.schema}"))
        admin.dispose()
        return f"{self.pg}?options=-csearch_path%3D{self.schema}"

    def __exit__(self, *exc: object) -> None:
        if self.backend == "sqlite":
            return
        from sqlalchemy import create_engine, text

        admin = create_engine(self.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {self.schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
