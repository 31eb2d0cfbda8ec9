"""train_mlp: deterministic, stops early on the best epoch, learns, weighs rare positives."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.typing import NDArray

from vigil.errors import ConfigError, DataError
from vigil.train.evaluate import roc_auc
from vigil.train.mlp import MLPConfig, train_mlp, train_nets

from .synthetic import WIDTH, labelled

# One torch thread: results depend on the thread count, and on a busy 2-vCPU machine one
# thread is several times steadier than two (see train_mlp's `threads`).
THREADS = 1


class TestConfig:
    def test_round_trips_through_a_dict(self) -> None:
        config = MLPConfig(hidden=(128, 64, 32), class_weight=12.5, seed=3, offset_column=7)
        assert MLPConfig.from_dict(config.to_dict()) == config
        assert MLPConfig().offset_column is None
        assert config.to_dict()["hidden"] == [128, 64, 32]

    def test_missing_keys_take_defaults(self) -> None:
        assert MLPConfig.from_dict({"max_epochs": 3}) == MLPConfig(max_epochs=3)

    def test_unknown_key_is_named(self) -> None:
        with pytest.raises(ConfigError, match="no keys \\['epochs'\\]"):
            MLPConfig.from_dict({"epochs": 3})

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("hidden", ()),
            ("hidden", (64, 0)),
            ("dropout", 1.0),
            ("learning_rate", 0.0),
            ("batch_size", 1),
            ("patience", 0),
            ("class_weight", "auto"),
            ("class_weight", -1.0),
            ("class_weight", True),
            ("seed", -1),
            ("offset_column", -1),
            ("nets", 0),
            ("nets", 17),
            ("offset_column", True),
            ("offset_column", 2.0),
        ],
    )
    def test_invalid_values_are_refused_with_the_field_named(
        self, field: str, value: object
    ) -> None:
        with pytest.raises(ConfigError, match=f"MLPConfig.{field}"):
            MLPConfig.from_dict({field: value})


class TestInvalidData:
    def test_single_class_training_set_is_refused(self) -> None:
        x = np.zeros((10, 3), dtype=np.float32)
        with pytest.raises(DataError, match="0 positive and 10 negative"):
            train_mlp(x, np.zeros(10), x, np.zeros(10))

    def test_width_mismatch_is_refused(self) -> None:
        x = np.zeros((10, 3), dtype=np.float32)
        with pytest.raises(DataError, match="x_val has 4 columns, expected 3"):
            train_mlp(x, np.arange(10) % 2, np.zeros((5, 4)), np.arange(5) % 2)

    def test_non_finite_values_are_refused(self) -> None:
        x = np.zeros((10, 3), dtype=np.float32)
        x[4, 2] = np.nan
        with pytest.raises(DataError, match="first at index 2"):
            train_mlp(x, np.arange(10) % 2, x[:0] + 1, np.zeros(0))

    def test_offset_column_outside_the_matrix_is_refused(self) -> None:
        x = np.zeros((10, 3), dtype=np.float32)
        with pytest.raises(DataError, match="offset_column is 3 but the matrix has 3"):
            train_mlp(x, np.arange(10) % 2, x, np.arange(10) % 2, MLPConfig(offset_column=3))

    def test_labels_must_be_zero_or_one(self) -> None:
        x = np.zeros((10, 3), dtype=np.float32)
        with pytest.raises(DataError, match="only 0"):
            train_mlp(x, np.arange(10), x, np.arange(10) % 2)


def _state(seed: int) -> dict[str, torch.Tensor]:
    x, y = labelled(1500, 0, width=300)
    config = MLPConfig(max_epochs=3, patience=10, seed=seed)
    result = train_mlp(x[:1200], y[:1200], x[1200:], y[1200:], config, threads=THREADS)
    return result.model.state_dict()


def test_same_seed_gives_bit_identical_weights_and_another_seed_does_not() -> None:
    first = _state(0)
    torch.manual_seed(12345)  # whatever the global RNG did in between does not matter
    torch.rand(7)
    again, other = _state(0), _state(1)
    assert first.keys() == again.keys() == other.keys()
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_training_leaves_global_torch_state_as_it_was() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    threads = torch.get_num_threads()
    _state(0)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads
    assert not torch.are_deterministic_algorithms_enabled()


def test_batch_of_one_row_left_over_does_not_break_batch_norm() -> None:
    x, y = labelled(300, 0, width=50)
    config = MLPConfig(batch_size=64, max_epochs=2)  # 257 % 64 == 1
    result = train_mlp(x[:257], y[:257], x[257:], y[257:], config, threads=THREADS)
    assert len(result.history) == 2


def test_early_stopping_restores_the_best_epoch_when_validation_loss_rises() -> None:
    # Validation labels are the training labels flipped: the better the net learns, the
    # worse its validation loss.
    x, y = labelled(3000, 0, width=400)
    x_val, y_val = x[2400:], 1 - y[2400:]
    config = MLPConfig(max_epochs=30, patience=3, class_weight="none")
    epochs: list[int] = []
    result = train_mlp(
        x[:2400],
        y[:2400],
        x_val,
        y_val,
        config,
        progress=lambda epoch, total, _: epochs.append(epoch),
        threads=THREADS,
    )
    losses = [h["val_loss"] for h in result.history]
    assert len(result.history) == result.best_epoch + config.patience < config.max_epochs
    assert epochs == list(range(1, len(result.history) + 1))
    assert losses[result.best_epoch - 1] == min(losses) < losses[-1]
    with torch.no_grad():
        logits = result.model(torch.from_numpy(x_val))
        restored = F.binary_cross_entropy_with_logits(logits, torch.from_numpy(y_val).float())
    assert float(restored) == pytest.approx(losses[result.best_epoch - 1], rel=1e-5)
    assert not result.model.training


@pytest.mark.slow
def test_learnable_task_reaches_a_validation_auc_above_0_95() -> None:
    x, y = labelled(5000, 1)
    assert x.shape[1] == WIDTH
    result = train_mlp(
        x[:4000], y[:4000], x[4000:], y[4000:], MLPConfig(max_epochs=8), threads=THREADS
    )
    best = result.history[result.best_epoch - 1]
    assert best["val_auc"] > 0.95
    assert all(math.isfinite(h["train_loss"]) for h in result.history)


@pytest.mark.slow
def test_balanced_class_weight_recalls_more_rare_positives_at_0_5_than_none() -> None:
    x, y = labelled(16000, 2, positive_rate=0.01, strength=0.5)
    x_train, y_train, x_val, y_val = x[:12000], y[:12000], x[12000:], y[12000:]
    recall = {}
    for weight in ("balanced", "none"):
        config = MLPConfig(max_epochs=8, class_weight=weight)
        model = train_mlp(x_train, y_train, x_val, y_val, config, threads=THREADS).model
        with torch.no_grad():
            p = torch.sigmoid(model(torch.from_numpy(x_val))).numpy()
        recall[weight] = float((p[y_val == 1] >= 0.5).mean())
    assert y_val.sum() >= 30
    assert recall["balanced"] > recall["none"] + 0.3


def _with_offset(n: int, seed: int, column: int) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """The synthetic task with one column replaced by a noisy, informative log-odds."""
    x, y = labelled(n, seed, width=300)
    noise = np.random.default_rng(seed).normal(0.0, 2.0, size=n)
    x[:, column] = (3.0 * y - 1.5 + noise).astype(np.float32)
    return x, y


class TestOffset:
    """With ``offset_column`` the net is a correction added to that column."""

    COLUMN = 299

    def test_logit_is_scaled_offset_plus_correction_and_both_train(self) -> None:
        x, y = _with_offset(1500, 0, self.COLUMN)
        config = MLPConfig(max_epochs=4, patience=10, offset_column=self.COLUMN)
        result = train_mlp(x[:1200], y[:1200], x[1200:], y[1200:], config, threads=THREADS)
        model = result.model
        assert model.offset_column == self.COLUMN
        assert model.offset_scale is not None
        scale = model.offset_scale.item()
        assert scale != 1.0
        assert math.isfinite(scale)
        assert f"offset=column[{self.COLUMN}]" in model.architecture
        x_val = torch.from_numpy(x[1200:])
        with torch.no_grad():
            logit = model(x_val)
            model.offset_column = None
            correction = model(x_val)
        torch.testing.assert_close(logit, correction + scale * x_val[:, self.COLUMN])
        # The sum beats the offset alone: the net learned what the column misses.
        assert roc_auc(y[1200:], logit.numpy()) > roc_auc(y[1200:], x[1200:, self.COLUMN])

    def test_loss_is_on_the_sum_from_the_first_epoch(self) -> None:
        # A perfect offset: the summed logit is right from the start, so the first
        # epoch's validation loss is already far below a plain net's.
        x, y = labelled(1500, 0, width=300)
        x[:, self.COLUMN] = np.where(y == 1, 12.0, -12.0)
        losses = {}
        for column in (None, self.COLUMN):
            config = MLPConfig(max_epochs=1, offset_column=column, class_weight="none")
            result = train_mlp(x[:1200], y[:1200], x[1200:], y[1200:], config, threads=THREADS)
            losses[column] = result.history[0]["val_loss"]
        assert losses[self.COLUMN] < 0.05 < losses[None]

    def test_no_offset_keeps_the_plain_net(self) -> None:
        x, y = labelled(600, 0, width=50)
        plain = train_mlp(x[:500], y[:500], x[500:], y[500:], MLPConfig(max_epochs=2), threads=1)
        assert plain.model.offset_column is None
        assert plain.model.offset_scale is None
        assert "offset_scale" not in plain.model.state_dict()
        assert "offset" not in plain.model.architecture


def test_train_nets_trains_one_net_per_consecutive_seed() -> None:
    x, y = labelled(800, 5)
    config = MLPConfig(hidden=(16,), max_epochs=2, seed=4, nets=3)
    epochs: list[tuple[int, int]] = []
    results = train_nets(
        x[:600],
        y[:600],
        x[600:],
        y[600:],
        config,
        progress=lambda done, total, _: epochs.append((done, total)),
        threads=THREADS,
    )
    assert len(results) == 3
    for k, result in enumerate(results):
        alone = train_mlp(
            x[:600], y[:600], x[600:], y[600:], replace(config, seed=4 + k), threads=THREADS
        )
        mine, its = result.model.state_dict(), alone.model.state_dict()
        assert mine.keys() == its.keys()
        assert all(torch.equal(mine[key], its[key]) for key in mine)
    assert epochs[-1] == (6, 6)
    assert [done for done, _ in epochs] == sorted(done for done, _ in epochs)
