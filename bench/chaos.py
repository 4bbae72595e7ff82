"""The chaos day: `python -m bench.chaos [--orders 4000] [--seed 11] [--db URL] [--kills 3]`.

One generated day run by `orderhub run` as a real subprocess against a standalone simulator,
with faults on every system — latency, HTTP 500s, 429s with Retry-After, a channel page
served twice, an order updated between pages, the ERP down for a while, and an SF outage
that outlasts several cool-downs — and the runner killed with SIGKILL at `kills` moments
drawn from a seeded generator (as fractions of the day's waybills and uploads), restarted
until it exits 0 with nothing left to do. Then a scripted reviewer releases every suspected
duplicate the oracle calls genuine, and the store and the simulator are checked against the
scenario's oracle (`check`): every order in its expected state, no order with two waybills
or two uploads, no oversell, one "opened" and one "recovered" WeCom message per outage.

`tests/e2e/test_chaos.py` runs a smaller day through `chaos_day`; its twin turns the effect
keys off in the runner (`engine.context.EFFECT_KEYS`, test-only) and must see a double
waybill. This command prints the wall time, the load average and every check's result.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.breaker import BreakerState
from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import SimulatorHandle, start_simulator
from engine.settings import render_toml
from engine.store import Store, open_store
from engine.store import breakers as breaker_store
from engine.store.models import InventoryRow
from service.access import Actor
from service.report import build_report, compare_with_expected
from service.review import decide, list_items
from service.scenarios import read_scenario

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "workflows" / "order_intake.yaml"
REVIEWER = Actor("sun.li", "reviewer")
#: SF's breaker in the chaos day: a 1 s first cool-down, growing to 2 s at most, so an
#: outage of OUTAGE_COOLDOWNS cool-downs lasts seconds, not minutes
SF_BREAKER = {"breaker_cooldown_s": 1.0, "breaker_max_cooldown_s": 2.0}
OUTAGE_COOLDOWNS = 4
HANG_S = 600.0  # a hang guard only: the day, kills and restarts included (400 orders)
POLL_S = 0.05


def chaos_faults() -> list[dict[str, Any]]:
    """The passing faults armed for the whole day (the outages are armed and cleared as it
    goes, see `chaos_day`)."""
    faults: list[dict[str, Any]] = []
    for system in ("youzan", "douyin", "h5", "erp", "sf", "zto", "wecom"):
        faults.append({"system": system, "mode": "latency", "latency_s": [0.002, 0.02]})
        faults.append({"system": system, "mode": "error", "rate": 0.02, "id": f"{system}/500"})
    for system in ("youzan", "douyin", "h5", "sf"):
        faults.append(
            {"system": system, "mode": "http_429", "retry_after_s": 1, "rate": 0.01, "count": 3}
        )
    for channel in ("youzan", "douyin", "h5"):  # one page twice, one order moved, per channel
        faults.append({"system": channel, "mode": "page_twice", "count": 1, "start_s": 0})
        faults.append({"system": channel, "mode": "order_moves", "count": 1})
    return faults


@dataclass
class ChaosResult:
    """What a chaos day did and what its checks found (`problems` empty: it passed)."""

    orders: int
    seed: int
    day: str = ""  # the scenario's day (yesterday in China when it ran)
    kills_asked: int = 0
    seconds: float = 0.0
    kills: list[str] = field(default_factory=list)  # when each SIGKILL came, as people read it
    exits: list[int] = field(default_factory=list)  # every runner's exit status (-9: killed)
    released: list[str] = field(default_factory=list)  # duplicates the reviewer released
    outages: dict[str, int] = field(default_factory=dict)  # system -> outages its breaker saw
    stats: dict[str, Any] = field(default_factory=dict)
    played: dict[str, int] = field(default_factory=dict)  # fault id -> times (spent: absent)
    uploaded_twice: list[str] = field(default_factory=list)  # refs, for the diagnosis
    problems: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)  # the last runners' output tails

    def summary(self) -> dict[str, Any]:
        stats = self.stats
        return {
            "orders": self.orders,
            "seed": self.seed,
            "day": self.day,
            "seconds": round(self.seconds, 1),
            "kills": self.kills,
            "exits": self.exits,
            "released": len(self.released),
            "outages": self.outages,
            "waybills": stats.get("waybills_created"),
            "orders_with_two_waybills": stats.get("orders_with_two_waybills"),
            "orders_uploaded_twice": stats.get("orders_uploaded_twice"),
            "uploads_twice": stats.get("uploads_twice"),
            "pages_repeated": stats.get("pages_repeated"),
            "orders_moved": stats.get("orders_moved"),
            "faults_played": self.played,
            "uploaded_twice": self.uploaded_twice[:20],
            "problems": self.problems,
        }


class _Runner:
    """`orderhub run` over the day as a subprocess that can be SIGKILLed and started again."""

    def __init__(self, work: Path, db_url: str, config: Path, info: Any, effect_keys: bool):
        # one pull window a day, so a channel's day spans pages even in a small day (an order
        # can move between them), and windows up to an hour from now: a moved order's new
        # update time is the simulator's now, and a later window finds it there
        text = WORKFLOW.read_text(encoding="utf-8")
        assert "window_minutes: 360," in text, "order_intake's pull window changed: update"
        workflow = work / "order_intake.yaml"
        workflow.write_text(text.replace("window_minutes: 360,", "window_minutes: 1440,"))
        until = datetime.now(UTC) + timedelta(hours=1)
        self.cmd = [sys.executable, "-m", "bench.chaos", "--child"]
        if not effect_keys:
            self.cmd.append("--no-effect-keys")
        self.cmd += ["run", str(workflow), "--config", str(config), "--db", db_url]
        self.cmd += ["--as", "boss:admin", "--quiet", "--tries", "20"]
        self.cmd += ["--since", info.since.strftime("%Y-%m-%dT%H:%M:%S%z")]
        self.cmd += ["--until", until.strftime("%Y-%m-%dT%H:%M:%S%z")]
        self.env = {**os.environ, "ORDERHUB_LOG": str(work / "orderhub.log")}
        self.env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
        )
        self.work = work
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self.out = (self.work / f"run{self.starts}.out").open("w+", encoding="utf-8")
        self.proc = subprocess.Popen(
            self.cmd, cwd=self.work, env=self.env, stdout=self.out, stderr=subprocess.STDOUT
        )

    def poll(self) -> int | None:
        return self.proc.poll() if self.proc is not None else None

    def kill(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        return self.proc.wait()

    def tail(self) -> str:
        self.out.seek(0)
        return self.out.read()[-1500:]


def chaos_day(
    orders: int,
    seed: int,
    db_url: str,
    work: Path,
    *,
    kills: int = 3,
    effect_keys: bool = True,
    hang_s: float = HANG_S,
) -> ChaosResult:
    """Run the chaos day of `orders` orders (`seed` for the day, the faults and the kill
    moments) into `db_url`, files in `work`; return the result with its checks' problems."""
    result = ChaosResult(orders, seed, kills_asked=kills)
    # yesterday in China: the day is over, as a day the runner catches up on would be
    day = f"{datetime.now(UTC) + timedelta(hours=8) - timedelta(days=1):%Y-%m-%d}"
    scenario = generate_scenario(orders, seed, day=day)
    result.day = day
    path = work / f"intake-{orders}-s{seed}.json"
    write_scenario(scenario, path)
    expected = scenario["expected"]
    info = read_scenario(path)
    rng = random.Random(f"chaos:{seed}")
    started = time.monotonic()
    store = open_store(db_url)
    try:
        with start_simulator(str(path)) as sim:
            systems = {name: dict(values) for name, values in sim.systems.items()}
            systems["sf"].update(SF_BREAKER)
            config = work / "orderhub.toml"
            config.write_text(render_toml(systems), encoding="utf-8")
            sim.arm(*chaos_faults(), seed=seed)
            runner = _Runner(work, db_url, config, info, effect_keys)
            _drive(runner, sim, store, expected, rng, kills, result, hang_s)
            result.released = _review(store, expected, systems)
            result.stats = sim.stats()
            result.played = {f["id"]: f["played"] for f in sim.faults()["faults"]}
            messages = [m["content"] for m in sim.log("messages")]
            uploads = Counter(f"{u['channel']}:{u['order_id']}" for u in sim.log("uploads"))
            result.uploaded_twice = sorted(ref for ref, n in uploads.items() if n > 1)
        result.seconds = time.monotonic() - started
        result.problems = check(store, scenario, result.stats, messages, result)
        if result.problems:
            result.outputs = [runner.tail()]
    finally:
        store.dispose()
    return result


