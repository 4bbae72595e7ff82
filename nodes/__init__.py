"""The project's node types; importing this package registers them all."""

from nodes import condition, dedup, pull, route, stock, validate, warehouse, waybill

__all__ = ["condition", "dedup", "pull", "route", "stock", "validate", "warehouse", "waybill"]
