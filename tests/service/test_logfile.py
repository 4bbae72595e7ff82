"""No error path prints personal data (issue 7, item 6): one line on the terminal, the trace
in the log file with phones and addresses masked; database errors carry no parameters."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from engine.store import Store
from engine.store import orders as order_store
from service import cli, running, runs
from service.logfile import mask_personal
from tests.engine.test_store_orders import order

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = str(ROOT / "workflows" / "order_intake.yaml")
PHONES = ["13812345678", "+86 139 8765 4321", "+8615011112222", "186-0000-1234"]
ADDRESS = "浙江省杭州市西湖区文三路123号5幢1203室"
RAW = {
    "receiver": {"name": "王芳", "phone": PHONES[0], "address": ADDRESS},
    "post_tel": PHONES[1],
    "post_addr": {"province": "浙江省", "detail": "文三路9号"},
    "receiver_tel": PHONES[2],
}
PERSONAL = [*PHONES, ADDRESS, "文三路9号", "王芳", "1203室"]


def leaked(text: str) -> list[str]:
    return [bit for bit in PERSONAL if bit in text]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call 13812345678 now", "call 138****5678 now"),
        ("call +86 138 1234 5678 now", "call 138****5678 now"),
        ("tel: 138-1234-5678.", "tel: 138****5678."),
        ("ship to 浙江省杭州市西湖区文三路123号5幢1203室 today", "ship to *** today"),
        ("{'phone': '+86 13812345678', 'sku': 'LIP-1'}", "{'phone': '***', 'sku': 'LIP-1'}"),
        ('{"receiver":{"name":"王芳","city":"杭州"},"amount":1}', '{"receiver":"***","amount":1}'),
        (
            '{"post_addr": {"detail": "路1号"}, "status": "paid"}',
            '{"post_addr": "***", "status": "paid"}',
        ),
        ("order YZ20260110000015 of 2026-01-10", "order YZ20260110000015 of 2026-01-10"),
    ],
)
def test_mask_personal(text: str, masked: str) -> None:
    assert mask_personal(text) == masked


def test_database_errors_do_not_carry_the_orders_they_were_writing(store: Store) -> None:
    with store.engine.begin() as conn:
        order_store.upsert_orders(conn, [(order(), RAW)])
    row = order_store._values(order(), RAW, "h", order().updated_at)
    with pytest.raises(IntegrityError) as failed, store.engine.begin() as conn:
        conn.execute(
            order_store._orders.insert(),
            [{**row, "channel": "youzan", "order_id": "YZ1", "status": "new"}],
        )
    assert leaked(str(failed.value)) == []
    assert "hidden due to hide_parameters" in str(failed.value)


@pytest.fixture
def config(tmp_path: Path) -> str:
    from connectors.simulator.server import settings_for
    from engine.settings import render_toml

    path = tmp_path / "orderhub.toml"
    path.write_text(render_toml(settings_for("http://127.0.0.1:9")), encoding="utf-8")
    return str(path)


def boom(*_args: object, **_kwargs: object) -> None:
    """A fault no input can cause: a bug that puts an order in its message."""
    raise RuntimeError(f'cannot ship {RAW!r}; raw page: {{"receiver_tel": "{PHONES[3]}"}}')


async def aboom(*args: object, **kwargs: object) -> None:
    boom(*args, **kwargs)


@pytest.mark.parametrize("command", ["run", "runs list"])
def test_an_unexpected_error_is_one_masked_line_and_a_masked_trace_in_the_log(
    command: str,
    tmp_path: Path,
    config: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = tmp_path / "logs" / "orderhub.log"
    log.parent.mkdir()
    monkeypatch.setenv("ORDERHUB_LOG", str(log))
    db = ["--db", str(tmp_path / "o.db")]
    if command == "run":
        monkeypatch.setattr(running, "run_intake", aboom)
        argv = ["run", WORKFLOW, *db, "--config", config]
    else:
        monkeypatch.setattr(runs, "list_stopped", boom)
        argv = ["runs", "list", *db, "--as", "li.wei:ops_manager"]
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert leaked(out + err) == []
    last = err.strip().splitlines()[-1]
    assert last.startswith("unexpected error: RuntimeError: cannot ship {'receiver': '***'")
    assert last.endswith(f"; the trace is in {log}")
    assert "Traceback" not in out + err
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "RuntimeError" in text
    assert leaked(text) == []
    assert "'receiver': '***'" in text and '"receiver_tel": "***"' in text
