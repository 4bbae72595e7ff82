"""The valid workflow document the engine's tests start from (and break one way at a time).

Uses the ``t_`` node types of `tests/engine/conftest.py`. Line numbers matter: the tables in
the tests name exact lines and columns of this text.
"""

VALID = """\
id: order_intake
name: 订单聚合中心
description: the intake flow
params:
  dedup_window_minutes: {type: integer, default: 60, minimum: 1}
  safety_stock: {type: integer, default: 10, minimum: 0}
  big_order: {type: number, default: 2000.5}
triggers:
  - {type: schedule, every: 15m}
  - {type: webhook, channel: h5}
  - {type: manual}
nodes:
  - id: pull
    type: t_pull
    with: {channels: [youzan, douyin, h5]}
    next: paid
  - id: paid
    type: t_condition
    with: {when: 'order.status == "paid"'}
    routes: {true: dedup, false: awaiting_payment}
  - id: dedup
    type: t_dedup
    with:
      fields: [receiver.phone, receiver.address, items.sku]
      window_minutes: "{{ params.dedup_window_minutes }}"
    routes: {unique: stock, duplicate: review}
  - id: stock
    type: t_stock
    critical: true
    description: reserve stock
    with: {safety_stock: "{{ params.safety_stock }}"}
    routes: {ok: waybill, low: review, out: review}
  - id: waybill
    type: t_waybill
    with: {carrier: sf, note: "order {{ order.ref }} at {{ state.stock.level }}"}
    next: shipped
    on_error: review
  - id: shipped
    type: t_end
  - id: review
    type: t_end
    with: {status: review}
  - id: awaiting_payment
    type: t_end
"""


def broken(old: str, new: str, text: str = VALID) -> str:
    """`text` with `old` (which must occur exactly once) replaced by `new`."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)
