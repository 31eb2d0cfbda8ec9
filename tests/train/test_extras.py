"""Without torch, vigil.train still imports and says which extra to install."""

from __future__ import annotations

import subprocess
import sys

WITHOUT_TORCH = """
import sys


# As if torch were not installed. sys.modules["torch"] = None would block the import too,
# but scipy's array-API helpers (under sklearn) then trip over the None entry.
class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoTorch())
import vigil.train
from vigil.errors import MissingExtra
from vigil.train.evaluate import roc_auc
assert roc_auc([0, 1], [0.2, 0.8]) == 1.0
try:
    vigil.train.train_mlp
except MissingExtra as exc:
    print(exc.module, exc.extra, exc)
"""


def test_missing_torch_raises_missing_extra_naming_the_train_extra() -> None:
    out = subprocess.run(
        [sys.executable, "-c", WITHOUT_TORCH], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("torch train ")
    assert "pip install 'vigil[train]'" in out.stdout


def test_importing_vigil_train_does_not_import_torch() -> None:
    code = "import sys, vigil.train, vigil.train.evaluate; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
