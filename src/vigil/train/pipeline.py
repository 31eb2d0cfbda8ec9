"""Train a detection's model end to end: split, augment, featurize, fit, export, publish."""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from vigil.datasets.powershell import content_key
from vigil.defaults import (
    BATCH_ROWS,
    MIN_ALERT_THRESHOLD,
    MIN_NEGATIVES_ABOVE_THRESHOLD,
    TARGET_FPR,
)
from vigil.errors import DataError
from vigil.features import get_extractor
from vigil.features.base import Extractor
from vigil.runtime.detection import BUILTIN_DETECTIONS, Detection
from vigil.store import ModelManifest, Store
from vigil.train.data import Labelled

#: Share of training rows that also appear re-launched as `powershell.exe <flags>
#: -EncodedCommand <base64>`, benign and malicious alike: fleets launch benign work that
#: way all day, so the wrapper must carry no label by itself. Every row: at 0.25 the
#: launch switches kept +1 log-odds on the shared data (encoded launches are common among
#: its malicious rows) and short benign commands moved by up to 0.25 once re-launched.
ENCODED_RELAUNCH_SHARE = 1.0

#: Share of malicious training rows that also appear obfuscated (case, ticks, carets,
#: concatenation) so the model sees what the normalizer leaves behind.
OBFUSCATED_SHARE = 0.25

Progress = Callable[[str, int, int], None]

#: Extractors whose detections train gradient-boosted trees rather than a network.
TREE_EXTRACTORS = frozenset({"domain", "ip"})


@dataclass(frozen=True)
class TrainingReport:
    manifest: ModelManifest
    metrics: dict[str, float]
    n_train: int
    n_validation: int
    n_augmented: int
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class TrainingRun:
    """What a trainer is told besides its data and model config: how to split, where to
    publish, what to report. The network and the tree trainers both end in :meth:`publish`."""

    store: Store
    validation_share: float = 0.2
    target_fpr: float = TARGET_FPR
    augment_data: bool = True
    alias: str | None = "production"
    seed: int = 0
    progress: Progress | None = None
    started: float = field(default_factory=time.perf_counter)

    def rounds(self, stage: str) -> Callable[[int, int, dict[str, float]], None]:
        """A per-epoch or per-round callback that reports ``stage`` to :attr:`progress`."""

        def report(done: int, total: int, _: dict[str, float]) -> None:
            if self.progress:
                self.progress(stage, done, total)

        return report

    def publish(
        self,
        detection: str,
        model_bytes: bytes,
        *,
        feature_spec: str,
        x_validation: NDArray[np.float32],
        y_validation: NDArray[np.int64],
        training_data: str,
        params: dict[str, Any],
        n_train: int,
        n_augmented: int,
        history: list[dict[str, float]] | None = None,
        no_signal_hint: str = "",
    ) -> TrainingReport:
        """Choose the alert threshold on validation data, publish the model file and
        report on the whole run.

        The threshold and metrics come from the exported ONNX model: what will actually run.
        A model that ranks validation rows no better than chance is not published (a
        constant one would alert on everything at its threshold): :class:`DataError`, with
        ``no_signal_hint`` saying what the caller knows of why.
        """
        from vigil.runtime.scorer import LoadedScorerModel
        from vigil.store import LoadedModel
        from vigil.train.evaluate import Metrics, threshold_for_fpr

        probe = LoadedScorerModel(
            LoadedModel(
                ModelManifest(detection, 0, hashlib.sha256(model_bytes).hexdigest(), "", 0.5),
                model_bytes,
            )
        )
        validation_scores = probe.run(x_validation)
        metrics = {
            k: float(v)
            for k, v in Metrics.from_scores(y_validation, validation_scores).to_dict().items()
        }
        _require_better_than_chance(
            detection, y_validation, validation_scores, no_signal_hint, auc=metrics["roc_auc"]
        )
        # Never alert below even odds: on cleanly separable data the FPR threshold alone can
        # fall to 0.002 and raise alerts on scores an analyst would read as "benign".
        # A threshold for FPR f needs f * n_negatives validation rows above it to be estimated;
        # with ~1,000 negatives and f = 1e-3 one mislabelled row would set it alone.
        n_negatives = int((y_validation == 0).sum())
        effective_fpr = max(self.target_fpr, MIN_NEGATIVES_ABOVE_THRESHOLD / max(n_negatives, 1))
        threshold = float(
            np.clip(
                threshold_for_fpr(y_validation, validation_scores, effective_fpr),
                MIN_ALERT_THRESHOLD,
                1.0,
            )
        )
        manifest = self.store.publish(
            detection,
            model_bytes,
            feature_spec=feature_spec,
            threshold=threshold,
            metrics=metrics,
            training_data=training_data,
            params={**params, "target_fpr": self.target_fpr, "threshold_fpr": effective_fpr},
            alias=self.alias,
        )
        return TrainingReport(
            manifest,
            metrics,
            n_train,
            len(y_validation),
            n_augmented,
            time.perf_counter() - self.started,
            history or [],
        )


