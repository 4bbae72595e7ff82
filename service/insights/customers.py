"""Customer groups: buyers described by how often, how much and how much they send back.

A customer is a customer key (an HMAC of the normalised phone, see `facts`), so one buyer
across Youzan, Douyin and the H5 mall is one customer. Over the `days` days ending `until`,
each customer with a paid order is described by four figures — paid orders, average basket,
return rate (returned / shipped orders) and days since the last order — and grouped by
**scikit-learn's k-means** on those figures scaled to unit variance (orders and basket on a
log scale; the return rate weighted by how much it rests on: in full from three shipped
orders, a third for one): it finds groups nobody named in advance (a group of trial buyers
returning most of what they buy), where RFM scoring only sorts customers into fixed bands of
recency, frequency and money and has no place for returns. k is fixed (`GROUPS`, 5, or the
caller's): choosing it by the best silhouette picked 3 broad groups on our histories and
folded a small high-return group into the one-off buyers who returned their only order. The
model is fitted on at most `FIT_SAMPLE` customers with a fixed seed and assigns everyone,
so a run is repeatable. Each group is named by its own figures ("frequent, small basket,
61% returned").

`stability` compares the grouping with the one a week earlier (same length of window) on
the customers in both: the adjusted Rand index (1 = the same groups, 0 = chance).

Roles: every role with ``insights.read`` sees the groups' figures; members are listed by
their customer key, with the phone of their latest order shown in full only to roles with
``orders.contact`` (masked ``138****5678`` for the others).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from engine.errors import InputError
from engine.store import Store
from engine.store.insight_models import InsightOrder
from engine.store.models import OrderRow
from service.access import Actor, allowed, require
from service.insights.common import count_if, current, last_complete_day
from service.masking import mask_phone

FIT_SAMPLE = 20_000
GROUPS = 5
SEED = 7
_facts = InsightOrder.__table__
_orders = OrderRow.__table__


@dataclass(frozen=True)
class Member:
    customer_key: str
    orders: int
    average_basket: float
    return_rate: float
    days_since_last: int
    phone: str | None = None  # of the latest order, masked per role; None when not asked


@dataclass(frozen=True)
class Group:
    """One group: its name, size and mean figures, and (on request) its members."""

    name: str
    customers: int
    orders: float  # mean paid orders per customer
    average_basket: float  # yuan per paid order
    return_rate: float  # returned / shipped orders of the whole group
    days_since_last: float
    shipped: int
    returned: int
    members: list[Member] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "members"}
        data["members"] = [m.__dict__ for m in self.members]
        return data


@dataclass(frozen=True)
class CustomerReport:
    since: date
    until: date
    customers: int
    k: int
    groups: list[Group]
    stability: float | None = None  # adjusted Rand index against a week earlier

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "customers": self.customers,
            "k": self.k,
            "stability_week_on_week": self.stability,
            "groups": [g.as_dict() for g in self.groups],
        }


def customer_groups(
    store: Store,
    actor: Actor,
    *,
    key: bytes,
    days: int = 90,
    until: date | None = None,
    today: date | None = None,
    members: int = 0,
    stability: bool = False,
    groups: int = GROUPS,
) -> CustomerReport:
    """Group the customers of the period; list up to `members` members of each group."""
    require(actor, "insights.read")
    if days < 7:
        raise InputError(f"days {days}: customer groups need a period of 7 days or more")
    until = until or last_complete_day(today)
    current(store, key)
    if not 2 <= groups <= 12:
        raise InputError(f"groups {groups}: ask for 2 to 12 groups")
    table = _customers(store, until, days)
    if len(table["keys"]) < 5 * groups:
        raise InputError(
            f"only {len(table['keys'])} customers paid in the {days} days to {until}: too few "
            "to group; look at a longer period"
        )
    labels = _cluster(table, groups)
    score = None
    if stability:
        earlier = _customers(store, until - timedelta(days=7), days)
        score = _agreement(table, labels, earlier, _cluster(earlier, groups))
    described = _describe(table, labels, groups)
    if members:
        described = _with_members(store, actor, table, labels, described, members)
    else:
        described = [group for _, group in described]
    since = until - timedelta(days=days - 1)
    return CustomerReport(since, until, len(table["keys"]), groups, described, score)


def _customers(store: Store, until: date, days: int) -> dict[str, Any]:
    """Per customer: paid orders, paid amount, shipped, returned, last paid day (arrays)."""
    import numpy as np

    f = _facts.c
    since = until - timedelta(days=days - 1)
    query = (
        select(
            f.customer_key,
            func.count(),
            func.sum(f.amount_cents),
            count_if(f.shipped.is_(True)),
            count_if(f.returned.is_(True)),
            func.max(f.paid_day),
        )
        .where(f.paid_day.between(since, until), f.customer_key.is_not(None))
        .group_by(f.customer_key)
        .order_by(f.customer_key)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    orders = np.array([r[1] for r in rows], dtype=float)
    return {
        "keys": [r[0] for r in rows],
        "orders": orders,
        "basket": np.array([r[2] or 0 for r in rows], dtype=float) / 100 / np.maximum(orders, 1),
        "shipped": np.array([r[3] for r in rows], dtype=float),
        "returned": np.array([r[4] for r in rows], dtype=float),
        "recency": np.array([(until - r[5]).days for r in rows], dtype=float),
    }


def _features(table: dict[str, Any]) -> Any:
    import numpy as np

    shipped = table["shipped"]
    rate = table["returned"] / np.maximum(shipped, 1) * np.minimum(shipped, 3) / 3
    return np.column_stack(
        [np.log1p(table["orders"]), np.log1p(table["basket"]), rate, table["recency"]]
    )


def _cluster(table: dict[str, Any], k: int) -> Any:
    """k-means labels for every customer (fitted on a sample of at most FIT_SAMPLE)."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    x = StandardScaler().fit_transform(_features(table))
    rng = np.random.default_rng(SEED)
    fit = x if len(x) <= FIT_SAMPLE else x[rng.choice(len(x), FIT_SAMPLE, replace=False)]
    return KMeans(n_clusters=k, n_init=4, random_state=SEED).fit(fit).predict(x)


