"""The benchmark's plain-Python baseline decides like the oracle (correctness, not speed)."""

from __future__ import annotations

from bench.plain import plain_intake
from connectors.simulator.generator import generate_scenario


def test_plain_intake_reproduces_the_oracle_totals() -> None:
    scenario = generate_scenario(200, 5)
    result = plain_intake(scenario)
    expected = scenario["expected"]
    assert result["orders_total"] == expected["orders_total"]
    assert result["outcome_totals"] == expected["outcome_totals"]
    assert result["duplicates"] == expected["duplicates"]
    assert result["purchase_alerts"] == expected["purchase_alerts"]


def test_the_200_node_workflow_of_the_versions_benchmark_is_valid() -> None:
    from bench.versions import diff_figures

    figures = diff_figures()  # asserts the one expected change itself
    assert figures["nodes"] == 200
