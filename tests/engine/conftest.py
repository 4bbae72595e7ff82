"""Small node types for the engine's tests, registered under names starting with ``t_``.

They carry what the validator reads (Params, outcomes, source) and nothing else; the
project's real node types live in `nodes/`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.registry import node


@node("t_pull")
class TPull:
    """Pull new and changed orders from the channels (the source)."""

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        channels: list[str] = Field(min_length=1)

    outcomes = ()
    source = True


@node("t_condition")
class TCondition:
    """Route on a condition over the order."""

    class Params(BaseModel):
        when: str = Field(json_schema_extra={"x-expression": "boolean"})

    outcomes = ("true", "false")


@node("t_dedup")
class TDedup:
    """Flag orders that repeat within a window."""

    class Params(BaseModel):
        fields: list[str] = Field(json_schema_extra={"x-order-fields": True})
        window_minutes: int = Field(60, ge=1)

    outcomes = ("unique", "duplicate")


@node("t_stock")
class TStock:
    """Reserve stock; hold the order when it runs below safety."""

    class Params(BaseModel):
        safety_stock: int = Field(10, ge=0)

    outcomes = ("ok", "low", "out")
    side_effects = True


@node("t_waybill")
class TWaybill:
    """Create a waybill with the carrier."""

    class Params(BaseModel):
        carrier: Literal["sf", "zto"] = "sf"
        note: str = ""

    outcomes = ("ok",)
    side_effects = True


@node("t_end")
class TEnd:
    """Set the order's final status."""

    class Params(BaseModel):
        status: str = "done"

    outcomes = ("done",)
    terminal = ("done",)
