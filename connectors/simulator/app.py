"""The simulator app: all seven external systems of a scenario on one FastAPI server.

Paths (each in its platform's shape; see the module of each platform):
    Youzan   POST /api/youzan.trades.sold.get/4.0.2?access_token=…
             POST /api/youzan.trade.get/4.0.0?access_token=…
             POST /api/youzan.logistics.online.confirm/3.0.0?access_token=…
             POST /api/youzan.cloud.secret.decrypt.batch/1.0.0?access_token=…
    Douyin   POST /order/searchList, /order/orderDetail, /order/logisticsAdd,
             /order/batchDecrypt (signed query, param_json body)
    H5       GET  /h5/api/orders, POST /h5/api/orders/{id}/shipments   (Bearer api_key)
    Kingdee  POST /k3cloud/…ValidateUser.common.kdsvc, …ExecuteBillQuery.common.kdsvc
    SF       POST /std/service   (form, msgDigest)
    ZTO      POST /zto.open.createOrder, /zto.open.getOrderInfo   (x-appKey, x-dataDigest)
    WeCom    POST /cgi-bin/webhook/send?key=…
    After-sales (Youzan, Douyin, H5), SF reverse orders, Kingdee SAL_RETURNSTOCK: see
             `aftersales_api`, `sf_reverse`, `erp`
Inspection and control:
    GET /_sim/after_sales (each request's platform state and acts: refunds once),
    GET /_sim/stats[?prefix=…], GET /_sim/log?kind=waybills|uploads|messages|moves,
    POST /_sim/reset, POST /_sim/stock {"sku", "warehouse", "qty"} (goods received: the
    ERP's on-hand rises),
    POST /_sim/push {channel, order_id, url, times?, bad_signature?}: the channel's signed
    "order paid" push to `url`, delivered again until acknowledged (see `pushes`),
    GET /_sim/faults (armed faults, seed, window clock), POST /_sim/faults (a plan, a list
    of faults or one fault: adds, replacing faults of the same id), DELETE /_sim/faults
    (all, or ?id=…), POST /_sim/faults/clock {"advance_s": N} (move the fault windows' clock
    on); the fault fields are in `faults`.
Youzan and Douyin receivers are ciphertexts unless `SimOptions.receivers` is "plain"; with
`SimOptions.erp_outbound_after_s` set, every tracking upload books an ERP outbound bill;
with `SimOptions.live_minutes` set, the day arrives over that many minutes (see `live`).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, Response

from connectors.simulator import (
    aftersales_api,
    douyin,
    erp,
    h5,
    live,
    pushes,
    sf,
    wecom,
    youzan,
    zto,
)
from connectors.simulator.cipher import Vault
from connectors.simulator.common import answer, json_of
from connectors.simulator.faults import FaultPlan, parse_plan
from connectors.simulator.state import DELAY_KEY, SimOptions, SimState, build_state
from engine.errors import InputError

RENDERERS = {"youzan": youzan.render, "douyin": douyin.render, "h5": h5.render}


def create_app(
    scenario: dict[str, Any],
    *,
    credentials: dict[str, dict[str, str]] | None = None,
    options: SimOptions | None = None,
    faults: FaultPlan | None = None,
) -> FastAPI:
    """A FastAPI app playing every system of `scenario`; `app.state.sim` is its memory.

    `credentials` override the defaults (`state.DEFAULT_CREDENTIALS`) per system; the
    scenario's ``faults`` and then `faults` are armed (`InputError` if they do not read).
    With `options.live_minutes` the day arrives from now on over that many minutes and a
    share of it is pushed (`live`; the pushes run in the app's lifespan).
    """
    options = options or SimOptions()
    if options.live_minutes is not None:  # the day from now on, over live_minutes
        scenario = live.live_scenario(scenario, time.time(), options.live_minutes)
    vault = Vault()
    state = build_state(scenario, credentials, options, renderers(options, vault), vault, faults)
    app = FastAPI(
        title="orderhub simulator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=live.lifespan(state) if options.live_minutes is not None else None,
    )
    app.state.sim = state
    app.add_middleware(DelayAnswers)
    aftersales_api.register(app, state)  # before the platforms' catch-all paths
    for platform in (youzan, douyin, h5, erp, sf, zto, wecom, pushes):
        platform.register(app, state)
    _register_control(app, state)
    return app


def renderers(options: SimOptions, vault: Vault) -> dict[str, Callable[[dict], dict]]:
    """Each channel's renderer for `options.receivers`: encrypted ones seal into `vault`."""
    if options.receivers == "plain":
        return dict(RENDERERS)
    return {
        "youzan": functools.partial(youzan.render, vault=vault),
        "douyin": functools.partial(douyin.render, vault=vault),
        "h5": h5.render,
    }


class DelayAnswers:
    """ASGI middleware holding back an answer whose request carries a timeout fault."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def delayed_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                delay = (scope.get("state") or {}).get(DELAY_KEY)
                if delay:
                    await asyncio.sleep(delay)
            await send(message)

        await self.app(scope, receive, delayed_send)


def _register_control(app: FastAPI, state: SimState) -> None:
    @app.get("/_sim/stats")
    async def stats(request: Request) -> Response:
        return answer(state.stats(request.query_params.getlist("prefix")))

    @app.get("/_sim/log")
    async def log(kind: str = "waybills") -> Response:
        records = {
            "waybills": state.waybill_log,
            "uploads": state.uploads,
            "messages": state.messages,
            "moves": state.moves,
        }.get(kind)
        if records is None:
            return answer({"error": "kind must be waybills, uploads, messages or moves"}, 400)
        return answer(records)

    @app.get("/_sim/after_sales")
    async def after_sales() -> Response:
        return answer(state.after_sales.counts())

    @app.post("/_sim/stock")
    async def receive(request: Request) -> Response:
        body = await request.json()
        state.receive(str(body["sku"]), str(body["warehouse"]), int(body["qty"]))
        return answer({"ok": True})

    @app.post("/_sim/reset")
    async def reset() -> Response:
        state.reset()
        return answer({"ok": True})

    @app.get("/_sim/faults")
    async def faults() -> Response:
        return answer(state.faults.describe())

    @app.post("/_sim/faults")
    async def arm_faults(request: Request) -> Response:
        try:
            plan = parse_plan(await json_of(request), "POST /_sim/faults")
        except InputError as exc:
            return answer({"error": str(exc)}, 400)
        ids = state.faults.arm(plan)
        return answer({"ok": True, "armed": ids, **state.faults.describe()})

    @app.delete("/_sim/faults")
    async def clear_faults(request: Request) -> Response:
        ids = request.query_params.getlist("id")
        state.faults.clear(ids or None)
        return answer({"ok": True, **state.faults.describe()})

    @app.post("/_sim/faults/clock")
    async def advance_clock(request: Request) -> Response:
        body = await json_of(request)
        seconds = body.get("advance_s") if isinstance(body, dict) else None
        if not isinstance(seconds, int | float) or isinstance(seconds, bool):
            return answer({"error": 'send {"advance_s": seconds} to move the fault clock on'}, 400)
        state.faults.advance(seconds)
        return answer({"ok": True, **state.faults.describe()})
