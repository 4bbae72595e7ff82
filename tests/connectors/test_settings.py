"""engine.settings: file, environment overrides, masking, errors, rendering."""

from __future__ import annotations

import tomllib

import pytest

from connectors.simulator.server import settings_for
from engine.errors import SettingsError
from engine.settings import load_settings, render_toml

TOML = """
[sf]
base_url = "https://sfapi.example.com"
partner_id = "P1"
check_word = "cw-file-secret"
timeout_s = 3

[db]
url = "sqlite:///file.db"
"""


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "orderhub.toml"
    path.write_text(TOML, encoding="utf-8")
    return path


def test_file_values_and_defaults(config_file):
    settings = load_settings(str(config_file), env={})
    assert settings.systems["sf"]["partner_id"] == "P1"
    assert settings.systems["sf"]["timeout_s"] == 3.0
    assert settings.systems["youzan"]["base_url"] == "http://127.0.0.1:8900"
    assert settings.db == "sqlite:///file.db"


@pytest.mark.parametrize(
    ("env", "system", "key", "value"),
    [
        ({"ORDERHUB_SF_CHECK_WORD": "cw-env"}, "sf", "check_word", "cw-env"),
        ({"ORDERHUB_YOUZAN_BASE_URL": "http://y"}, "youzan", "base_url", "http://y"),
        ({"ORDERHUB_WECOM_TIMEOUT_S": "1.5"}, "wecom", "timeout_s", 1.5),
        ({"ORDERHUB_DOUYIN_APP_KEY": "k"}, "douyin", "app_key", "k"),
    ],
)
def test_environment_overrides(config_file, env, system, key, value):
    assert load_settings(str(config_file), env=env).systems[system][key] == value


def test_config_path_and_db_from_environment(config_file):
    env = {"ORDERHUB_CONFIG": str(config_file), "ORDERHUB_DB": "postgresql://u:pw@h/orderhub"}
    settings = load_settings(env=env)
    assert settings.systems["sf"]["partner_id"] == "P1"
    assert settings.db == "postgresql://u:pw@h/orderhub"


def test_missing_default_file_means_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    assert settings.source is None
    assert set(settings.systems) == {"youzan", "douyin", "h5", "erp", "sf", "zto", "wecom"}


def test_named_but_missing_file_is_an_error(tmp_path):
    with pytest.raises(SettingsError, match="not found"):
        load_settings(str(tmp_path / "nope.toml"), env={})


def test_bad_toml_names_file_and_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[sf]\npartner_id = "P1"\ncheck_word = = "x"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as err:
        load_settings(str(path), env={})
    assert f"{path}:3:" in str(err.value)


def test_bad_number_is_an_error(config_file):
    with pytest.raises(SettingsError, match="timeout_s"):
        load_settings(str(config_file), env={"ORDERHUB_SF_TIMEOUT_S": "soon"})


def test_repr_masks_every_secret(config_file):
    env = {
        "ORDERHUB_YOUZAN_ACCESS_TOKEN": "tok-secret",
        "ORDERHUB_DOUYIN_APP_SECRET": "app-secret-x",
        "ORDERHUB_ERP_PASSWORD": "erp-pw-x",
        "ORDERHUB_WECOM_KEY": "bot-key-x",
        "ORDERHUB_H5_API_KEY": "h5-key-x",
        "ORDERHUB_DB": "postgresql://user:db-pw-x@host/db",
    }
    text = repr(load_settings(str(config_file), env=env)) + str(load_settings(str(config_file)))
    for secret in ["cw-file-secret", *env.values()][:-1] + ["db-pw-x"]:
        assert secret not in text
    assert "P1" in text  # the partner id is not a secret


def test_render_toml_round_trips(tmp_path):
    systems = settings_for("http://127.0.0.1:8900")
    path = tmp_path / "sim.toml"
    path.write_text(render_toml(systems), encoding="utf-8")
    assert tomllib.loads(path.read_text(encoding="utf-8")) == systems
    assert load_settings(str(path), env={}).systems["sf"] == systems["sf"]
