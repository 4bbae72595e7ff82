"""Push intake: acknowledgements and push → uploaded tracking latency. `python -m bench.push`.

    python -m bench.push                   # 500 pushes/s for 60 s, SQLite
    python -m bench.push --rate 200 --seconds 20 --db postgresql+psycopg://…/bench
    python -m bench.push --quick           # 100/s for 10 s

What runs: a generated day (plain receivers) in the simulator subprocess at zero latency;
orderhub's hooks (`service.hooks`) on uvicorn in a second subprocess over a fresh database
(every run and step recorded), the active workflow taking pushes from every channel; this
process signs each channel's "order paid" push as the simulator would
(`connectors.simulator.pushes.message`) and sends them:
1. a burst (as fast as 64 connections go): acknowledgements per second, ack p50/p95;
2. paced at --rate for --seconds: ack p50/p95, and push → uploaded tracking p50/p95 (the
   simulator stamps each upload on the same clock);
3. the burst against a bare FastAPI endpoint on uvicorn: the HTTP stack's own ceiling.
Never part of the pass/fail suite. The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from fastapi import Request
from fastapi.responses import JSONResponse

from bench.common import ROOT, WORKFLOW, load_average

CHANNELS = ("h5", "youzan", "douyin")
BURST_CONNECTIONS = 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500.0, help="pushes a second (phase 2)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long phase 2 lasts")
    parser.add_argument("--burst", type=int, default=3000, help="pushes of phase 1")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--quick", action="store_true", help="100/s for 10 s, a 1,000 burst")
    parser.add_argument(
        "--serve", nargs=3, metavar=("DB", "PORT", "SYSTEMS"), help=argparse.SUPPRESS
    )
    parser.add_argument("--bare", metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(*args.serve)
    if args.bare:
        return serve_bare(int(args.bare))
    if args.quick:
        args.rate, args.seconds, args.burst = 100.0, 10.0, 1000
    figures = run(args.rate, args.seconds, args.burst, args.db)
    print(json.dumps(figures))


def run(rate: float, seconds: float, burst: int, db: str | None) -> dict[str, Any]:
    from connectors.simulator.generator import generate_scenario, write_scenario
    from connectors.simulator.server import free_port, start_simulator
    from connectors.simulator.state import SimOptions

    paced_n = int(rate * seconds)
    with tempfile.TemporaryDirectory(prefix="orderhub-bench-push-") as tmp:
        scenario = generate_scenario(int((burst + paced_n) * 1.6) + 100, 2026)
        path = Path(tmp) / "scenario.json"
        write_scenario(scenario, path)
        url = db or f"sqlite:///{tmp}/orderhub.db"
        prepare_store(url)
        options = SimOptions(receivers="plain", wecom_per_minute=None)
        with start_simulator(str(path), options=options) as sim:
            port, bare_port = free_port(), free_port()
            server = spawn(["--serve", url, str(port), json.dumps(sim.systems)], port)
            bare = spawn(["--bare", str(bare_port)], bare_port)
            try:
                state = local_state(scenario)
                paid = [(c, o) for c in CHANNELS for o, order in state.channels[c].orders.items()
                        if order["status"] == "paid"]  # fmt: skip
                first, second = paid[:burst], paid[burst : burst + paced_n]
                hook = f"http://127.0.0.1:{port}/hooks/"
                b = asyncio.run(send(state, hook, first, rate=None))
                drained = tracking_latency(sim, b["sent_at"], len(first))  # before phase 2
                p = asyncio.run(send(state, hook, second, rate=rate))
                tracked = tracking_latency(sim, p["sent_at"], len(second))
                ceiling = asyncio.run(
                    send(state, f"http://127.0.0.1:{bare_port}/hooks/", first, rate=None)
                )
            finally:
                for proc in (server, bare):
                    proc.terminate()
                    proc.wait(timeout=30)
    return {
        "backend": url.split(":", 1)[0],
        "load_average": load_average(),
        "cpus": os.cpu_count(),
        "burst": {"pushes": len(first), **b["figures"], "to_tracking": drained},
        "paced": {"rate_asked": rate, "seconds": seconds, "pushes": len(second), **p["figures"]},
        "push_to_tracking": tracked,
        "bare_fastapi": ceiling["figures"],
    }


def prepare_store(url: str) -> None:
    """A fresh database with order_intake active, taking pushes from every channel."""
    from engine.store import open_store
    from service.access import Actor
    from versions import store as vstore

    text = WORKFLOW.read_text(encoding="utf-8").replace(
        "  - {type: webhook, channel: h5}\n",
        "".join(f"  - {{type: webhook, channel: {c}}}\n" for c in CHANNELS),
    )
    store = open_store(url)
    try:
        vstore.save(store, text, actor=Actor("bench", "admin"), base=None, message="bench")
    finally:
        store.dispose()


def local_state(scenario: dict[str, Any]) -> Any:
    """The simulator's state in this process, to build and sign pushes as it does."""
    from connectors.simulator.app import renderers
    from connectors.simulator.cipher import Vault
    from connectors.simulator.state import SimOptions, build_state

    options = SimOptions(receivers="plain")
    return build_state(scenario, None, options, renderers(options, Vault()))


