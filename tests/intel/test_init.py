"""vigil.intel's public names, and what importing it costs."""

from __future__ import annotations

import subprocess
import sys

import vigil.intel


def test_dunder_all_matches_the_namespace() -> None:
    public = {
        name
        for name, value in vars(vigil.intel).items()
        if not name.startswith("_") and not isinstance(value, type(sys)) and name != "annotations"
    }
    assert public == set(vigil.intel.__all__)


def test_importing_loads_no_client_and_no_heavy_library() -> None:
    code = "import sys, vigil.intel; print(' '.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    heavy = {
        "torch",
        "xgboost",
        "sklearn",
        "httpx",
        "sqlalchemy",
        "duckdb",
        "tldextract",
        "requests",
    }
    assert not {m.split(".")[0] for m in loaded} & heavy
