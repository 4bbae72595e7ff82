"""The chaos day (issue 8, item 9) on a smaller day: faults on every system, an SF outage of
several cool-downs, the ERP down for a while, the runner SIGKILLed three times and restarted,
a scripted reviewer — then every check of `bench.chaos` against the oracle and the
simulator's counters. `python -m bench.chaos` runs the 4,000-order day with the same code.

Its twin turns the effect keys off in the runner processes (`engine.context.EFFECT_KEYS`):
a kill while a waybill is being made must then show as an order with two waybills.
"""

from __future__ import annotations

from pathlib import Path

from bench.chaos import chaos_day

ORDERS = 400
SEED = 5
KILLS = 3


def explain(got: object) -> str:
    return f"{got.summary()}\n" + "\n".join(got.outputs)


def test_the_chaos_day_ends_as_the_oracle_says(db_url: str, tmp_path: Path) -> None:
    got = chaos_day(ORDERS, SEED, db_url, tmp_path, kills=KILLS)
    assert len(got.kills) >= KILLS, explain(got)
    assert got.exits.count(-9) == len(got.kills) and got.exits[-1] == 0, explain(got)
    assert got.outages.get("sf", 0) >= 1 and got.outages.get("erp", 0) >= 1, explain(got)
    assert sum(got.stats["pages_repeated"].values()) == 3, explain(got)  # once per channel
    assert sum(got.stats["orders_moved"].values()) == 3, explain(got)
    assert got.problems == [], explain(got)


def test_the_twin_without_effect_keys_makes_a_double_waybill(tmp_path: Path) -> None:
    """SQLite only: the mechanism is the runner's, not the database's."""
    db_url = f"sqlite:///{tmp_path / 'twin.db'}"
    got = chaos_day(ORDERS, SEED, db_url, tmp_path, kills=KILLS, effect_keys=False)
    assert len(got.kills) >= KILLS, explain(got)
    assert got.stats["orders_with_two_waybills"] > 0, explain(got)
    assert any("with two waybills" in problem for problem in got.problems), explain(got)