async def send(
    state: Any, base: str, orders: list[tuple[str, str]], *, rate: float | None
) -> dict[str, Any]:
    """Push `orders` (all at once over 64 connections, or paced at `rate`)."""
    from connectors.simulator.pushes import message

    built = [(c, o, *message(state, c, o)) for c, o in orders]
    latencies: list[float] = []
    sent_at: dict[tuple[str, str], float] = {}
    failures = 0
    limit = BURST_CONNECTIONS if rate is None else 1024
    gate = asyncio.Semaphore(limit)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit)) as session:

        async def one(i: int, channel: str, order_id: str, headers: dict, body: bytes) -> None:
            nonlocal failures
            if rate is not None:
                await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            async with gate:
                t0 = time.perf_counter()
                sent_at[(channel, order_id)] = time.time()
                async with session.post(base + channel, data=body, headers=headers) as got:
                    await got.read()
                    failures += got.status != 200
                latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(one(i, *b) for i, b in enumerate(built)))
        elapsed = time.perf_counter() - start
    return {
        "figures": {
            "acks_per_s": round(len(built) / elapsed, 1),
            "ack_p50_ms": pct(latencies, 50),
            "ack_p95_ms": pct(latencies, 95),
            "not_200": failures,
            "seconds": round(elapsed, 2),
        },
        "sent_at": sent_at,
    }


def tracking_latency(sim: Any, sent_at: dict[tuple[str, str], float], pushed: int) -> dict:
    """Push → upload times from the simulator's upload log, once uploads stop coming."""
    last, still, began = -1, time.monotonic(), time.time()
    while time.monotonic() - still < 10:
        uploads = [u for u in sim.log("uploads") if (u["channel"], u["order_id"]) in sent_at]
        if len(uploads) != last:
            last, still = len(uploads), time.monotonic()
        time.sleep(0.5)
    waits = [u["at"] - sent_at[(u["channel"], u["order_id"])] for u in uploads]
    return {
        "pushed": pushed,
        "uploaded": len(waits),
        "p50_ms": pct(waits, 50),
        "p95_ms": pct(waits, 95),
        "max_ms": round(max(waits) * 1000, 1) if waits else None,
        "last_upload_s": round(max(u["at"] for u in uploads) - began, 1) if uploads else None,
    }


def pct(values: list[float], q: int) -> float | None:
    if not values:
        return None
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000, 1)


def spawn(args: list[str], port: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "bench.push", *args], env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
            return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"the server on port {port} did not start")


def serve(url: str, port: str, systems: str) -> None:
    import uvicorn
    from fastapi import FastAPI

    from connectors.simulator.server import fast_server_options
    from engine.store import open_store
    from service.hooks import hooks_router

    app = FastAPI()
    app.include_router(hooks_router(open_store(url), json.loads(systems)))
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False,
                **fast_server_options())  # fmt: skip


def serve_bare(port: int) -> None:
    import uvicorn
    from fastapi import FastAPI

    from connectors.simulator.server import fast_server_options

    app = FastAPI()

    @app.post("/hooks/{channel}")
    async def hook(channel: str, request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"code": 0, "msg": "success"})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                **fast_server_options())  # fmt: skip


if __name__ == "__main__":
    main()
