"""What the insights read besides orders: their settings and two small CSV inputs.

    [insights]
    key = "…"                  # HMAC key for customer keys (or ORDERHUB_INSIGHTS_KEY)
    promotions = "promotions.csv"   # day,name: promotion days, past and planned
    ad_spend = "ad_spend.csv"       # day,channel,amount: ad spend in yuan

Customers are identified across channels by an HMAC-SHA256 of their normalised phone with
`key`, so the phone itself is never stored for this purpose; changing the key re-keys every
customer on the next refresh.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from engine.errors import InputError
from engine.settings import Settings

MIN_KEY_LENGTH = 16


@dataclass(frozen=True)
class Promotion:
    day: date
    name: str


@dataclass(frozen=True)
class InsightSettings:
    """The `[insights]` section: the customer-key secret and the two input files."""

    key: bytes | None = field(default=None, repr=False)
    promotions: Path | None = None
    ad_spend: Path | None = None

    def require_key(self) -> bytes:
        """The HMAC key; `InputError` saying how to set one when there is none."""
        if not self.key:
            raise InputError(
                "no key for customer keys: set `key` in the [insights] section of orderhub.toml "
                f"(or ORDERHUB_INSIGHTS_KEY) to a random secret of at least {MIN_KEY_LENGTH} "
                "characters"
            )
        return self.key


def insight_settings(
    settings: Settings | None = None, env: Mapping[str, str] | None = None
) -> InsightSettings:
    """The `[insights]` section of the settings, with ORDERHUB_INSIGHTS_* overrides."""
    env = os.environ if env is None else env
    section: dict[str, Any] = dict((settings.systems.get("insights") if settings else None) or {})
    for name in ("key", "promotions", "ad_spend"):
        value = env.get(f"ORDERHUB_INSIGHTS_{name.upper()}")
        if value:
            section[name] = value
    key = section.get("key")
    if key is not None and len(str(key)) < MIN_KEY_LENGTH:
        raise InputError(
            f"[insights] key is too short: use a random secret of at least {MIN_KEY_LENGTH} "
            "characters"
        )
    return InsightSettings(
        key=str(key).encode("utf-8") if key else None,
        promotions=Path(section["promotions"]) if section.get("promotions") else None,
        ad_spend=Path(section["ad_spend"]) if section.get("ad_spend") else None,
    )


def read_promotions(path: Path | None) -> list[Promotion]:
    """Promotion days from a CSV with columns day,name (none when `path` is None)."""
    if path is None:
        return []
    return [
        Promotion(_day(path, line, row["day"]), (row.get("name") or "").strip())
        for line, row in _rows(path, ("day",))
    ]


def read_ad_spend(path: Path | None) -> dict[tuple[date, str], Decimal]:
    """(day, channel) -> yuan from a CSV with columns day,channel,amount."""
    if path is None:
        return {}
    spend: dict[tuple[date, str], Decimal] = {}
    for line, row in _rows(path, ("day", "channel", "amount")):
        try:
            amount = Decimal(row["amount"].strip())
        except InvalidOperation:
            raise InputError(
                f"{path}:{line}: amount {row['amount']!r} is not a number of yuan; fix the row"
            ) from None
        key = (_day(path, line, row["day"]), row["channel"].strip())
        spend[key] = spend.get(key, Decimal(0)) + amount
    return spend


def _rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(
                    f"{path}: no column {', '.join(missing)}; the first row must name the "
                    f"columns {','.join(required)}"
                )
            return [(reader.line_num, row) for row in reader]
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; fix the path in [insights]") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path}: cannot read it ({type(exc).__name__}); save it as UTF-8"
        ) from None


def _day(path: Path, line: int, text: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise InputError(
            f"{path}:{line}: day {text!r} is not a date; write it as 2026-03-08"
        ) from None
