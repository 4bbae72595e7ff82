"""The project's node types; importing this package registers them all."""

from nodes import condition, dedup, pull, release, route, stock, validate, warehouse, waybill

__all__ = [
    "condition",
    "dedup",
    "pull",
    "release",
    "route",
    "stock",
    "validate",
    "warehouse",
    "waybill",
]
