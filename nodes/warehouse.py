"""The `split_warehouse` node: the receiver's province picks the shipping warehouse."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from engine.context import RunStepContext
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node
from nodes.rules import normalise_text


@node("split_warehouse")
class SplitWarehouse(BaseNode):
    """Choose the warehouse by the receiver's province, else the default warehouse."""

    class Params(BaseModel):
        warehouses: dict[str, list[str]] = Field(
            min_length=1,
            description="warehouse code -> provinces it ships to",
            json_schema_extra={"x-key": "warehouse", "x-item": "province"},
        )
        default: str = Field(description="warehouse for a province in no list")

        @model_validator(mode="after")
        def _check(self) -> SplitWarehouse.Params:
            if self.default not in self.warehouses:
                raise ValueError(f"default {self.default!r} is not one of the warehouses")
            seen: dict[str, str] = {}
            for code, provinces in self.warehouses.items():
                for province in provinces:
                    if province in seen:
                        raise ValueError(f"{province} is in both {seen[province]} and {code}")
                    seen[province] = code
            return self

    outcomes = ("chosen",)

    def __init__(self, params: Params, node_id: str) -> None:
        super().__init__(params, node_id)
        self.by_province = {
            normalise_text(p): code for code, ps in params.warehouses.items() for p in ps
        }

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        code = self.by_province.get(normalise_text(order.receiver.province), self.params.default)
        ctx.store.assign_warehouse(code)
        return Outcome("chosen", {"warehouse": code})