def _drive(
    runner: _Runner,
    sim: SimulatorHandle,
    store: Store,
    expected: dict,
    rng: random.Random,
    kills: int,
    result: ChaosResult,
    hang_s: float,
) -> None:
    """Start, kill and restart the runner until it exits 0 with every kill and outage done."""
    effects = 2 * expected["outcome_totals"]["shipped"]  # a waybill and an upload each
    moments = sorted(rng.uniform(0.05, 0.85) * effects for _ in range(kills))
    sf_from = rng.uniform(0.2, 0.45) * effects
    sf_opened: float | None = None  # when SF's breaker opened (monotonic)
    sf_state = "before"  # before -> down -> over
    erp_state = "before"  # down from the first restart to the next one
    deadline = time.monotonic() + hang_s
    runner.start()
    while True:
        if time.monotonic() > deadline:
            runner.kill()
            raise RuntimeError(f"chaos day not done within {hang_s:g} s: {result.summary()}")
        stats = sim.stats()
        done = stats["waybills_created"] + stats["uploads_total"]
        if sf_state == "before" and done >= sf_from:
            sim.arm({"system": "sf", "mode": "down", "id": "sf-outage"})
            sf_state = "down"
        if sf_state == "down":
            if (
                sf_opened is None
                and breaker_store.read(store, "sf", BreakerState).state != "closed"
            ):
                sf_opened = time.monotonic()
            longest = SF_BREAKER["breaker_max_cooldown_s"] * OUTAGE_COOLDOWNS
            if sf_opened is not None and time.monotonic() - sf_opened >= longest:
                sim.clear_faults("sf-outage")
                sf_state = "over"
        status = runner.poll()
        if status is None and moments and done >= moments[0]:
            time.sleep(rng.uniform(0, 0.2))  # not always right on a count
            moments.pop(0)
            status = runner.kill()
            result.kills.append(f"after {done} of ~{effects} waybills and uploads")
        if status is None:
            time.sleep(POLL_S)
            continue
        result.exits.append(status)
        if status not in (0, 1, 3, -signal.SIGKILL):
            raise RuntimeError(f"the runner failed (exit {status}):\n{runner.tail()}")
        if status == 0 and sf_state == "down" and sf_opened is None:
            sim.clear_faults("sf-outage")  # the day needed SF no more: nothing to open it
            sf_state = "missed"
        if status == 0 and not moments and sf_state != "down":
            return
        if erp_state == "before" and result.kills:  # after a sync: the cache is there
            sim.arm({"system": "erp", "mode": "down", "id": "erp-outage"})
            erp_state = "down"
        elif erp_state == "down":
            sim.clear_faults("erp-outage")
            erp_state = "over"
        if status in (0, 3) and sf_state == "down":
            time.sleep(0.5)  # nothing to do till SF is back: no need to spin
        runner.start()