def _agreement(
    table: dict[str, Any], labels: Any, earlier: dict[str, Any], earlier_labels: Any
) -> float | None:
    from sklearn.metrics import adjusted_rand_score

    before = dict(zip(earlier["keys"], earlier_labels, strict=True))
    pairs = [(before[k], now) for k, now in zip(table["keys"], labels, strict=True) if k in before]
    if len(pairs) < 2:
        return None
    return round(float(adjusted_rand_score([a for a, _ in pairs], [b for _, b in pairs])), 3)


def _describe(table: dict[str, Any], labels: Any, k: int) -> list[tuple[int, Group]]:
    """Each k-means label with its group, largest group first."""
    overall_orders = float(table["orders"].mean())
    overall_basket = float((table["basket"] * table["orders"]).sum() / table["orders"].sum())
    groups = []
    for label in range(k):
        mask = labels == label
        if not mask.any():
            continue
        orders = float(table["orders"][mask].mean())
        paid = table["orders"][mask]
        basket = float((table["basket"][mask] * paid).sum() / paid.sum())
        shipped, returned = int(table["shipped"][mask].sum()), int(table["returned"][mask].sum())
        rate = returned / shipped if shipped else 0.0
        recency = float(table["recency"][mask].mean())
        name = ", ".join(
            [
                _frequency_word(orders / overall_orders),
                _basket_word(basket / overall_basket),
                f"{rate:.0%} returned",
                f"last order {recency:.0f} days ago",
            ]
        )
        groups.append(
            (
                label,
                Group(
                    name,
                    int(mask.sum()),
                    round(orders, 2),
                    round(basket, 2),
                    round(rate, 4),
                    round(recency, 1),
                    shipped,
                    returned,
                ),
            )
        )
    groups.sort(key=lambda pair: -pair[1].customers)
    return groups


def _frequency_word(ratio: float) -> str:
    return "frequent" if ratio >= 1.5 else "occasional" if ratio <= 0.8 else "regular"


def _basket_word(ratio: float) -> str:
    return "small basket" if ratio <= 0.8 else "large basket" if ratio >= 1.25 else "mid basket"


def _with_members(
    store: Store,
    actor: Actor,
    table: dict[str, Any],
    labels: Any,
    groups: list[tuple[int, Group]],
    limit: int,
) -> list[Group]:
    """The groups with up to `limit` members each (most orders first), phones per role."""
    full = allowed(actor, "orders.contact")
    out = []
    for label, group in groups:
        index = [i for i in range(len(labels)) if labels[i] == label]
        index.sort(key=lambda i: (-table["orders"][i], table["keys"][i]))
        chosen = index[:limit]
        phones = _latest_phones(store, [table["keys"][i] for i in chosen])
        members = [
            Member(
                table["keys"][i],
                int(table["orders"][i]),
                round(float(table["basket"][i]), 2),
                round(float(table["returned"][i] / max(table["shipped"][i], 1)), 4),
                int(table["recency"][i]),
                _shown(phones.get(table["keys"][i]), full),
            )
            for i in chosen
        ]
        out.append(Group(**{**group.__dict__, "members": members}))
    return out


def _latest_phones(store: Store, keys: list[str]) -> dict[str, str]:
    if not keys:
        return {}
    latest = (
        select(_facts.c.customer_key, func.max(_facts.c.order_pk).label("pk"))
        .where(_facts.c.customer_key.in_(keys))
        .group_by(_facts.c.customer_key)
        .subquery()
    )
    query = select(latest.c.customer_key, _orders.c.canonical).join(
        _orders, _orders.c.id == latest.c.pk
    )
    with store.engine.connect() as conn:
        return {
            k: ((canonical or {}).get("receiver") or {}).get("phone", "")
            for k, canonical in conn.execute(query)
        }


def _shown(phone: str | None, full: bool) -> str | None:
    if phone is None:
        return None
    return phone if full else mask_phone(phone)
