"""How the benchmarks print their figures: aligned tables."""

from __future__ import annotations

from typing import Any

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
            ("SQL statements per order, run phase (SQLAlchemy)", r["sql_per_order_run"]),
            ("statements per order through the writer", r["writer_statements_per_order"]),
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
