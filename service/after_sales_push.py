"""Use cases: take after-sales requests pushed by the H5 mall, Youzan and Douyin, once.

`receive_h5_push(store, actor, ref, …)` is what the API's webhook door calls with the raw
body and the ``X-Timestamp`` / ``X-Signature`` headers: the signature is checked with the
mall's webhook secret (``hex(HMAC-SHA256(secret, ts + "." + body))``) and the timestamp
must be recent; then the request is stored as the pull stores it and its run is started
(the next run of the workflow — or the door, right away — finishes it). A duplicate push
starts nothing new; an older push arriving after a newer one changes nothing (a stored
item is never overwritten by an older copy).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from connectors import build_connectors
from connectors.douyin_aftersale import pushed_ids as douyin_ids
from connectors.youzan_refunds import pushed_ids as youzan_ids
from engine.errors import ConnectorError, InvalidInput, PermissionDenied, Rejected
from engine.ingest import IngestResult, store_orders
from engine.runner import RunEnv
from engine.store import Store
from engine.workflow import Workflow
from nodes.after_sale_item import item_of
from service.access import Actor, require
from service.targets import resolve

#: how far a push's timestamp may be from now (replayed pushes are refused)
MAX_SKEW_S = 300


@dataclass(frozen=True)
class PushResult:
    ref: str  # the request's item, h5:as-<aftersale id>
    new_run: int | None  # the run started, or None when the push changed nothing


async def receive_h5_push(
    store: Store,
    actor: Actor,
    ref: str,
    *,
    systems: dict[str, dict[str, Any]],
    body: bytes,
    timestamp: str,
    signature: str,
    workflow: Workflow | None = None,
    now: float | None = None,
) -> PushResult:
    """Check a pushed H5 after-sales request and start its run of `ref` (after_sales)."""
    require(actor, "runs.start")
    try:
        skew = abs((now if now is not None else time.time()) - float(timestamp))
    except ValueError:
        raise InvalidInput("X-Timestamp must be epoch seconds", field="timestamp") from None
    if skew > MAX_SKEW_S:
        raise InvalidInput(
            f"the push is {skew:.0f} s away from now (at most {MAX_SKEW_S}); the mall must "
            "sign it when it sends it",
            field="timestamp",
        )
    target = resolve(store, ref, workflow)
    connectors = build_connectors(systems)
    env = None
    try:
        mall = connectors.after_sales.get("h5")
        if mall is None:
            raise InvalidInput("no [h5] section in the settings; add one", field="settings")
        try:
            request = mall.read_push(body, timestamp, signature)
        except Rejected as exc:
            raise PermissionDenied(str(exc)) from None
        except (KeyError, ValueError, TypeError):
            raise InvalidInput(
                "the push body is not an after-sales request", field="body"
            ) from None
        env = RunEnv(target.workflow, store, connectors, draft=target.draft)
        env.writer.commit()
        result = IngestResult()
        with store.engine.begin() as conn:
            store_orders(env, conn, [(item_of("h5", request), json.loads(body))], result)
        new_run = result.runs[0] if result.changed else None
        return PushResult(f"h5:as-{request['aftersale_id']}", new_run)
    finally:
        if env is not None:
            env.close()
        await connectors.aclose()


async def receive_platform_push(
    store: Store,
    actor: Actor,
    ref: str,
    *,
    systems: dict[str, dict[str, Any]],
    channel: str,
    body: bytes,
    workflow: Workflow | None = None,
) -> list[PushResult]:
    """Take a Youzan (``trade_refund_*``) or Douyin (tags 200–207) after-sales push: each
    request it names is read again from the platform and stored as a pull would (a push is
    only a hint, so a duplicate, out-of-order or forged one can do no more than a pull)."""
    require(actor, "runs.start")
    readers = {"youzan": youzan_ids, "douyin": douyin_ids}
    if channel not in readers:
        raise InvalidInput("channel must be youzan or douyin", field="channel")
    try:
        ids = readers[channel](json.loads(body))
    except (ValueError, TypeError, AttributeError, KeyError):
        raise InvalidInput(f"the body is not a {channel} push", field="body") from None
    target = resolve(store, ref, workflow)
    connectors = build_connectors(systems)
    env = RunEnv(target.workflow, store, connectors, draft=target.draft)
    results = []
    try:
        env.writer.commit()
        for aftersale_id in ids:
            try:
                request = await connectors.after_sales[channel].detail(aftersale_id)
            except ConnectorError as exc:
                raise InvalidInput(
                    f"{channel} after-sales {aftersale_id} could not be read ({exc}); the next "
                    "pull finds it",
                    field="body",
                ) from None
            result = IngestResult()
            with store.engine.begin() as conn:
                store_orders(env, conn, [(item_of(channel, request), {"pushed": True})], result)
            new_run = result.runs[0] if result.changed else None
            results.append(PushResult(f"{channel}:as-{aftersale_id}", new_run))
        return results
    finally:
        env.close()
        await connectors.aclose()
