"""Workflow text from people cannot take the machine down: aliases, nesting and size are bounded.

A "billion laughs" document (ten anchors, each a list of ten aliases of the one before) is
refused at the alias that passes the limit instead of being expanded to 10^10 nodes; the
guard against a hang is a subprocess with a generous timeout and a memory cap, never a
measured duration.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.errors import ValidationError
from engine.loader import check_workflow, load_workflow
from engine.yaml_source import MAX_ALIAS_NODES, MAX_BYTES, MAX_DEPTH
from tests.engine.documents import VALID, broken

ROOT = Path(__file__).resolve().parents[2]


def billion_laughs() -> str:
    lines = ["id: bomb", "name: bomb", "nodes: [{id: pull, type: t_pull}]", "x0: &a [a,a,a,a,a]"]
    anchors = "abcdefghij"
    for previous, anchor in zip(anchors, anchors[1:], strict=False):
        lines.append(f"x{anchor}: &{anchor} [" + ",".join([f"*{previous}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_the_bomb_is_small():
    assert len(billion_laughs().encode()) <= 600


@pytest.mark.parametrize("how", ["text", "file"])
def test_a_billion_laughs_is_refused_at_its_alias_without_expanding(how, tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs(), encoding="utf-8")
    call = (
        f"check_workflow('bomb.yaml', text=open({str(path)!r}).read())"
        if how == "text"
        else f"check_workflow({str(path)!r})"
    )
    script = textwrap.dedent(
        f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # a bomb dies, not the box
        import tests.engine.conftest  # the t_ node types
        from engine.loader import check_workflow
        for problem in {call}:
            print(problem)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,  # only the guard against a hang; a refused bomb takes a fraction of it
    )
    assert done.returncode == 0, done.stderr[-2000:]
    name = "bomb.yaml" if how == "text" else str(path)
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    assert lines[0].startswith(f"{name}:"), lines[0]
    line, column = (int(n) for n in lines[0][len(name) + 1 :].split(":")[:2])
    assert 5 <= line <= 13 and column > 1  # at one of the aliases, not at 1:1
    assert f"YAML aliases expand to more than {MAX_ALIAS_NODES} nodes" in lines[0]


MERGED = broken(
    "  - id: review\n    type: t_end\n    with: {status: review}\n",
    "  - id: review\n    type: t_end\n    with: &end {status: review}\n",
)
MERGED = broken(
    "  - id: awaiting_payment\n    type: t_end\n",
    "  - id: awaiting_payment\n    type: t_end\n    with: {<<: *end, status: awaiting}\n",
    MERGED,
)


def test_merge_keys_and_aliases_still_work_in_reasonable_documents():
    workflow = load_workflow("intake.yaml", text=MERGED)
    assert workflow.nodes["awaiting_payment"].config == {"status": "awaiting"}
    many = MERGED + "    description: [" + ",".join(["*end"] * 200) + "]\n"
    problems = check_workflow("intake.yaml", text=many)  # 200 aliases of 3 nodes: composed
    assert [p.message for p in problems] == [
        "nodes[7].description: [{'status': 'review'}, {'status': 'review'}, "
        + ", ".join(["{'status': 'review'}"] * 198)
        + "] is not of type 'string'"
    ]


def test_an_alias_inside_its_own_anchor_is_refused():
    text = broken("description: the intake flow", "description: &self [a, *self]")
    problems = check_workflow("intake.yaml", text=text)
    assert [str(p) for p in problems] == [
        "intake.yaml:3:24: YAML alias inside its own anchor (a recursive document); "
        "write the value out instead"
    ]


def test_deep_nesting_is_refused_with_its_place():
    deep = "[" * 5000 + "]" * 5000
    text = broken("description: the intake flow", f"description: {deep}")
    problems = check_workflow("intake.yaml", text=text)
    assert [str(p) for p in problems] == [
        f"intake.yaml:3:{13 + MAX_DEPTH}: nested deeper than {MAX_DEPTH} levels; "
        "a workflow needs far fewer"
    ]


def test_a_document_over_the_size_limit_is_refused_where_it_passes_the_limit(tmp_path):
    filler = "# " + "x" * 97 + "\n"  # 100 bytes a line
    text = VALID + filler * (MAX_BYTES // 100 + 10)
    over = len(VALID.encode()) + 100 * (MAX_BYTES // 100 + 10)
    with pytest.raises(ValidationError) as caught:
        load_workflow("big.yaml", text=text)
    (problem,) = caught.value.problems
    head = text.encode()[:MAX_BYTES].decode()
    assert (problem.line, problem.column) == (
        head.count("\n") + 1,
        len(head) - head.rfind("\n"),
    )
    assert problem.message == (
        f"the document is {over:,} bytes, over the limit of 1,000,000 bytes (1 MB) for a "
        "workflow: split it or remove what it does not need"
    )
    path = tmp_path / "big.yaml"
    path.write_text(text, encoding="utf-8")
    assert [(p.line, p.column, p.message) for p in check_workflow(path)] == [
        (problem.line, problem.column, problem.message)
    ]
    assert check_workflow("ok.yaml", text=VALID) == []  # a normal document is well under it
