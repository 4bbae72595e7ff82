"""Settings: `orderhub.toml` (or `$ORDERHUB_CONFIG`) plus `ORDERHUB_<SYSTEM>_<KEY>` overrides.

    [youzan]  base_url, access_token, client_id, client_secret (its pushes), timeout_s
    [douyin]  base_url, app_key, app_secret, access_token, timeout_s
    [h5]      base_url, api_key, webhook_secret, timeout_s
    [erp]     base_url, acct, user, password, timeout_s
    [sf]      base_url, partner_id, check_word, monthly_card, timeout_s
    [zto]     base_url, app_key, app_secret, account_id, account_password, timeout_s
              (the backup carrier; optional: built when its credentials are set)
    [wecom]   base_url, key, timeout_s
    [db]      url                      (or ORDERHUB_DB)
    [cli]     as = "USER:ROLE"         (or ORDERHUB_AS): who acts at the command line
              token = "oht_…"          (or ORDERHUB_TOKEN): the API token the CLI acts with
    [scheduler] summary_at = "08:30", timezone = "Asia/Shanghai", sender_every_s = 5,
              pushes_every_s = 5, sync_every_s = 10   (orderhub scheduler; these defaults)

Every system also takes timeout_s, retries, backoff_s, max_connections, breaker_threshold
(5), breaker_cooldown_s (the first cool-down, 2), breaker_max_cooldown_s (300), rate_per_s
(pace calls, e.g. 30 for SF's test environment) and rate_limit_wait_s (how long a
rate-limited call keeps trying; 60).

The doors read settings (the CLI at its entry, the API at start-up) and hand what a use
case needs to it; nothing below the doors reads them. A missing file means defaults.
Secrets never appear in `repr`; bad TOML raises `SettingsError` naming the file and line.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import SettingsError

SYSTEMS = ("youzan", "douyin", "h5", "erp", "sf", "zto", "wecom")
DEFAULT_FILE = "orderhub.toml"
DEFAULT_BASE_URL = "http://127.0.0.1:8900"
DEFAULT_TIMEOUT_S = 5.0
SECRET_KEYS = frozenset(
    {
        "access_token",
        "app_secret",
        "api_key",
        "webhook_secret",
        "client_secret",
        "password",
        "check_word",
        "key",
        "account_password",
    }
)
NUMBER_KEYS = {
    "timeout_s": float,
    "retries": int,
    "max_connections": int,
    "backoff_s": float,
    "breaker_threshold": int,
    "breaker_cooldown_s": float,
    "breaker_max_cooldown_s": float,
    "rate_per_s": float,
    "rate_limit_wait_s": float,
}
MASK = "***"


@dataclass
class Settings:
    """Everything read from the settings file and the environment."""

    systems: dict[str, dict[str, Any]] = field(default_factory=dict)
    db: str | None = None
    source: str | None = None
    cli_as: str | None = None  # [cli] as: who acts at the command line, USER:ROLE
    cli_token: str | None = None  # [cli] token: the API token the command line acts with
    scheduler: dict[str, Any] = field(default_factory=dict)  # [scheduler], as written

    def __repr__(self) -> str:
        systems = {name: mask(values) for name, values in self.systems.items()}
        return (
            f"Settings(systems={systems!r}, db={_mask_url(self.db)!r}, "
            f"source={self.source!r}, cli_as={self.cli_as!r}, "
            f"cli_token={MASK if self.cli_token else None!r}, scheduler={self.scheduler!r})"
        )

    __str__ = __repr__


def load_settings(path: str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read `path` (else `$ORDERHUB_CONFIG`, else ./orderhub.toml), then apply the environment."""
    env = os.environ if env is None else env
    file = Path(path or env.get("ORDERHUB_CONFIG") or DEFAULT_FILE)
    data: dict[str, Any] = {}
    source = None
    if file.is_file():
        data = _read_toml(file)
        source = str(file)
    elif path or env.get("ORDERHUB_CONFIG"):
        raise SettingsError(f"{file}: settings file not found; fix the path or ORDERHUB_CONFIG")
    systems = {name: _defaults() for name in SYSTEMS}
    for name, values in data.items():
        if name in _NOT_SYSTEMS:
            continue
        if not isinstance(values, dict):
            raise SettingsError(f"{file}: `{name}` must be a [table] of settings")
        systems.setdefault(name, _defaults()).update(values)
    db = _section(file, data, "db").get("url")
    cli_as = _section(file, data, "cli").get("as")
    if cli_as is not None and not isinstance(cli_as, str):
        raise SettingsError(f'{file}: [cli] as must be a string, e.g. as = "li.wei:ops_manager"')
    cli_token = _section(file, data, "cli").get("token")
    if cli_token is not None and not isinstance(cli_token, str):
        raise SettingsError(f'{file}: [cli] token must be a string, e.g. token = "oht_…"')
    _apply_env(systems, env)
    db = env.get("ORDERHUB_DB") or db
    for name, values in systems.items():
        for key, cast in NUMBER_KEYS.items():
            if key in values:
                values[key] = _cast(name, key, values[key], cast)
    scheduler = _section(file, data, "scheduler")
    return Settings(
        systems=systems,
        db=db,
        source=source,
        cli_as=cli_as,
        cli_token=cli_token,
        scheduler=scheduler,
    )


def render_toml(systems: Mapping[str, Mapping[str, Any]]) -> str:
    """The systems as an orderhub.toml text (strings, numbers and booleans)."""
    parts = []
    for name, values in systems.items():
        lines = [f"[{name}]"]
        for key, value in values.items():
            lines.append(f"{key} = {_toml_value(value)}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def mask(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of one system's settings with every secret replaced by ***."""
    return {k: (MASK if k in SECRET_KEYS and v else v) for k, v in values.items()}


_NOT_SYSTEMS = ("db", "cli", "scheduler")


def _section(file: Path, data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name) or {}
    if not isinstance(value, dict):
        raise SettingsError(f"{file}: `{name}` must be a [table] of settings")
    return value


def _defaults() -> dict[str, Any]:
    return {"base_url": DEFAULT_BASE_URL, "timeout_s": DEFAULT_TIMEOUT_S}


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+), column (\d+)", str(exc))
        where = f"{file}:{found.group(1)}:{found.group(2)}" if found else str(file)
        reason = re.sub(r"\s*\(at .*\)$", "", str(exc))
        raise SettingsError(f"{where}: invalid TOML ({reason}); fix the file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{file}: cannot read ({type(exc).__name__})") from None


def _apply_env(systems: dict[str, dict[str, Any]], env: Mapping[str, str]) -> None:
    for name, value in env.items():
        if not name.startswith("ORDERHUB_"):
            continue
        rest = name[len("ORDERHUB_") :].lower()
        system, _, key = rest.partition("_")
        if system in systems and key:
            systems[system][key] = value


def _cast(system: str, key: str, value: Any, cast: type) -> Any:
    try:
        return cast(value)
    except (TypeError, ValueError):
        raise SettingsError(
            f"[{system}] {key} = {value!r} is not a number; set it to e.g. 5"
        ) from None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def _mask_url(url: str | None) -> str | None:
    if not url:
        return url
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1" + MASK + "@", url)