def _require_better_than_chance(
    detection: str,
    y: NDArray[np.int64],
    scores: NDArray[np.float64],
    hint: str,
    *,
    auc: float | None = None,
) -> None:
    """Refuse a model whose validation ROC AUC chance alone would reach (``auc``: the ROC
    AUC of ``scores`` when the caller has it already).

    Under no signal the AUC is 0.5 with standard error ``sqrt((n+ + n- + 1) / (12 n+ n-))``
    (Mann-Whitney); the model must beat 0.5 by three of those: 0.51 on 20,000 rows, 0.58
    on 500.
    """
    positives = int((y == 1).sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return
    needed = 0.5 + 3.0 * math.sqrt((positives + negatives + 1) / (12.0 * positives * negatives))
    if auc is None:
        from vigil.train.evaluate import roc_auc

        auc = roc_auc(y, scores)
    if auc <= needed:
        same = " (every row the same score)" if np.ptp(scores) == 0 else ""
        raise DataError(
            f"the trained {detection} model ranks validation rows no better than chance: "
            f"ROC AUC {auc:.4f}{same}, where {positives} malicious and {negatives} benign rows "
            f"need more than {needed:.4f}; its features carry no signal on this data, so it "
            f"was not published.{hint}"
        )


def require_both_classes(
    y_train: NDArray[np.int64], y_validation: NDArray[np.int64], hint: str = ""
) -> None:
    """Refuse a split side with one class: nothing could be learned or measured on it."""
    for side, labels in (("training", y_train), ("validation", y_validation)):
        malicious = int(labels.sum())
        benign = len(labels) - malicious
        if malicious == 0 or benign == 0:
            raise DataError(
                f"the {side} split has {malicious} malicious and {benign} benign rows, and "
                f"it needs both: provide more labelled rows of each class (label 1: "
                f"malicious, 0: benign){hint}"
            )


@dataclass(frozen=True)
class _Groups:
    """Rows grouped by a near-copy key, with each group's side of the split."""

    group: NDArray[np.int64]  # per row: its group
    validation: NDArray[np.bool_]  # per group: on the validation side
    conflicted: NDArray[np.bool_]  # per group: carries both labels
    sizes: NDArray[np.int64]  # per group: rows


def _group_sides(
    keys: pa.Array, labels: NDArray[np.int64], validation_share: float, seed: int
) -> _Groups:
    encoded = pc.dictionary_encode(keys)
    group = np.asarray(pc.fill_null(encoded.indices, 0), dtype=np.int64)
    n_groups = len(encoded.dictionary)
    positives = np.bincount(group, weights=labels, minlength=n_groups)
    sizes = np.bincount(group, minlength=n_groups)
    # Salted with its purpose: test splits made elsewhere with the same "seed:key" hash
    # (ours in bench/ do) would otherwise leave no key of a training file on this side.
    salt = f"vigil-validation:{seed}:".encode()
    bucket = np.array(
        [
            int.from_bytes(hashlib.blake2b(salt + str(k).encode(), digest_size=4).digest(), "big")
            for k in encoded.dictionary.to_pylist()
        ],
        dtype=np.int64,
    )  # per distinct key: a stable hash decides its side of the split
    return _Groups(
        group=group,
        validation=(bucket % 10_000) < int(validation_share * 10_000),
        conflicted=(positives > 0) & (positives < sizes),
        sizes=sizes,
    )


def split_by_content(
    data: Labelled, *, validation_share: float, seed: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], int]:
    """Deduplicate on content and split so no content is on both sides.

    Returns train row indices, validation row indices and the number of rows dropped
    because the same content carried both labels.
    """
    keys = content_key(data.text)
    return split_by_group(keys, keys, data.label, validation_share=validation_share, seed=seed)


