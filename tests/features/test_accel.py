"""Loading the compiled kernels, and switching them off (not skipped when they are missing)."""

from __future__ import annotations

import importlib.util

import pytest

from vigil.features import _accel


def test_the_kernels_are_built_where_the_tests_run() -> None:
    # CI installs with a C compiler: a silently skipped build would make vigil slow.
    if _accel.switched_off:
        pytest.skip(f"{_accel.ENV_SWITCH}=0 switched the kernels off on purpose")
    assert _accel.kernels is not None, (
        "the compiled feature kernels were not built or do not load: "
        "reinstall with a C compiler (pip install -e .)"
    )


def test_the_environment_switch_turns_them_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_accel.ENV_SWITCH, "0")
    assert _accel.load() is None
    monkeypatch.setenv(_accel.ENV_SWITCH, "1")
    built = importlib.util.find_spec("vigil.features._kernels") is not None
    assert (_accel.load() is not None) == built


def test_numpy_only_switches_the_kernels_off_and_back() -> None:
    loaded = _accel.kernels
    with _accel.numpy_only():
        assert _accel.kernels is None
        with pytest.raises(RuntimeError, match="C compiler"):
            _accel.require()
    assert _accel.kernels is loaded
