"""The figures as Prometheus metric families (prometheus_client), one registry per scrape."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import (
    CollectorRegistry,
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from service.figures import Figures


class _FiguresCollector(Collector):
    def __init__(self, figures: Figures) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        f = self.figures
        runs = CounterMetricFamily(
            "orderhub_runs",
            "Runs by workflow, version, status and outcome",
            labels=["workflow", "version", "status", "outcome"],
        )
        for labels, n in sorted(f.runs.items()):
            runs.add_metric(list(labels), n)
        yield runs
        latency = SummaryMetricFamily(
            "orderhub_node_seconds",
            "Time nodes took per step, by node type",
            labels=["node_type"],
        )
        for node_type, (n, seconds) in sorted(f.node_steps.items()):
            latency.add_metric([node_type], count_value=n, sum_value=seconds)
        yield latency
        yield _gauge("orderhub_queue_depth", "Orders waiting in a queue", "queue", f.queue_depth)
        yield _gauge(
            "orderhub_outbox_backlog", "Notifications not sent yet", "target", f.outbox_backlog
        )
        yield _gauge("orderhub_alerts", "Alerts raised, by kind", "kind", f.alerts)


def registry_for(figures: Figures) -> CollectorRegistry:
    """A registry holding just these figures."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_FiguresCollector(figures))
    return registry


def _gauge(name: str, doc: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, n in sorted(values.items()):
        family.add_metric([key], n)
    return family