def split_by_group(
    values: pa.Array,
    keys: pa.Array,
    labels: NDArray[np.int64],
    *,
    validation_share: float,
    seed: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64], int]:
    """Deduplicate ``values`` and split so that no ``key`` is on both sides.

    For entities the key is what makes two values near-copies: the registered domain of
    a name, the /24 of an address. Values whose rows disagree on the label are dropped.
    """
    groups = _group_sides(keys, labels, validation_share, seed)
    by_value = groups if values is keys else _group_sides(values, labels, validation_share, seed)
    _, first = np.unique(by_value.group, return_index=True)
    first = first[~by_value.conflicted[by_value.group[first]]]
    validation = first[groups.validation[groups.group[first]]]
    train = first[~groups.validation[groups.group[first]]]
    return np.sort(train), np.sort(validation), int(by_value.sizes[by_value.conflicted].sum())


def augment(
    text: list[str], label: NDArray[np.int64], seed: int
) -> tuple[list[str], NDArray[np.int64]]:
    """Encoded re-launches of both classes and obfuscated malicious rows."""
    from vigil.datasets.obfuscation import OBFUSCATIONS

    rng = random.Random(seed)
    extra_text: list[str] = []
    extra_label: list[int] = []
    for value, y in zip(text, label.tolist(), strict=True):  # per row: generating variants
        if len(value) > 20_000:
            continue
        if rng.random() < ENCODED_RELAUNCH_SHARE:
            extra_text.append(OBFUSCATIONS["encode_command"](value, rng))
            extra_label.append(y)
        if y == 1 and rng.random() < OBFUSCATED_SHARE:
            obfuscated = value
            for name in rng.sample(["random_case", "insert_ticks", "split_strings"], k=2):
                obfuscated = OBFUSCATIONS[name](obfuscated, rng)
            extra_text.append(obfuscated)
            extra_label.append(y)
    return text + extra_text, np.concatenate([label, np.asarray(extra_label, dtype=np.int64)])


def featurize(
    extractor: Extractor, text: pa.Array | list[str], progress: Progress | None = None
) -> NDArray[np.float32]:
    """Features of every row, in batches, as one matrix."""
    array = text if isinstance(text, pa.Array) else pa.array(text, type=pa.large_string())
    parts = []
    for start in range(0, len(array), BATCH_ROWS):
        parts.append(extractor.transform(array.slice(start, BATCH_ROWS)).values)
        if progress:
            progress("features", min(start + BATCH_ROWS, len(array)), len(array))
    if not parts:
        return np.zeros((0, extractor.spec.width), dtype=np.float32)
    return np.concatenate(parts)


