"""A small feed-forward network over a feature matrix, trained deterministically from a seed."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from vigil.errors import ConfigError, DataError, MissingExtra, ModelError
from vigil.train._arrays import binary_labels, feature_matrix, same_width
from vigil.train._config import check_fields, class_weight, is_int, is_real, known_keys

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError as exc:  # the `train` extra is not installed
    raise MissingExtra("torch", "train") from exc

#: A column whose training standard deviation is below this is treated as constant: it is
#: centred but not scaled (scale 1), so a value never seen in training cannot be blown up
#: by a division by ~0 at run time.
CONSTANT_STD = 1e-6

#: Floor for every other column's scale. A 0/1 column that is set in a fraction p of rows has
#: std ~ sqrt(p); the floor caps the amplification of indicators rarer than 1 row in 10,000
#: at 100x, so one rare match cannot saturate the first layer on its own.
MIN_STD = 1e-2

#: Rows per forward pass when scoring the validation set (bounds memory, not speed).
_EVAL_ROWS = 8192

ClassWeight = Literal["balanced", "none"] | float
Progress = Callable[[int, int, dict[str, float]], None]


@dataclass(frozen=True)
class MLPConfig:
    """Hyper-parameters of :func:`train_mlp`; round-trips through :meth:`to_dict`.

    The default nets are small on purpose: scoring runs in onnxruntime on one core per
    DuckDB thread, and the first layers (features x 32, per net) dominate the cost per
    row. On the shared PowerShell data three nets of (32, 16) measured level with three
    of (64, 32) over three seeds, at half the scoring cost.

    ``class_weight`` weighs the positive class in the loss: ``"balanced"`` uses
    n_negative / n_positive of the training set, ``"none"`` 1, a float that value. A
    weighted model's probabilities are not calibrated to the base rate; alert thresholds
    are chosen on the validation false-positive rate instead.

    ``offset_column`` makes the net a correction on top of one input column that already
    is a log-odds (PowerShell's ``wide_logit``): logit = s * x[:, column] + f(x), the loss
    on that sum, s a scalar learned from 1 without weight decay (it can damp a
    miscalibrated column). Stacked as a plain input, the net memorised through the hashed
    n-gram columns and under-used the stronger wide score; as an offset it starts from it
    and only learns what it misses. None: no offset, the plain net.

    ``nets`` independent nets (seeds ``seed``, ``seed + 1``, ...) are trained on the same
    features and exported as one model whose logit is the mean of theirs
    (:func:`train_nets`). On the shared PowerShell data single nets ranged from 0.61 to
    0.85 in TPR at FPR 1e-3 by seed alone; the mean of three is steadier. The first layer
    then costs ``nets`` times as much to score.
    """

    hidden: tuple[int, ...] = (32, 16)
    dropout: float = 0.5  # heavy: sweeps on the shared data (README) favoured 0.5 over 0.1-0.3
    negative_slope: float = 0.01
    learning_rate: float = 2e-3
    weight_decay: float = 1e-2
    batch_size: int = 256
    max_epochs: int = 40
    patience: int = 5
    class_weight: ClassWeight = "balanced"
    seed: int = 0
    offset_column: int | None = None
    nets: int = 3

    def __post_init__(self) -> None:
        hidden = tuple(self.hidden)
        if not hidden or not all(is_int(h) and h > 0 for h in hidden):
            raise ConfigError(
                f"MLPConfig.hidden must be one or more positive layer widths, got {self.hidden!r}"
            )
        object.__setattr__(self, "hidden", hidden)
        check_fields(
            self,
            [
                ("dropout", is_real(self.dropout) and 0.0 <= self.dropout < 1.0, "in [0, 1)"),
                (
                    "negative_slope",
                    is_real(self.negative_slope) and self.negative_slope >= 0,
                    ">= 0",
                ),
                ("learning_rate", is_real(self.learning_rate) and self.learning_rate > 0, "> 0"),
                ("weight_decay", is_real(self.weight_decay) and self.weight_decay >= 0, ">= 0"),
                ("batch_size", is_int(self.batch_size) and self.batch_size >= 2, "an int >= 2"),
                ("max_epochs", is_int(self.max_epochs) and self.max_epochs >= 1, "an int >= 1"),
                ("patience", is_int(self.patience) and self.patience >= 1, "an int >= 1"),
                ("seed", is_int(self.seed) and 0 <= self.seed < 2**63, "an int in [0, 2**63)"),
                (
                    "offset_column",
                    self.offset_column is None
                    or (is_int(self.offset_column) and self.offset_column >= 0),
                    "None or an int >= 0",
                ),
                ("nets", is_int(self.nets) and 1 <= self.nets <= 16, "an int 1..16"),
            ],
        )
        object.__setattr__(self, "class_weight", class_weight(self, self.class_weight))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (``hidden`` as a list)."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["hidden"] = list(self.hidden)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MLPConfig:
        """The config :meth:`to_dict` wrote; missing keys take their defaults."""
        values = known_keys(cls, data, (f.name for f in fields(cls)))
        if "hidden" in values:
            hidden = values["hidden"]
            if not isinstance(hidden, Sequence) or isinstance(hidden, str):
                raise ConfigError(f"MLPConfig.hidden must be a list of ints, got {hidden!r}")
            values["hidden"] = tuple(hidden)
        return cls(**values)


class HiddenLayer(nn.Module):
    """Linear -> BatchNorm1d -> LeakyReLU -> Dropout.

    The linear layer has no bias: the batch norm's shift that follows makes it redundant.
    """

    def __init__(self, n_in: int, n_out: int, *, negative_slope: float, dropout: float) -> None:
        super().__init__()
        self.linear = nn.Linear(n_in, n_out, bias=False)
        self.norm = nn.BatchNorm1d(n_out)
        self.negative_slope = negative_slope
        self.dropout = dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z: torch.Tensor = self.norm(self.linear(x))
        z = F.leaky_relu(z, self.negative_slope)
        return F.dropout(z, self.dropout, training=self.training)


class FeedForwardNet(nn.Module):
    """Standardize the input, then hidden layers, then one logit per row.

    With ``offset_column`` set, the logit is ``offset_scale * x[:, offset_column]`` (the
    raw column, not standardized) plus the net's output: the net is a correction to a
    score that already is a log-odds. ``offset_scale`` is a learned scalar, 1 at first.

    ``mean`` and ``std`` are buffers fitted on the training matrix by
    :meth:`fit_standardization`; :func:`vigil.train.export.export_onnx` folds them and the
    batch norms into plain Gemm nodes.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        n_features: int,
        hidden: Sequence[int] = (32, 16),
        *,
        negative_slope: float = 0.01,
        dropout: float = 0.1,
        offset_column: int | None = None,
    ) -> None:
        super().__init__()
        if n_features < 1 or not hidden:
            raise ModelError(
                f"a feed-forward net needs >= 1 feature and >= 1 hidden layer, got "
                f"{n_features} features and hidden={tuple(hidden)!r}"
            )
        if offset_column is not None and not 0 <= offset_column < n_features:
            raise ModelError(
                f"offset column {offset_column} is outside the {n_features} input columns"
            )
        self.offset_column = offset_column
        self.offset_scale: nn.Parameter | None = None
        if offset_column is not None:
            self.offset_scale = nn.Parameter(torch.ones(()))
        self.n_features = n_features
        self.hidden = tuple(hidden)
        self.negative_slope = negative_slope
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("std", torch.ones(n_features))
        widths = (n_features, *self.hidden)
        self.layers = nn.ModuleList(
            HiddenLayer(a, b, negative_slope=negative_slope, dropout=dropout)
            for a, b in itertools.pairwise(widths)
        )
        self.head = nn.Linear(widths[-1], 1)

    def hidden_layers(self) -> list[HiddenLayer]:
        return [layer for layer in self.layers if isinstance(layer, HiddenLayer)]

    @property
    def architecture(self) -> str:
        """One line naming the shape, recorded in exported models."""
        widths = "-".join(str(w) for w in (self.n_features, *self.hidden, 1))
        offset = "" if self.offset_column is None else f" offset=column[{self.offset_column}]"
        return (
            f"vigil.feed_forward/1 widths={widths} activation=leaky_relu({self.negative_slope})"
            f"{offset} output=sigmoid"
        )

    @torch.no_grad()
    def fit_standardization(self, x: NDArray[np.float32]) -> None:
        """Set ``mean`` and ``std`` from a training matrix (computed in float64)."""
        mean = x.mean(axis=0, dtype=np.float64)
        squares = np.zeros(x.shape[1], dtype=np.float64)
        for start in range(0, x.shape[0], 65536):  # chunks: no full float64 copy of x
            centred = x[start : start + 65536].astype(np.float64) - mean
            squares += np.einsum("ij,ij->j", centred, centred)
        std = np.sqrt(squares / max(x.shape[0], 1))
        std = np.where(std < CONSTANT_STD, 1.0, np.maximum(std, MIN_STD))
        self.mean.copy_(torch.from_numpy(mean))
        self.std.copy_(torch.from_numpy(std))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, shape ``[N]``."""
        z = (x - self.mean) / self.std
        for layer in self.layers:
            z = layer(z)
        out: torch.Tensor = self.head(z).squeeze(-1)
        if self.offset_column is not None and self.offset_scale is not None:
            out = out + self.offset_scale * x[:, self.offset_column]
        return out


@dataclass
class TrainResult:
    """The trained net (best epoch's weights, eval mode) and what happened per epoch.

    ``history`` has one dict per epoch run: ``epoch`` (from 1), ``train_loss``,
    ``val_loss`` and ``val_auc``; ``best_epoch`` is the epoch whose weights ``model`` holds.
    """

    model: FeedForwardNet
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0


def train_mlp(
    x_train: ArrayLike,
    y_train: ArrayLike,
    x_val: ArrayLike,
    y_val: ArrayLike,
    config: MLPConfig = MLPConfig(),  # frozen: a shared default is safe
    *,
    progress: Progress | None = None,
    threads: int | None = None,
) -> TrainResult:
    """Fit a :class:`FeedForwardNet` with AdamW and early stopping on validation loss.

    The run is deterministic: the same data, config and seed give bit-identical weights
    on the same machine and torch thread count. Global torch RNG state, the
    deterministic-algorithms flag and the thread count are restored afterwards.

    Args:
        x_train: float32 feature matrix, one row per example.
        y_train: 0/1 labels, 1 = malicious.
        x_val: validation matrix with the same columns; early stopping watches its loss
            (with the same class weighting as training).
        y_val: validation labels.
        config: hyper-parameters.
        progress: called after every epoch with ``(epoch, max_epochs, record)``.
        threads: torch intra-op threads for this run; None keeps torch's setting. On
            shared or oversubscribed machines 1 is steadier: with 2 threads on 2 busy
            vCPUs, a 20k x 1,400 epoch took 0.4 s to 7 s, with 1 thread 0.6 s to 1.5 s.

    Returns:
        The net restored to its best epoch, in eval mode, with the per-epoch history.

    Raises:
        DataError: shapes disagree, values are not finite, labels are not 0/1, or the
            training set has only one class.
        ModelError: training diverged (no epoch had a finite validation loss).
    """
    from vigil.train.evaluate import roc_auc

    xt_np = feature_matrix(x_train, "x_train", missing_allowed=False)
    xv_np = feature_matrix(x_val, "x_val", missing_allowed=False)
    same_width(xt_np, xv_np, "x_train", "x_val")
    if config.offset_column is not None and config.offset_column >= xt_np.shape[1]:
        raise DataError(
            f"MLPConfig.offset_column is {config.offset_column} but the matrix has "
            f"{xt_np.shape[1]} columns"
        )
    yt_np = binary_labels(y_train, xt_np.shape[0], "y_train")
    yv_np = binary_labels(y_val, xv_np.shape[0], "y_val")
    n_pos = int(yt_np.sum())
    n_neg = int(yt_np.shape[0] - n_pos)
    if n_pos == 0 or n_neg == 0:
        raise DataError(
            f"the training set has {n_pos} positive and {n_neg} negative rows; "
            "provide both malicious (1) and benign (0) examples"
        )
    if xt_np.shape[0] < 2 or xv_np.shape[0] < 1:
        raise DataError(
            f"need >= 2 training rows and >= 1 validation row, got {xt_np.shape[0]} and "
            f"{xv_np.shape[0]}"
        )
    if config.class_weight == "balanced":
        pos_weight: float | None = n_neg / n_pos
    elif config.class_weight == "none":
        pos_weight = None
    else:
        pos_weight = float(config.class_weight)

    with _deterministic(config.seed, threads):
        model = FeedForwardNet(
            xt_np.shape[1],
            config.hidden,
            negative_slope=config.negative_slope,
            dropout=config.dropout,
            offset_column=config.offset_column,
        )
        model.fit_standardization(xt_np)
        x_tr = torch.from_numpy(xt_np)
        y_tr = torch.from_numpy(yt_np.astype(np.float32))
        x_va = torch.from_numpy(xv_np)
        y_va = torch.from_numpy(yv_np.astype(np.float32))
        weight = None if pos_weight is None else torch.tensor(pos_weight, dtype=torch.float32)

        def loss_fn(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            return F.binary_cross_entropy_with_logits(logits, target, pos_weight=weight)

        # Weight decay on the weight matrices only, not on biases or batch-norm scales.
        decayed = [p for p in model.parameters() if p.ndim >= 2]
        plain = [p for p in model.parameters() if p.ndim < 2]
        optimizer = torch.optim.AdamW(
            [
                {"params": decayed, "weight_decay": config.weight_decay},
                {"params": plain, "weight_decay": 0.0},
            ],
            lr=config.learning_rate,
        )
        generator = torch.Generator().manual_seed(config.seed)
        n = x_tr.shape[0]
        history: list[dict[str, float]] = []
        best_loss = math.inf
        best_epoch = 0
        best_state: dict[str, torch.Tensor] | None = None
        stale = 0
        for epoch in range(1, config.max_epochs + 1):
            model.train()
            order = torch.randperm(n, generator=generator)
            if n % config.batch_size == 1:
                # BatchNorm cannot train on a batch of one row; a different row sits out
                # each epoch since the order is reshuffled.
                order = order[:-1]
            total = 0.0
            for start in range(0, order.shape[0], config.batch_size):
                index = order[start : start + config.batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(x_tr.index_select(0, index)), y_tr.index_select(0, index))
                loss.backward()  # type: ignore[no-untyped-call]
                optimizer.step()
                total += float(loss.item()) * index.shape[0]
            val_logits = _logits(model, x_va)
            with torch.no_grad():
                val_loss = float(loss_fn(val_logits, y_va).item())
            record = {
                "epoch": float(epoch),
                "train_loss": total / order.shape[0],
                "val_loss": val_loss,
                "val_auc": roc_auc(yv_np, val_logits.numpy()),
            }
            history.append(record)
            if progress is not None:
                progress(epoch, config.max_epochs, record)
            if val_loss < best_loss:
                best_loss, best_epoch, stale = val_loss, epoch, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                stale += 1
                if stale >= config.patience:
                    break
        if best_state is None:
            raise ModelError(
                f"training diverged: no epoch of {len(history)} had a finite validation loss; "
                f"lower MLPConfig.learning_rate (now {config.learning_rate})"
            )
        model.load_state_dict(best_state)
        model.eval()
    return TrainResult(model, history, best_epoch)


def train_nets(
    x_train: ArrayLike,
    y_train: ArrayLike,
    x_val: ArrayLike,
    y_val: ArrayLike,
    config: MLPConfig = MLPConfig(),  # frozen: a shared default is safe
    *,
    progress: Progress | None = None,
    threads: int | None = None,
) -> list[TrainResult]:
    """``config.nets`` runs of :func:`train_mlp`, seeded ``seed``, ``seed + 1``, ...

    Each net stops early on its own; export them together with
    :func:`~vigil.train.export.export_onnx` to serve the mean of their logits.
    ``progress`` counts epochs over all nets.
    """
    results: list[TrainResult] = []
    total = config.nets * config.max_epochs
    for k in range(config.nets):
        done = k * config.max_epochs

        def on_epoch(epoch: int, _: int, record: dict[str, float], done: int = done) -> None:
            if progress:
                progress(done + epoch, total, record)

        seeded = replace(config, seed=(config.seed + k) % 2**63)
        results.append(
            train_mlp(x_train, y_train, x_val, y_val, seeded, progress=on_epoch, threads=threads)
        )
    if progress:
        progress(total, total, {})
    return results


@contextmanager
def _deterministic(seed: int, threads: int | None) -> Iterator[None]:
    """Seed torch's global RNG (weight init, dropout), force deterministic kernels and
    optionally fix the thread count, restoring all three afterwards."""
    was_on = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    was_threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True)
        if threads is not None:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.set_num_threads(was_threads)
            torch.use_deterministic_algorithms(was_on, warn_only=warn_only)


def _logits(model: FeedForwardNet, x: torch.Tensor) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x[i : i + _EVAL_ROWS]) for i in range(0, x.shape[0], _EVAL_ROWS)])


__all__ = ["FeedForwardNet", "HiddenLayer", "MLPConfig", "TrainResult", "train_mlp"]
