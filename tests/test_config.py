"""Configuration: strict validation with messages naming key and file; overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from sf_spark.config import ConfigError, Settings, load_config

PROJECT = Path(__file__).resolve().parents[1]


def test_shipped_local_configuration_is_the_default():
    assert load_config(PROJECT / "conf" / "local.yaml") == Settings()


def test_shipped_cluster_configuration_is_valid():
    settings = load_config(PROJECT / "conf" / "cluster.yaml")
    assert settings.lake.writer == "native"
    assert "spark.sql.extensions" in settings.spark.extra


def test_unknown_key_is_named_with_the_file(tmp_path):
    conf = tmp_path / "bad.yaml"
    conf.write_text("lake:\n  rot: /tmp/lake\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*unknown key 'lake\.rot'"):
        load_config(conf)


def test_wrong_type_is_named(tmp_path):
    conf = tmp_path / "bad.yaml"
    conf.write_text("spark:\n  shuffle_partitions: many\n")
    with pytest.raises(ConfigError, match=r"key 'spark\.shuffle_partitions'.*'many'"):
        load_config(conf)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nowhere.yaml")


def test_command_line_overrides_the_file(tmp_path):
    conf = tmp_path / "c.yaml"
    conf.write_text("lake:\n  root: /from/file\nspark:\n  master: local[1]\n")
    settings = load_config(conf, {"lake.root": "/from/cli", "spark.master": None})
    assert settings.lake.root == "/from/cli"
    assert settings.spark.master == "local[1]"


def test_empty_file_gives_defaults(tmp_path):
    conf = tmp_path / "empty.yaml"
    conf.write_text("")
    assert load_config(conf) == Settings()


def test_the_administrations_are_named_once():
    from typing import get_args

    from sf_spark.administrations import ADMINISTRATIONS, RESTRICTED, Restricted

    assert get_args(Restricted) == RESTRICTED
    assert [a for a in ADMINISTRATIONS if a not in RESTRICTED] == ["insee", "agents"]
    assert sorted(Settings().scoring.profiles["full"]) == sorted(RESTRICTED)