def train_detection(
    detection: Detection | str,
    data: Labelled,
    store: Store,
    *,
    config: Any = None,
    validation_share: float = 0.2,
    target_fpr: float = TARGET_FPR,
    augment_data: bool = True,
    alias: str | None = "production",
    seed: int = 0,
    intel: Any = None,
    progress: Progress | None = None,
) -> TrainingReport:
    """Train, export to ONNX, publish a new version and (by default) move ``alias`` to it.

    Script detections (PowerShell) train a feed-forward network; entity detections
    (domain, IP) train gradient-boosted trees, with ``intel`` (a threat-intelligence
    snapshot) feeding their lookup features. ``augment_data`` adds training-side
    variants: obfuscated and re-encoded scripts, domain labels shown under benign parents.
    """
    if isinstance(detection, str):
        detection = BUILTIN_DETECTIONS[detection]
    run = TrainingRun(
        store,
        validation_share=validation_share,
        target_fpr=target_fpr,
        augment_data=augment_data,
        alias=alias,
        seed=seed,
        progress=progress,
    )
    if detection.extractor in TREE_EXTRACTORS:
        from vigil.train.entity import train_tree_detection

        return train_tree_detection(detection, data, run, config=config, intel=intel)
    return _train_feed_forward(detection, data, run, config=config)


def _train_feed_forward(
    detection: Detection, data: Labelled, run: TrainingRun, *, config: Any = None
) -> TrainingReport:
    from vigil.train.entity import attach_feature_state, extractor_state
    from vigil.train.export import export_onnx
    from vigil.train.mlp import MLPConfig, train_nets

    extractor = get_extractor(detection.extractor)
    config = config or MLPConfig(seed=run.seed)

    train_rows, validation_rows, conflicted = split_by_content(
        data, validation_share=run.validation_share, seed=run.seed
    )
    require_both_classes(data.label[train_rows], data.label[validation_rows])
    train_text = data.text.take(pa.array(train_rows)).to_pylist()
    train_label = data.label[train_rows]
    n_original = len(train_text)
    if run.augment_data:
        train_text, train_label = augment(train_text, train_label, run.seed)
    validation_text = data.text.take(pa.array(validation_rows))
    validation_label = data.label[validation_rows]

    # The wide part (PowerShell): a linear model over hashed character n-grams whose
    # log-odds are one input column. The network learns from out-of-fold log-odds (what
    # unseen rows get); validation and serving use weights fitted on every training row.
    wide: Any = None
    if hasattr(extractor, "content") and hasattr(extractor, "with_wide"):
        from vigil.train.wide import WideConfig, fit_wide

        def on_fit(done: int, total: int) -> None:
            if run.progress:
                run.progress("wide part", done, total)

        unfitted: Any = extractor
        wide = fit_wide(unfitted, train_text, train_label, WideConfig(seed=run.seed), on_fit)
        extractor = wide.extractor

    x_train = featurize(extractor, train_text, run.progress)
    x_validation = featurize(extractor, validation_text, run.progress)
    if wide is not None:
        x_train[:, wide.extractor.wide_column] = wide.out_of_fold
        if config.offset_column is None:
            # The net corrects the wide log-odds instead of taking them as one more input:
            # stacked, it memorised through the hashed columns and ignored them.
            from dataclasses import replace

            config = replace(config, offset_column=wide.extractor.wide_column)

    results = train_nets(
        x_train,
        train_label,
        x_validation,
        validation_label,
        config,
        progress=run.rounds("training"),
    )
    model_bytes = export_onnx(
        [result.model for result in results],
        extractor.spec.width,
        feature_names=extractor.spec.names,
    )
    model_bytes = attach_feature_state(model_bytes, extractor_state(extractor))

    params = {
        "model": "feed-forward",
        "config": config.to_dict(),
        "n_train": n_original,
        "n_augmented": len(train_text) - n_original,
        "n_validation": len(validation_rows),
        "conflicting_rows_dropped": conflicted,
        "best_epoch": [result.best_epoch for result in results],
    }
    if wide is not None:
        params["wide"] = wide.summary
    return run.publish(
        detection.name,
        model_bytes,
        feature_spec=extractor.spec.id,
        x_validation=x_validation,
        y_validation=validation_label,
        training_data=data.fingerprint(),
        params=params,
        n_train=n_original,
        n_augmented=len(train_text) - n_original,
        history=[
            {**record, "net": k} for k, result in enumerate(results) for record in result.history
        ],
    )
