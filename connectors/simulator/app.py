"""The simulator app: all six external systems of a scenario on one FastAPI server.

Paths (each in its platform's shape; see the module of each platform):
    Youzan   POST /api/youzan.trades.sold.get/4.0.2?access_token=…
             POST /api/youzan.trade.get/4.0.0?access_token=…
             POST /api/youzan.logistics.online.confirm/3.0.0?access_token=…
             POST /api/youzan.cloud.secret.decrypt.batch/1.0.0?access_token=…
    Douyin   POST /order/searchList, /order/logisticsAdd, /order/batchDecrypt
             (signed query, param_json body)
    H5       GET  /h5/api/orders, POST /h5/api/orders/{id}/shipments   (Bearer api_key)
    Kingdee  POST /k3cloud/…ValidateUser.common.kdsvc, …ExecuteBillQuery.common.kdsvc
    SF       POST /std/service   (form, msgDigest)
    WeCom    POST /cgi-bin/webhook/send?key=…
Inspection and control:
    GET /_sim/stats, GET /_sim/log?kind=waybills|uploads|messages, POST /_sim/reset,
    POST /_sim/faults {"system", "mode": error|timeout|rate_limit|down, "count",
                       "call": "decrypt" | "outbound" (optional: only that system's decrypt
                       calls, or the ERP's SAL_OUTSTOCK queries)}
Youzan and Douyin receivers are ciphertexts unless `SimOptions.receivers` is "plain"; with
`SimOptions.erp_outbound_after_s` set, every tracking upload books an ERP outbound bill.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, Response

from connectors.simulator import douyin, erp, h5, sf, wecom, youzan
from connectors.simulator.cipher import Vault
from connectors.simulator.common import answer, json_of
from connectors.simulator.state import (
    DELAY_KEY,
    FAULT_CALLS,
    FAULT_MODES,
    SYSTEMS,
    SimOptions,
    SimState,
    build_state,
)

RENDERERS = {"youzan": youzan.render, "douyin": douyin.render, "h5": h5.render}


def create_app(
    scenario: dict[str, Any],
    *,
    credentials: dict[str, dict[str, str]] | None = None,
    options: SimOptions | None = None,
) -> FastAPI:
    """A FastAPI app playing every system of `scenario`; `app.state.sim` is its memory.

    `credentials` override the defaults (`state.DEFAULT_CREDENTIALS`) per system.
    """
    options = options or SimOptions()
    vault = Vault()
    state = build_state(scenario, credentials, options, renderers(options, vault), vault)
    app = FastAPI(title="orderhub simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sim = state
    app.add_middleware(DelayAnswers)
    for platform in (youzan, douyin, h5, erp, sf, wecom):
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
    async def stats() -> Response:
        return answer(state.stats())

    @app.get("/_sim/log")
    async def log(kind: str = "waybills") -> Response:
        records = {
            "waybills": state.waybill_log,
            "uploads": state.uploads,
            "messages": state.messages,
        }.get(kind)
        if records is None:
            return answer({"error": "kind must be waybills, uploads or messages"}, 400)
        return answer(records)

    @app.post("/_sim/reset")
    async def reset() -> Response:
        state.reset()
        return answer({"ok": True})

    @app.post("/_sim/faults")
    async def faults(request: Request) -> Response:
        body = await json_of(request) or {}
        system, mode, call = body.get("system"), body.get("mode"), body.get("call")
        if system not in SYSTEMS or mode not in FAULT_MODES or call not in (None, *FAULT_CALLS):
            text = f"system in {SYSTEMS}, mode in {FAULT_MODES}, call absent or in {FAULT_CALLS}"
            return answer({"error": text}, 400)
        state.add_fault(system, mode, int(body.get("count", 1)), call)
        return answer({"ok": True, "faults": state.faults})
