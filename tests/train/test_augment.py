"""Subdomain views: which names they are made from, what they look like, where they go."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.features.domain import FEATURE_NAMES, registered_domains
from vigil.features.entities import normalize_domains
from vigil.store import Store
from vigil.train.augment import (
    GENERATED_LABEL_QUANTILE,
    domain_views,
    generated_labels,
    subdomain_views,
)


def names(*values: str | None) -> pa.Array:
    return pa.array(values, type=pa.large_string())


def test_a_view_is_a_malicious_label_under_a_benign_registered_domain() -> None:
    values = names("kq3vbx.net", "zzqpwv.co.uk", "www.example.org", "shop.example.com", None)
    labels = np.array([1, 1, 0, 0, 0])
    views = subdomain_views(values, labels, share=1.0, rng=np.random.default_rng(0))
    assert len(views) == 2
    for view in views.to_pylist():
        label, parent = view.split(".", 1)
        assert label in {"kq3vbx", "zzqpwv"}
        assert parent in {"example.org", "example.com"}  # registered, not the full name


def test_malicious_names_that_already_have_a_subdomain_part_are_not_sources() -> None:
    values = names("abc.kq3vbx.net", "xyz.mooo.com", "example.org")
    views = subdomain_views(values, np.array([1, 1, 0]), share=1.0, rng=np.random.default_rng(0))
    assert len(views) == 0


@pytest.mark.parametrize(
    ("labels", "share"),
    [([0, 0, 0], 1.0), ([1, 1, 1], 1.0), ([1, 0, 0], 0.0), ([1, 0, 0], -1.0)],
)
def test_nothing_to_make_views_from_gives_none(labels: list[int], share: float) -> None:
    values = names("kq3vbx.net", "example.org", "example.com")
    views = subdomain_views(values, np.array(labels), share=share, rng=np.random.default_rng(0))
    assert views.type == pa.large_string()
    assert len(views) == 0


def test_only_eligible_names_are_sources() -> None:
    values = names("kq3vbx.net", "paypal-login.com", "example.org")
    eligible = np.array([False, True, True])
    views = subdomain_views(
        values, np.array([1, 1, 0]), share=1.0, rng=np.random.default_rng(0), eligible=eligible
    )
    assert views.to_pylist() == ["paypal-login.example.org"]


def test_generated_labels_are_the_unlikely_tail_of_the_benign_rows() -> None:
    rng = np.random.default_rng(1)
    benign = rng.normal(-2.0, 0.3, 10_000).astype(np.float32)
    likelihood = np.concatenate([benign, np.float32([-5.0, -2.0, -1.0])])
    labels = np.concatenate([np.zeros(10_000, dtype=np.int64), np.ones(3, dtype=np.int64)])
    generated = generated_labels(likelihood, labels)
    assert generated[-3:].tolist() == [True, False, False]
    assert abs(generated[:10_000].mean() - GENERATED_LABEL_QUANTILE) < 0.01
    assert not generated_labels(likelihood, np.ones_like(labels)).any()  # no benign rows


def test_domain_views_come_from_labels_the_language_model_finds_unlikely() -> None:
    benign = [f"shop{i}.example" for i in range(100)]
    values = names("xq9zkv.net", "paypal-login.com", *benign)
    labels = np.array([1, 1] + [0] * 100)
    features = np.zeros((len(values), len(FEATURE_NAMES)), dtype=np.float32)
    column = FEATURE_NAMES.index("lm:label_mean")
    features[:, column] = np.linspace(-2.0, -1.0, len(values))
    features[0, column] = -6.0  # far below every benign label: generated
    features[1, column] = -1.5  # as likely as a typical benign label
    views = domain_views(values, labels, features, np.random.default_rng(0), share=1.0)
    assert [v.split(".", 1)[0] for v in views.to_pylist()] == ["xq9zkv"]


def test_share_sets_how_many_views_and_the_seed_which() -> None:
    malicious = [f"q{i:05d}zx.net" for i in range(200)]
    values = names(*malicious, "example.org", "example.com")
    labels = np.array([1] * 200 + [0, 0])
    first = subdomain_views(values, labels, share=0.25, rng=np.random.default_rng(7))
    again = subdomain_views(values, labels, share=0.25, rng=np.random.default_rng(7))
    other = subdomain_views(values, labels, share=0.25, rng=np.random.default_rng(8))
    assert len(first) == 50
    assert first.equals(again)
    assert not first.equals(other)
    assert len(set(first.to_pylist())) == 50  # each source label at most once


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.none(), st.from_regex(r"[a-z0-9-]{1,70}(\.[a-z0-9-]{1,70}){0,4}", fullmatch=True)
            ),
            st.integers(0, 1),
        ),
        max_size=40,
    ),
    st.floats(0.0, 1.0),
)
def test_views_are_always_valid_names_with_a_subdomain_part(
    rows: list[tuple[str | None, int]], share: float
) -> None:
    values = normalize_domains(names(*(value for value, _ in rows)))
    labels = np.array([label for _, label in rows], dtype=np.int64)
    views = subdomain_views(values, labels, share=share, rng=np.random.default_rng(0))
    assert views.null_count == 0
    normalized = normalize_domains(views)
    assert normalized.to_pylist() == views.to_pylist()  # already valid, normalized names
    assert all(len(v) <= 253 for v in views.to_pylist())
    registered = registered_domains(views).to_pylist()
    assert all(view != reg for view, reg in zip(views.to_pylist(), registered, strict=True))


def test_training_adds_views_to_the_training_side_only(tmp_path: Path) -> None:
    from vigil.datasets.domains import generate_domains
    from vigil.train.data import labelled
    from vigil.train.pipeline import train_detection
    from vigil.train.trees import TreeConfig

    table = generate_domains(3_000, seed=5)
    data = labelled(table, text_col="domain", label_col="label")
    config = TreeConfig(n_estimators=20, threads=1)
    with_views = train_detection("domain", data, Store(tmp_path / "a"), config=config)
    without = train_detection(
        "domain", data, Store(tmp_path / "b"), config=config, augment_data=False
    )

    def params(store: str) -> dict[str, object]:
        manifest = json.loads((tmp_path / store / "domain" / "1" / "manifest.json").read_text())
        result: dict[str, object] = manifest["params"]
        return result

    a, b = params("a"), params("b")
    assert isinstance(a["subdomain_views"], int)
    assert a["subdomain_views"] > 0
    assert b["subdomain_views"] == 0
    assert b["subdomain_view_share"] == 0.0
    # the same split, and validation (which sets the threshold) holds no views
    assert a["n_train"] == b["n_train"]
    assert a["n_validation"] == b["n_validation"]
    assert a["positives_train"] == b["positives_train"]
    assert with_views.metrics["n"] == without.metrics["n"]
    assert with_views.n_augmented == a["subdomain_views"]
    assert without.n_augmented == 0
