"""The H5 mall's after-sales (our own design, PLATFORMS.md): pull, act, and its pushes.

``GET /h5/api/aftersales?updated_after&cursor&limit≤100`` answers ``{aftersales: [...],
next_cursor}``; acts are ``POST /h5/api/aftersales/{id}/approve|refuse|received`` with an
``Idempotency-Key`` (orderhub's effect key: a repeat acts no more); 412 means the request
changed since it was read, 409 that its state does not allow the act. Pushes
(``aftersale.created|updated|cancelled``) carry ``X-Timestamp`` and ``X-Signature =
hex(HMAC-SHA256(secret, ts + "." + body))``; `read_push` checks them and turns the body
into a request in orderhub's shape.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from connectors.after_sales import AfterSalesConnector, Stale, StateChanged
from connectors.http import Response, client_from_config, json_body, require
from engine.errors import Rejected

SYSTEM = "h5"
PATH = "/h5/api/aftersales"
PAGE_SIZE = 100
STAGE = {"agree_return": "agree_return", "refund": "refund", "exchange": "exchange"}


class H5AfterSales(AfterSalesConnector):
    """The H5 mall's after-sales requests."""

    channel = SYSTEM

    def __init__(self, config: dict[str, Any]) -> None:
        self._key = require(SYSTEM, config, "api_key")
        self._secret = str(config.get("webhook_secret", ""))
        self._http = client_from_config(SYSTEM, config)

    async def pull(self, start: datetime, end: datetime) -> AsyncIterator[list[tuple[dict, dict]]]:
        cursor: str | None = None
        while True:
            params = {"updated_after": start.isoformat(), "limit": str(PAGE_SIZE)}
            if cursor:
                params["cursor"] = cursor
            body = await self._http.call(
                "GET", PATH, params=params, headers=self._auth(), parse=_parse, retry=True
            )
            hi = end.timestamp()
            page = [
                (to_canonical(raw), raw)
                for raw in body.get("aftersales") or []
                if datetime.fromisoformat(raw["updated_at"]).timestamp() < hi
            ]
            if page:
                yield page
            cursor = body.get("next_cursor")
            if not cursor:
                return

    async def detail(self, aftersale_id: str) -> dict[str, Any]:
        async for page in self.pull(datetime.fromtimestamp(0).astimezone(), _far()):
            for canonical, _ in page:
                if canonical["aftersale_id"] == aftersale_id:
                    return canonical
        raise Rejected(SYSTEM, f"after-sales {aftersale_id} not found")

    async def send(self, request: dict[str, Any], act: str, remark: str, key: str) -> None:
        action = "refuse" if act == "refuse" else "approve"
        body = {"reason": remark} if act == "refuse" else {"stage": STAGE[act]}
        path = f"{PATH}/{quote(request['aftersale_id'], safe='')}/{action}"
        headers = {**self._auth(), "Idempotency-Key": f"{key or request['aftersale_id']}-{act}"}
        try:  # idempotent by its key: safe to retry as it is
            await self._http.call(
                "POST", path, json=body, headers=headers, parse=_parse, retry=True
            )
        except Rejected as exc:
            if exc.code == "412":  # changed since it was read
                raise Stale(SYSTEM, "the request changed since it was read", code="412") from None
            if exc.code == "409":  # the state does not allow the act
                raise StateChanged(
                    SYSTEM, "the request's state does not allow it", code="409"
                ) from None
            raise

    def read_push(self, body: bytes, timestamp: str, signature: str) -> dict[str, Any]:
        """A pushed request in orderhub's shape; `Rejected` when the signature is wrong."""
        expected = push_signature(self._secret, timestamp, body)
        if not self._secret or not hmac.compare_digest(expected, signature):
            raise Rejected(SYSTEM, "push signature does not match; check webhook_secret")
        return to_canonical(json.loads(body))

    async def aclose(self) -> None:
        await self._http.aclose()

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"}


def to_canonical(raw: dict) -> dict[str, Any]:
    return {
        "aftersale_id": str(raw["aftersale_id"]),
        "order_id": str(raw["order_id"]),
        "type": raw["type"],
        "status": "closed" if raw.get("status") == "cancelled" else raw["status"],
        "version": str(raw.get("version", raw["updated_at"])),
        "lines": [
            {
                "line_id": str(x["line_id"]),
                "sku": x["sku"],
                "qty": int(x["qty"]),
                "gift": bool(x.get("gift")),
            }
            for x in raw["lines"]
        ],  # fmt: skip
        "refund": f"{int(raw['refund_fen']) / 100:.2f}",
        "tracking": raw.get("buyer_return") or None,
        "system_refund": bool(raw.get("system_refund")),
        "created_at": raw.get("created_at", raw["updated_at"]),
        "updated_at": raw["updated_at"],
    }


def push_signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _far() -> datetime:
    return datetime(9999, 1, 1).astimezone()


def _parse(response: Response) -> dict:
    body = json_body(SYSTEM, response)
    if isinstance(body, dict) and body.get("error"):
        raise Rejected(SYSTEM, f"refused: {body['error']}")
    return body
