"""The `condition` node: route on an expression over the order, params and earlier steps."""

from __future__ import annotations

from pydantic import BaseModel, Field

from engine.context import RunStepContext
from engine.expressions import compile_expression
from engine.node import BaseNode, Outcome
from engine.order import Order
from engine.registry import node


@node("condition")
class Condition(BaseNode):
    """Route to `true` when the expression is exactly true, else to `false`."""

    class Params(BaseModel):
        when: str = Field(
            description='expression, e.g. order.amount > 2000 and order.channel == "h5"',
            json_schema_extra={"x-expression": "boolean"},
        )

    outcomes = ("true", "false")

    def __init__(self, params: Params, node_id: str) -> None:
        super().__init__(params, node_id)
        self.expression = compile_expression(params.when)

    async def run(self, order: Order, ctx: RunStepContext) -> Outcome:
        data = {"order": order.expression_data(), "params": ctx.params, "state": ctx.state}
        return Outcome("true" if self.expression.test(data) else "false")