def _review(store: Store, expected: dict, systems: dict[str, dict[str, Any]]) -> list[str]:
    """The scripted reviewer: release every suspected duplicate the oracle calls genuine."""
    released = []
    for item in list_items(store, REVIEWER, queue="review"):
        if item.ref not in expected["duplicates"]:
            reason = "checked by hand: a genuine order, not a duplicate"
            asyncio.run(decide(store, REVIEWER, item.ref, "release", reason, systems=systems))
            released.append(item.ref)
    return released


def check(
    store: Store,
    scenario: dict[str, Any],
    stats: dict[str, Any],
    messages: list[str],
    result: ChaosResult,
) -> list[str]:
    """What the day got wrong against the oracle and the simulator's counters (empty: none)."""
    expected = scenario["expected"]
    problems = [f"oracle: {d}" for d in compare_with_expected(build_report(store), expected)]
    if stats["orders_with_two_waybills"]:
        problems.append(f"{stats['orders_with_two_waybills']} orders with two waybills")
    if stats["orders_uploaded_twice"]:
        problems.append(f"{stats['orders_uploaded_twice']} orders uploaded twice")
    problems += _oversold(store, scenario)
    for state in breaker_store.list_states(store, BreakerState):
        name = state.system.upper()
        # a crowded outbox merges messages of one kind into one bot message: count lines
        opened = sum(m.count(f"{name} unavailable since") for m in messages)
        recovered = sum(m.count(f"{name} recovered after") for m in messages)
        if state.outages:
            result.outages[state.system] = state.outages
        if state.state != "closed":
            problems.append(f"{state.system}'s breaker is {state.state} at the end")
        if opened != state.outages or recovered != state.outages:
            problems.append(
                f"{state.system}: {state.outages} outages, {opened} 'opened' and "
                f"{recovered} 'recovered' messages"
            )
    if not result.outages.get("sf"):
        problems.append("SF's breaker never opened: the outage did not play")
    if len(result.kills) < result.kills_asked:
        problems.append(
            f"the runner was killed {len(result.kills)} times, not {result.kills_asked}"
        )
    return problems


