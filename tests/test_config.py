"""Profiles from vigil.toml, overridden by VIGIL_* variables, with errors that quote the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.config import Profile, load_profile
from vigil.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "vigil.toml"
    path.write_text(text)
    return path


def test_without_a_config_file_the_local_default_is_used() -> None:
    profile = load_profile(environ={})
    assert profile.name == "dev"
    assert profile.database == ".vigil/vigil.duckdb"
    assert profile.store == ".vigil/models"


def test_profile_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    write(tmp_path, '[profiles.dev]\ndatabase = "wh/dev.duckdb"\nstore = "s3://bucket/models"\n')
    sub = tmp_path / "notebooks"
    sub.mkdir()
    import os

    os.chdir(sub)
    profile = load_profile("dev", environ={})
    assert profile.database == str(tmp_path / "wh" / "dev.duckdb")
    assert profile.store == "s3://bucket/models"
    assert profile.source == str(tmp_path / "vigil.toml")


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    write(tmp_path, '[profiles.prod]\ndatabase = "prod.duckdb"\n')
    profile = load_profile(environ={"VIGIL_PROFILE": "prod", "VIGIL_STORE": "memory://models"})
    assert profile.name == "prod"
    assert profile.store == "memory://models"
    assert profile.database.endswith("prod.duckdb")


def test_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    write(tmp_path, "[profiles.dev]\n[profiles.prod]\n")
    with pytest.raises(ConfigError, match=r"no \[profiles.staging\].*dev, prod"):
        load_profile("staging", environ={})


def test_unknown_key_is_named_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[profiles.dev]\ndatabse = "x"\n')
    with pytest.raises(ConfigError, match=rf"{path}.*databse"):
        load_profile("dev", environ={})


def test_bad_engine_and_bad_toml_are_reported(tmp_path: Path) -> None:
    write(tmp_path, '[profiles.dev]\nengine = "oracle"\n')
    with pytest.raises(ConfigError, match=r"engine.*oracle.*duckdb"):
        load_profile("dev", environ={})
    write(tmp_path, "[profiles.dev\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_profile("dev", environ={})


def test_profile_round_trips_through_a_dict() -> None:
    profile = Profile(name="x", database="a.duckdb", store="s", detections=("powershell",))
    again = Profile.from_dict(profile.to_dict() | {}, name="x", source="test")
    assert again.to_dict() == profile.to_dict()


def test_detections_must_be_a_list_of_names_not_one_string(tmp_path: Path) -> None:
    path = write(tmp_path, '[profiles.dev]\ndetections = "powershell"\n')
    with pytest.raises(ConfigError, match=rf"{path}.*'detections' must be a list of names"):
        load_profile("dev", environ={})


def test_an_environment_override_is_named_in_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"with VIGIL_ENGINE: .*'oracle'"):
        load_profile("dev", environ={"VIGIL_ENGINE": "oracle"})
