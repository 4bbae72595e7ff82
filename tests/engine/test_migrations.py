"""Migrations bring an existing database forward without losing what it holds."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from engine.store import open_store
from engine.store.db import upgrade
from engine.store.models import RunRow, StepRow

ORDER = (
    "INSERT INTO orders (id, channel, order_id, created_at, updated_at, platform_status,"
    " content_hash, canonical, raw, status, pulled_at) VALUES (1, 'h5', 'H1',"
    " '2026-01-10 01:00:00', '2026-01-10 01:00:00', 'paid', 'h', '{}', '{}', 'failed',"
    " '2026-01-10 01:00:00')"
)
RUN = (
    "INSERT INTO runs (id, order_pk, order_hash, workflow_id, version, draft, status, position,"
    " state, created_at) VALUES (1, 1, 'h', 'wf', 'v', false, 'failed', 'waybill', '{}',"
    " '2026-01-10 01:00:00')"
)
STEP = (
    "INSERT INTO steps (run_id, node_id, node_type, seq, status, detail, started_at)"
    " VALUES (1, 'waybill', 'waybill', 1, 'failed', '{}', '2026-01-10 01:00:00')"
)


def test_0006_keeps_old_runs_and_steps_as_first_tries(db_url: str) -> None:
    store = open_store(db_url, migrate=False)
    try:
        upgrade(store, "0005")
        with store.engine.begin() as conn:
            for statement in (ORDER, RUN, STEP):
                conn.execute(text(statement))
        upgrade(store)
        columns = {c["name"] for c in inspect(store.engine).get_columns("steps")}
        assert "attempt" in columns
        with store.engine.begin() as conn:
            assert conn.execute(select(RunRow.attempt)).scalar_one() == 1
            assert conn.execute(select(StepRow.attempt)).scalar_one() == 1
            # a second try of the same node is a row of its own ...
            conn.execute(
                text(
                    STEP.replace("(run_id,", "(attempt, run_id,").replace(
                        "VALUES (1,", "VALUES (2, 1,"
                    )
                )
            )
        # ... but the same try of the same node is still refused
        with pytest.raises(IntegrityError), store.engine.begin() as conn:
            conn.execute(text(STEP))
    finally:
        store.dispose()
