"""Writing a generated history as a brand's back offices export it.

`write_history(history, path)` writes the manifest at `path` (JSON: promotions, expected
findings, no orders) and beside it one CSV of order lines per channel (one row per line, the
order's columns repeated: `ORDER_COLUMNS`), the ERP's stock by day, the ad spend and the
promotions. Standard library only.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["ORDER_COLUMNS", "history_files", "write_history"]

ORDER_COLUMNS = (
    "order_id",
    "status",
    "created_at",
    "paid_at",
    "shipped_at",
    "returned_at",
    "updated_at",
    "buyer_nick",
    "receiver_name",
    "receiver_phone",
    "province",
    "city",
    "district",
    "address",
    "warehouse",
    "amount",
    "sku",
    "title",
    "qty",
    "price",
)


def write_history(history: dict[str, Any], path: str | os.PathLike[str]) -> dict[str, Path]:
    """Write the manifest at `path` and the CSV exports beside it; returns every file."""
    path = Path(path)
    files = history_files(path, list(history["channels"]))
    for channel, orders in history["channels"].items():
        _write_csv(files[channel], ORDER_COLUMNS, _order_rows(orders))
    _write_csv(files["stock"], ("day", "sku", "warehouse", "on_hand"), history["stock"])
    _write_csv(files["ad_spend"], ("day", "channel", "amount"), history["ad_spend"])
    _write_csv(files["promotions"], ("day", "name"), history["promotions"])
    manifest = {k: v for k, v in history.items() if k not in ("channels", "stock", "ad_spend")}
    manifest["files"] = {name: file.name for name, file in files.items()}
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    return {"manifest": path, **files}


def history_files(path: Path, channels: list[str]) -> dict[str, Path]:
    """Where `write_history` puts each export: ``STEM.CHANNEL.csv``, ``STEM.stock.csv``…"""
    stem = path.with_suffix("")
    names = [*channels, "stock", "ad_spend", "promotions"]
    return {name: stem.with_name(f"{stem.name}.{name}.csv") for name in names}


def _order_rows(orders: list[dict[str, Any]]) -> Any:
    for order in orders:
        receiver = order["receiver"]
        head = {
            "order_id": order["order_id"],
            "status": order["status"],
            "created_at": order["created_at"],
            "paid_at": order["paid_at"] or "",
            "shipped_at": order["shipped_at"] or "",
            "returned_at": order["returned_at"] or "",
            "updated_at": order["updated_at"],
            "buyer_nick": order["buyer"]["nick"],
            "receiver_name": receiver["name"],
            "receiver_phone": receiver["phone"],
            "province": receiver["province"],
            "city": receiver["city"],
            "district": receiver["district"],
            "address": receiver["address"],
            "warehouse": order["warehouse"],
            "amount": order["amount"],
        }
        for line in order["items"]:
            yield {**head, **line}


def _write_csv(path: Path, columns: tuple[str, ...], rows: Any) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
