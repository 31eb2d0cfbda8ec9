"""DomainExtractor: golden features, fitted state, intel columns, suffix split, explanations."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pyarrow as pa
import pytest
from numpy.typing import NDArray

from vigil.errors import DataError, ModelError
from vigil.features._suffixes import public_suffixes
from vigil.features.base import Extractor
from vigil.features.domain import FEATURE_NAMES, DomainExtractor, DomainState
from vigil.features.entities import normalize_domains
from vigil.features.normalize import buffers

BENIGN = [
    "google.com",
    "www.facebook.com",
    "mail.yahoo.co.uk",
    "news.bbc.co.uk",
    "support.microsoft.com",
    "cdn.shopify.com",
    "weather.com",
    "bestbuy.com",
    "online-banking.example.de",
    "travel.booking.com",
    "music.apple.com",
    "photos.google.com",
    "login.live.com",
    "docs.python.org",
    "github.com",
    "wikipedia.org",
]
MALICIOUS = [
    "xkqjzvbwp.top",
    "a1b2c3d4e5f6.xyz",
    "qwpzkrtvn.ru",
    "zzqxv8k2m.top",
    "paypal-login-secure-verify.com.br",
    "evil.blogspot.com",
    "jkhgfdsqw.xyz",
    "bvcxzlkj.top",
]


@pytest.fixture(scope="module")
def fitted() -> DomainExtractor:
    values = BENIGN + MALICIOUS
    labels = np.array([0] * len(BENIGN) + [1] * len(MALICIOUS))
    return DomainExtractor().fit(values, labels)


def column(matrix_values: NDArray[np.float32], name: str) -> list[float]:
    return [round(float(v), 4) for v in matrix_values[:, FEATURE_NAMES.index(name)]]


# -- the protocol and the spec ----------------------------------------------------------------


def test_is_an_extractor(fitted: DomainExtractor) -> None:
    assert isinstance(fitted, Extractor)
    assert fitted.name == "domain"


def test_spec_names_every_column_and_ignores_the_fit(fitted: DomainExtractor) -> None:
    assert fitted.spec.names == FEATURE_NAMES
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert DomainExtractor().spec.id == fitted.spec.id
    assert {"suffix_list", "words"} <= set(fitted.spec.params)


def test_feature_groups_partition_the_columns(fitted: DomainExtractor) -> None:
    columns = sorted(i for group in fitted.feature_groups().values() for i in group)
    assert columns == list(range(len(FEATURE_NAMES)))


def test_transform_without_state_says_how_to_train() -> None:
    with pytest.raises(ModelError, match="vigil train domain"):
        DomainExtractor().transform(["example.com"])


# -- golden features ----------------------------------------------------------------------------


def test_structure_and_suffix_columns(fitted: DomainExtractor) -> None:
    names = ["a.b.example.co.uk", "evil.blogspot.com", "host.corp.internal", "example.com"]
    values = fitted.transform(names).values
    assert column(values, "name:labels") == [5, 3, 3, 2]
    assert column(values, "name:subdomain_depth") == [2, 0, 1, 0]
    assert column(values, "suffix:labels") == [2, 2, 0, 1]
    assert column(values, "suffix:known") == [1, 1, 0, 1]
    assert column(values, "suffix:private") == [0, 1, 0, 0]
    # an unknown last label stands in for the suffix: the registered label is "corp"
    assert column(values, "label:length") == [7, 4, 4, 7]
    assert column(values, "name:length") == [len(n) for n in names]
    assert column(values, "name:longest_label") == [7, 8, 8, 7]


def test_character_columns(fitted: DomainExtractor) -> None:
    values = fitted.transform(["aaaa.com", "ab12-3456.net", "strngth.org"]).values
    assert column(values, "label:entropy") == [0.0, 3.1699, 2.5216]
    assert column(values, "label:digit_share") == [0.0, round(6 / 9, 4), 0.0]
    assert column(values, "label:hyphen_share") == [0.0, round(1 / 9, 4), 0.0]
    assert column(values, "label:longest_digit_run") == [0, 4, 0]
    assert column(values, "label:longest_consonant_run") == [0, 1, 7]
    assert column(values, "label:distinct_share") == [0.25, 1.0, round(6 / 7, 4)]
    assert column(values, "label:vowel_ratio") == [4.0, 1.0, 0.0]


def test_subdomain_label_columns_describe_the_first_label_of_a_subdomain_part(
    fitted: DomainExtractor,
) -> None:
    names = ["qxzvkjwp.mooo.com", "www.mooo.com", "mooo.com", "a.b.example.co.uk", "kq3.net"]
    values = fitted.transform(names).values
    assert column(values, "host:length") == [8.0, 3.0, 0.0, 1.0, 0.0]
    assert column(values, "host:vowel_ratio")[1] == 0.0
    assert column(values, "host:longest_consonant_run")[0] == 8.0  # no vowel at all
    lm = column(values, "host:lm_mean")
    assert lm[0] < lm[1] < 0.0  # a random label is less likely than "www"
    for name in ("host:entropy", "host:lm_mean", "host:lm_min"):
        assert column(values, name)[2] == 0.0  # no subdomain part: zeros
        assert column(values, name)[4] == 0.0


def test_dictionary_words(fitted: DomainExtractor) -> None:
    values = fitted.transform(["facebook.com", "xkqjzvbwp.top", "securelogin.net", "a.com"]).values
    assert column(values, "words:coverage") == [1.0, 0.0, 1.0, 0.0]
    assert column(values, "words:count") == [2, 0, 2, 0]
    assert column(values, "words:longest") == [4, 0, 6, 0]


def test_language_model_prefers_benign_looking_names(fitted: DomainExtractor) -> None:
    values = fitted.transform(["bookings.com", "qxzvkjwp.com"]).values
    for name in ("lm:label_mean", "lm:name_mean", "lm:label_min"):
        benign, random = column(values, name)
        assert benign > random, name


def test_suffix_risk_is_learned_and_unseen_suffixes_get_the_prior(
    fitted: DomainExtractor,
) -> None:
    state = fitted.state
    assert state is not None
    risk = column(fitted.transform(["new.top", "new.org", "new.museum"]).values, "suffix:risk")
    assert risk[0] > state.prior > risk[1]
    assert risk[2] == pytest.approx(state.prior, abs=1e-4)


def test_punycode_columns(fitted: DomainExtractor) -> None:
    names = ["xn--pypal-4ve.com", "пример.рф", "xn--bcher-kva.de", "example.com"]
    values = fitted.transform(names).values
    assert column(values, "idn:punycode") == [1, 1, 1, 0]
    assert column(values, "idn:non_ascii") == [1, 1, 1, 0]
    assert column(values, "idn:mixed_scripts") == [1, 0, 0, 0]  # Latin + Cyrillic "а"


def test_only_labels_that_start_with_xn_dashes_are_punycode(fitted: DomainExtractor) -> None:
    names = ["axn--b.com", "mail.xn--bcher-kva.de", "example.com", "a.bxn--c.de"]
    names += ["xn--bcher-kva.de", "a.b-xn--c.de", "a.xn-b.de", "a.xn--"]
    assert column(fitted.transform(names).values, "idn:punycode") == [0, 1, 0, 0, 1, 0, 0, 1]


def test_idn_labels_count_as_non_ascii_as_a_browser_would_show_them(
    fitted: DomainExtractor,
) -> None:
    names = [
        "xn--strae-oqa.de",  # "straße": valid IDNA 2008, which the idna codec (2003) refused
        "xn--ncd-ska2e7a2c.com",  # decodes with capitals: invalid IDNA, shown as xn--
        "xn--ph7ccd.com",  # full-width "ＡＢＣ": not NFC-stable lower case either
        "xn--a-.com",  # not punycode at all
    ]
    values = fitted.transform(names).values
    assert column(values, "idn:punycode") == [1, 1, 1, 1]
    assert column(values, "idn:non_ascii") == [1, 0, 0, 0]
    assert column(values, "idn:mixed_scripts") == [0, 0, 0, 0]


def test_invalid_and_null_rows_are_zero_and_invalid(fitted: DomainExtractor) -> None:
    matrix = fitted.transform(["example.com", None, "1.2.3.4", "localhost", "", "EXAMPLE.com."])
    assert matrix.valid.tolist() == [True, False, False, False, False, True]
    assert not matrix.values[~matrix.valid].any()
    np.testing.assert_array_equal(matrix.values[0], matrix.values[5])
    assert np.isfinite(matrix.values).all()


def test_empty_and_all_null_batches(fitted: DomainExtractor) -> None:
    assert fitted.transform([]).values.shape == (0, len(FEATURE_NAMES))
    matrix = fitted.transform(pa.nulls(3, pa.string()))
    assert matrix.values.shape == (3, len(FEATURE_NAMES))
    assert not matrix.valid.any()


def test_a_name_that_is_a_suffix_has_an_empty_label(fitted: DomainExtractor) -> None:
    values = fitted.transform(["co.uk", "blogspot.com"]).values
    assert column(values, "label:length") == [0, 0]
    assert column(values, "suffix:labels") == [2, 2]
    assert column(values, "words:coverage") == [0, 0]


# -- fitting and the state -----------------------------------------------------------------------


def test_state_round_trips_through_json(fitted: DomainExtractor) -> None:
    state = fitted.state
    assert state is not None
    text = json.dumps(state.to_dict())
    restored = DomainState.from_dict(json.loads(text))
    assert restored.to_dict() == state.to_dict()
    names = BENIGN + MALICIOUS + ["unseen-name.info"]
    again = DomainExtractor().with_state(json.loads(text))
    np.testing.assert_array_equal(again.transform(names).values, fitted.transform(names).values)


def test_state_is_small_and_has_no_pickle(fitted: DomainExtractor) -> None:
    assert fitted.state is not None
    text = json.dumps(fitted.state.to_dict())
    assert len(text) < 2_000_000
    assert "pickle" not in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "other/1"}, "format"),
        ({"name_lm": "not base64!"}, "base64"),
        ({"label_lm": "AAAA"}, "bytes"),
        ({"suffixes": [1, 2]}, "suffixes"),
        ({"prior": "high"}, "prior"),
        ({"alphabet": "abc"}, "alphabet"),
    ],
)
def test_a_bad_state_is_a_model_error(
    fitted: DomainExtractor, change: dict[str, object], message: str
) -> None:
    assert fitted.state is not None
    data = {**fitted.state.to_dict(), **change}
    with pytest.raises(ModelError, match=message):
        DomainState.from_dict(data)


def test_fit_counts_each_name_once_and_checks_its_input() -> None:
    once = DomainExtractor().fit(["a.com", "b.top"], np.array([0, 1]))
    repeated = DomainExtractor().fit(["a.com"] * 50 + ["b.top"], np.array([0] * 50 + [1]))
    assert once.state is not None
    assert repeated.state is not None
    assert once.state.to_dict() == repeated.state.to_dict()
    with pytest.raises(DataError, match="labels"):
        DomainExtractor().fit(["a.com"], np.array([0, 1]))
    with pytest.raises(DataError, match=r"0 \(benign\) or 1"):
        DomainExtractor().fit(["a.com"], np.array([2]))
    with pytest.raises(DataError, match="valid domain"):
        DomainExtractor().fit(["not a domain"], np.array([0]))


def test_fit_returns_a_copy_and_keeps_intel(fitted: DomainExtractor) -> None:
    intel = FakeIntel({})
    base = DomainExtractor(intel=intel)
    refit = base.fit(["a.com", "b.top"], np.array([0, 1]))
    assert base.state is None
    assert refit.intel is intel
    assert fitted.with_intel(intel).state is fitted.state


# -- intel ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeHits:
    exact_sources: pa.Array
    parent_sources: NDArray[np.int32]
    parent_distance: NDArray[np.int32]
    sibling_listed: NDArray[np.int32]


@dataclass(frozen=True)
class FakeIntel:
    """name -> (exact sources, parent sources, parent distance, siblings)."""

    table: dict[str, tuple[list[str], int, int, int]]
    fingerprint: str = "fake"

    def domain_hits(self, domains: pa.Array) -> FakeHits:
        assert domains.null_count == 0
        rows = [self.table.get(d, ([], 0, -1, 0)) for d in domains.to_pylist()]
        return FakeHits(
            pa.array([r[0] for r in rows], type=pa.list_(pa.string())),
            np.array([r[1] for r in rows], dtype=np.int32),
            np.array([r[2] for r in rows], dtype=np.int32),
            np.array([r[3] for r in rows], dtype=np.int32),
        )


INTEL = FakeIntel(
    {
        "bad.example.com": (["feodo", "urlhaus"], 0, -1, 2),
        "x.y.evil.net": ([], 2, 2, 0),
    }
)


def test_intel_columns(fitted: DomainExtractor) -> None:
    with_intel = fitted.with_intel(INTEL)
    values = with_intel.transform(["BAD.example.com", "x.y.evil.net", "clean.org", None]).values
    assert column(values, "intel:parent_sources") == [0, 2, 0, 0]
    assert column(values, "intel:parent_distance") == [0, 2, 0, 0]
    assert column(values, "intel:siblings") == [round(float(np.log1p(2)), 4), 0, 0, 0]
    assert column(values, "intel:kinds_hit") == [1, 1, 0, 0]
    assert not fitted.transform(["x.y.evil.net"]).values[:, -4:].any()


def test_listed_and_indicators(fitted: DomainExtractor) -> None:
    with_intel = fitted.with_intel(INTEL)
    values = ["https://bad.example.com/x", "x.y.evil.net", "clean.org", None, "xn--pypal-4ve.com"]
    assert with_intel.listed(values).tolist() == [True, False, False, False, False]
    found = with_intel.indicators(values).to_pylist()
    assert found[0] == ["listed:feodo", "listed:urlhaus", "siblings-listed:2"]
    assert found[1] == ["parent-listed:2 sources, 2 labels up"]
    assert found[2] == []
    assert found[3] is None
    assert {"punycode", "non-ascii", "mixed-scripts"} <= set(found[4])


def test_indicators_need_no_state() -> None:
    found = DomainExtractor().indicators(["evil.blogspot.com", "foo.zzzz", None]).to_pylist()
    assert found == [["private-suffix:blogspot.com"], ["unknown-suffix:zzzz"], None]


def test_feature_table(fitted: DomainExtractor) -> None:
    table = fitted.feature_table(["WWW.Example.co.uk", None, "nope"])
    assert table.type == fitted.feature_table_type
    assert table.is_valid().to_pylist() == [True, False, False]
    first = table.to_pylist()[0]
    assert first["domain"] == "www.example.co.uk"
    assert first["registered_domain"] == "example.co.uk"
    assert first["suffix"] == "co.uk"
    assert first["name_labels"] == 4


# -- the public suffix split ---------------------------------------------------------------------


def _varied_names() -> list[str]:
    tldextract = pytest.importorskip("tldextract")
    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)._get_tld_extractor()
    rules = sorted(extractor.public_tlds)[::40] + sorted(extractor.private_tlds)[::20]
    rules += ["*.ck", "!www.ck", "*.kawasaki.jp", "!city.kawasaki.jp", "*.compute.amazonaws.com"]
    rng = np.random.default_rng(7)
    names = []
    for rule in rules:
        base = rule.lstrip("!").replace("*", "wild")
        for prefix in ("", "www.", "a.b.", "city.", "x-1."):
            names.append(prefix + base)
        names.append(base.split(".", 1)[-1] if "." in base else base + ".notatld")
    names += ["www.ck", "a.www.ck", "city.kawasaki.jp", "a.city.kawasaki.jp", "foo.bar.ck"]
    names += [f"n{i}.{rng.choice(['com', 'co.uk', 'zz', 'github.io'])}" for i in range(30)]
    from vigil.features.entities import normalize_domain

    return sorted({n for n in (normalize_domain(x) for x in names) if n is not None})


def test_suffix_split_equals_tldextract() -> None:
    import tldextract

    names = _varied_names()
    assert len(names) > 300
    reference = tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )
    data, offsets = buffers(pa.array(names, type=pa.large_string()))
    split = public_suffixes().split(data, offsets)
    mismatches = []
    for i, name in enumerate(names):
        expected = reference(name)
        labels = name.split(".")
        count = int(split.suffix_labels[i])
        suffix = ".".join(labels[len(labels) - count :]) if count else ""
        domain = name[split.label_start[i] - offsets[i] : split.label_end[i] - offsets[i]]
        got = (suffix, domain, bool(split.private[i]))
        if got != (expected.suffix, expected.domain, expected.is_private):
            mismatches.append((name, got, expected))
    assert not mismatches, mismatches[:5]


# -- data and import hygiene ---------------------------------------------------------------------


def test_word_list_ships_with_its_origin() -> None:
    data = resources.files("vigil.features").joinpath("data")
    words = data.joinpath("words.txt").read_text("ascii").split()
    assert len(words) > 5000
    assert words == sorted(set(words))
    assert all(w.isalpha() and w.islower() and 3 <= len(w) <= 13 for w in words)
    readme = data.joinpath("README.md").read_text("utf-8")
    assert "WordNet" in readme
    assert "License" in readme


def test_the_scoring_path_imports_no_training_library() -> None:
    code = (
        "import sys, vigil.features.domain, vigil.features.ip;"
        "bad = {'torch', 'xgboost', 'pandas', 'sklearn', 'pickle'} & set(sys.modules);"
        "bad.discard('pickle');"  # the standard library may load it; vigil never uses it
        "print(sorted(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_forget_names_empties_the_per_name_caches() -> None:
    from vigil.features.domain import _decoded_scripts, _idn_flags, forget_names
    from vigil.features.entities import _normalize_cached

    names = ["m\u00fcnchen.de", "xn--mnchen-3ya.de", "https://example.com/x"]
    before = normalize_domains(names).to_pylist()
    _idn_flags(pa.array(before))
    assert _normalize_cached.cache_info().currsize > 0
    assert _decoded_scripts.cache_info().currsize > 0
    forget_names()
    assert _normalize_cached.cache_info().currsize == 0
    assert _decoded_scripts.cache_info().currsize == 0
    assert normalize_domains(names).to_pylist() == before