def _oversold(store: Store, scenario: dict[str, Any]) -> list[str]:
    """SKU@warehouse pairs where more was shipped or reserved than the ERP had."""
    on_hand = {(i["sku"], i["warehouse"]): i["on_hand"] for i in scenario["inventory"]}
    report = build_report(store)
    shipped: Counter[tuple[str, str]] = Counter()
    for channel, rows in scenario["channels"].items():
        for row in rows:
            ref = f"{channel}:{row['order_id']}"
            if ref in report["waybills"]:
                for item in row["items"]:
                    shipped[(item["sku"], report["warehouses"].get(ref, ""))] += int(item["qty"])
    problems = [
        f"oversold {sku}@{wh}: {n} shipped of {on_hand.get((sku, wh), 0)}"
        for (sku, wh), n in shipped.items()
        if n > on_hand.get((sku, wh), 0)
    ]
    with store.session() as session:
        for row in session.query(InventoryRow).where(InventoryRow.reserved > InventoryRow.on_hand):
            problems.append(f"oversold {row.sku}@{row.warehouse}: {row.reserved} reserved")
    return problems


def _child(argv: list[str]) -> None:
    """A chaos runner: `orderhub` (for the twin without effect keys). A SIGKILLed runner's
    lease is taken over by the next at once: it names a process of this machine that is gone
    (`engine.store.leases`)."""
    from engine import context
    from service.cli import main as orderhub

    if argv and argv[0] == "--no-effect-keys":
        context.EFFECT_KEYS = False
        argv = argv[1:]
    orderhub(argv)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        _child(argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--db", default="", help="database URL (default a fresh SQLite file)")
    parser.add_argument("--no-effect-keys", action="store_true", help="the twin: must fail")
    args = parser.parse_args(argv)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="orderhub-chaos-") as tmp:
        work = Path(tmp)
        url = args.db or f"sqlite:///{work / 'chaos.db'}"
        got = chaos_day(
            args.orders,
            args.seed,
            url,
            work,
            kills=args.kills,
            effect_keys=not args.no_effect_keys,
            hang_s=max(HANG_S, args.orders * 0.5),  # a hang guard, for a bigger day
        )
    figures = {**got.summary(), "load_before": load}
    figures["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    for problem in got.problems:
        print("FAILED:", problem)
    print("passed" if not got.problems else f"{len(got.problems)} checks failed")
    print(json.dumps(figures, ensure_ascii=False))
    raise SystemExit(1 if got.problems else 0)


if __name__ == "__main__":
    main()
