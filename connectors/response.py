"""An HTTP answer as the platform modules read it, and its mapping onto the error tree."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from engine.errors import RateLimited, Rejected, Unavailable


class Response:
    """An answer as the `parse` functions see it: status, the whole body, headers.

    Built by the transport after the body has been read, so it outlives the connection.
    """

    __slots__ = ("status_code", "content", "headers")

    def __init__(
        self, status_code: int, content: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> None:
        self.status_code = int(status_code)
        self.content = bytes(content)
        if not isinstance(headers, CIMultiDictProxy):  # aiohttp's own is kept as is
            headers = CIMultiDictProxy(CIMultiDict(headers or {}))
        self.headers: Mapping[str, str] = headers

    def json(self) -> Any:
        """The body parsed as JSON; `ValueError` when it is not JSON."""
        return orjson.loads(self.content)

    @property
    def text(self) -> str:
        """The body decoded with the Content-Type charset (UTF-8 when none is named)."""
        charset = "utf-8"
        for part in self.headers.get("Content-Type", "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip("\"'")
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"


def check_status(system: str, response: Response) -> Response:
    """Map an HTTP status onto the error tree; return the response when it is 2xx."""
    status = response.status_code
    if status < 400:
        return response
    if status == 429:
        wait = retry_after(response.headers.get("Retry-After"))
        asked = f"; it asks for {wait:g} s" if wait is not None else ""
        raise RateLimited(
            system, f"too many requests{asked}; slow down and retry", code="429",
            retry_after_s=wait,
        )  # fmt: skip
    if status >= 500:
        raise Unavailable(system, f"server error {status}; retry later", code=str(status))
    if status in (401, 403):
        raise Rejected(system, "credentials refused; check the settings", code=str(status))
    raise Rejected(
        system, f"request refused with HTTP {status}{_detail(response)}", code=str(status)
    )


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait: delay-seconds or an HTTP-date (RFC
    9110 10.2.3); None when absent or unreadable, 0 for a date already past."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when: datetime = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _detail(response: Response) -> str:
    """The platform's own short error text, if its answer is JSON with one."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        for key in ("error", "message", "errmsg", "msg"):
            if isinstance(body.get(key), str):
                return ": " + body[key][:200]
    return ""


def json_body(system: str, response: Response) -> Any:
    """The response's JSON, or `Unavailable` when the system answered something else."""
    try:
        return response.json()
    except ValueError:
        raise Unavailable(system, "answer is not JSON; the gateway may be failing") from None
