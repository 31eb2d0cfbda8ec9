"""Scores feature matrices with whatever model version an alias points to right now."""

from __future__ import annotations

import json
import threading
import time
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from vigil.defaults import (
    ALIAS_RECHECK_SECONDS_LOCAL,
    ALIAS_RECHECK_SECONDS_REMOTE,
    DEFAULT_ALIAS,
    ORT_THREADS,
)
from vigil.errors import (
    FeatureSpecMismatch,
    ModelError,
    ModelReloadWarning,
    StoreError,
)
from vigil.features import _accel
from vigil.features.base import FEATURE_STATE_KEY
from vigil.runtime.trees import CompiledTrees, Unsupported, compile_trees, probe_rows

if TYPE_CHECKING:
    from vigil.store import LoadedModel, ModelManifest, Store


#: Smaller batches of a tree model run in onnxruntime as a whole: the compiled walk checks
#: every node's indices on each call (~35 us for 15,000 nodes) and the graph after the
#: trees is a second onnxruntime call, together more than onnxruntime takes for a few rows
#: (one row: ~75 us against ~25 us; 2,048 rows: ~6 ms against ~17 ms).
TREE_KERNEL_MIN_ROWS = 32


class LoadedScorerModel:
    """One verified model version and its onnxruntime session."""

    def __init__(self, loaded: LoadedModel, *, threads: int = ORT_THREADS) -> None:
        self.manifest: ModelManifest = loaded.manifest
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(
                loaded.model_bytes, options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own, unexported exception types
            raise ModelError(
                f"model {self.manifest.ref} is not a loadable ONNX file: {exc}; "
                "re-export it or point the alias at another version"
            ) from exc
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise ModelError(
                f"model {self.manifest.ref} takes {len(inputs)} inputs; vigil models take one "
                "float32 matrix"
            )
        self.input_name = inputs[0].name
        width = inputs[0].shape[1] if len(inputs[0].shape) == 2 else None
        self.width = width if isinstance(width, int) else None
        self.feature_state = _feature_state(self.session, self.manifest.ref)
        outputs = [o.name for o in self.session.get_outputs()]
        self.logit_name = "logit" if "logit" in outputs else None
        if "probability" in outputs:
            self.output_name, self.column = "probability", None
        elif "probabilities" in outputs:
            self.output_name, self.column = "probabilities", 1
        else:
            self.output_name, self.column = outputs[0], None
        self.trees, self.trees_declined = _compiled_trees(self, loaded.model_bytes, threads)

    @property
    def engine(self) -> str:
        """What scores this model: ``"vigil trees"`` (the compiled tree walk, then
        onnxruntime for the nodes after it) or ``"onnxruntime"`` (the whole graph)."""
        return "vigil trees" if self.trees is not None else "onnxruntime"

    def outputs(self, names: list[str], features: NDArray[np.float32]) -> list[NDArray[Any]]:
        """The named graph outputs for ``features``, by :attr:`engine` (onnxruntime for
        batches under :data:`TREE_KERNEL_MIN_ROWS` rows either way: same outputs)."""
        if (
            self.trees is not None
            and _accel.kernels is not None  # a test or bench may switch them off later
            and features.shape[0] >= TREE_KERNEL_MIN_ROWS
        ):
            return list(self.trees.run(names, features))
        return list(self.session.run(names, {self.input_name: features}))

    def run(self, features: NDArray[np.float32], *, logit: bool = False) -> NDArray[np.float64]:
        """Probabilities, or log-odds with ``logit``.

        When the model exports its log-odds, the probability is computed from them in
        float64: a float32 sigmoid rounds every logit above ~17 to exactly 1.0, which ties
        the top of the ranking and makes thresholds for low false-positive rates useless.
        """
        if features.shape[0] == 0:
            return np.zeros(0, dtype=np.float64)
        if self.logit_name is not None:
            (raw,) = self.outputs([self.logit_name], features)
            log_odds = np.asarray(raw, dtype=np.float64).reshape(-1)
            if logit:
                return log_odds
            return np.asarray(np.exp(-np.logaddexp(0.0, -log_odds)), dtype=np.float64)
        (out,) = self.outputs([self.output_name], features)
        result = np.asarray(out)
        if self.column is not None and result.ndim == 2:
            result = result[:, self.column]
        result = result.reshape(-1).astype(np.float64)
        if logit:
            clipped = np.clip(result, 1e-12, 1 - 1e-12)
            return np.asarray(np.log(clipped / (1 - clipped)), dtype=np.float64)
        return result


def _compiled_trees(
    model: LoadedScorerModel, model_bytes: bytes, threads: int
) -> tuple[CompiledTrees | None, str | None]:
    """The model's trees compiled for the kernel, if the graph is a tree ensemble the
    kernel reproduces and it gives onnxruntime's outputs exactly on a probe batch; else
    None and why (the whole graph then runs in onnxruntime, as before)."""
    try:
        compiled = compile_trees(model_bytes, threads=threads)
    except Unsupported as exc:
        return None, str(exc)
    probe = probe_rows(compiled, model.width)
    names = [o.name for o in model.session.get_outputs()]
    expected = model.session.run(names, {model.input_name: probe})
    got = compiled.run(names, probe)
    for name, want, have in zip(names, expected, got, strict=True):
        if not np.array_equal(np.asarray(want), np.asarray(have), equal_nan=True):
            return None, f"the compiled trees differ from onnxruntime on {name!r} (probe batch)"
    return compiled, None


def _feature_state(session: ort.InferenceSession, ref: str) -> dict[str, Any] | None:
    """What the extractor learned at training time, stored inside the ONNX file.

    Fitted feature parameters (a language model of benign names, per-TLD risk) belong to
    one model version: keeping them in the model file puts them under its sha256 and
    swaps them together with the model.
    """
    text = session.get_modelmeta().custom_metadata_map.get(FEATURE_STATE_KEY)
    if text is None:
        return None
    try:
        state = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(f"model {ref}: its feature state is not valid JSON ({exc})") from exc
    if not isinstance(state, dict):
        raise ModelError(f"model {ref}: its feature state must be a JSON object")
    return state


class Scorer:
    """The model behind ``detection@alias``, re-checked cheaply before every batch.

    When the alias moves, the next :meth:`score` call loads the new version; if that
    version is tampered with or expects other features, it is refused with a
    :class:`~vigil.errors.ModelReloadWarning` and the previous version keeps serving.

    Args:
        store: where the model versions live.
        detection: the detection's name in the store.
        feature_spec: the feature spec id this code computes; models must match it.
        alias: the alias (or version number) to follow.
        recheck_seconds: minimum time between alias checks; by default every batch on a
            local store and every few seconds on object storage.
    """

    def __init__(
        self,
        store: Store,
        detection: str,
        *,
        feature_spec: str,
        alias: str = DEFAULT_ALIAS,
        recheck_seconds: float | None = None,
        threads: int = ORT_THREADS,
    ) -> None:
        self.store = store
        self.detection = detection
        self.alias = alias
        self.feature_spec = feature_spec
        self.threads = threads
        if recheck_seconds is None:
            recheck_seconds = (
                ALIAS_RECHECK_SECONDS_LOCAL if store.is_local else ALIAS_RECHECK_SECONDS_REMOTE
            )
        self.recheck_seconds = recheck_seconds
        self._lock = threading.Lock()
        self._model: LoadedScorerModel | None = None
        self._token: str | None = None
        self._checked_at = float("-inf")
        self.last_refused: str | None = None

    @property
    def manifest(self) -> ModelManifest:
        return self._current().manifest

    @property
    def threshold(self) -> float:
        return self.manifest.threshold

    def current(self) -> LoadedScorerModel:
        """The model serving now (the alias is re-checked if it is time to).

        Take it once per batch and use it for features and scores alike, so a swap in
        the middle of a batch cannot pair one version's features with another's model.
        """
        return self._current()

    def score(
        self,
        features: NDArray[np.float32],
        *,
        logit: bool = False,
        model: LoadedScorerModel | None = None,
    ) -> NDArray[np.float64]:
        """Probabilities (or log-odds) for each row of ``features``, from the alias's model."""
        model = model or self._current()
        if model.width is not None and features.shape[1] != model.width:
            raise FeatureSpecMismatch(
                f"model {model.manifest.ref} takes {model.width} features, got "
                f"{features.shape[1]}; retrain with `vigil train {self.detection}`"
            )
        return model.run(np.ascontiguousarray(features, dtype=np.float32), logit=logit)

    def refresh(self) -> bool:
        """Check the alias now; True if a new version was swapped in."""
        with self._lock:
            self._checked_at = float("-inf")
            before = self._model
            self._maybe_reload()
            return self._model is not before

    def _current(self) -> LoadedScorerModel:
        with self._lock:
            if time.monotonic() - self._checked_at >= self.recheck_seconds:
                self._maybe_reload()
            assert self._model is not None
            return self._model

    def _maybe_reload(self) -> None:
        self._checked_at = time.monotonic()
        token = self.store.alias_token(self.detection, self.alias)
        if self._model is not None and token == self._token:
            return
        try:
            candidate = self._load()
        except StoreError as exc:
            if self._model is None:
                raise
            self._refuse(str(exc), token)
            return
        except ModelError as exc:
            if self._model is None:
                raise
            self._refuse(str(exc), token)
            return
        self._model, self._token = candidate, token

    def _refuse(self, reason: str, token: str | None) -> None:
        assert self._model is not None
        # Remember the refused alias state so we do not retry (and warn) on every batch.
        self._token = token
        self.last_refused = reason
        warnings.warn(
            f"{reason}; {self._model.manifest.ref} keeps serving",
            ModelReloadWarning,
            stacklevel=4,
        )

    def _load(self) -> LoadedScorerModel:
        loaded = self.store.load(self.detection, self.alias)
        if loaded.manifest.feature_spec != self.feature_spec:
            raise FeatureSpecMismatch(
                f"model {loaded.manifest.ref} expects feature_spec "
                f"{loaded.manifest.feature_spec}, this vigil computes {self.feature_spec}; "
                f"retrain with `vigil train {self.detection}` or point the alias at a "
                "compatible version"
            )
        return LoadedScorerModel(loaded, threads=self.threads)
