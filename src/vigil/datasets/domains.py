"""Labelled domain names, blocklists and DNS query logs, generated so demos need no downloads.

Benign names come from composed vocabularies and include what looks odd but is normal (CDN hashes,
cloud host names, acronyms, digits, internationalised names); malicious names come from DGAs,
phishing patterns and C2 naming habits. A blocklist lists part of the malicious rows, as real
feeds do, and leaves the rest for a model to catch.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal, NamedTuple

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from vigil.datasets import _names as w
from vigil.datasets._dga import ALNUM, DGAS, DIGITS, HEX, LETTERS, random_strings
from vigil.datasets._names import (
    apportion,
    check_sizes,
    draw_distinct,
    pick,
    pick_weighted,
)

__all__ = [
    "FAMILIES",
    "MALICIOUS_CATEGORY_SHARES",
    "Category",
    "Family",
    "generate_blocklist",
    "generate_dns_log",
    "generate_domains",
    "to_ascii",
]

Category = Literal["benign", "dga", "phishing", "c2"]
Generate = Callable[[np.random.Generator, int], list[str]]


class Family(NamedTuple):
    """How one family of names is made, and how often it is drawn within its category."""

    category: Category
    weight: float
    generate: Generate


#: How the malicious rows divide between categories.
MALICIOUS_CATEGORY_SHARES: Mapping[Category, float] = {"dga": 0.45, "phishing": 0.3, "c2": 0.25}
#: Names per attacker-registered domain, on average, in the subdomain-style families: one
#: throwaway domain usually carries several hosts.
APEX_REUSE = 3
#: Share of listed subdomain-style rows whose attacker-registered parent is listed too.
PARENT_LISTED_SHARE = 0.5
#: Share of DNS lookups of a bare registrable name sent with a host label (``www.``, ``api.``).
PREFIXED_QUERY_SHARE = 0.45
#: Share of lookups logged in upper case, and with the root's trailing dot.
UPPER_CASE_QUERY_SHARE = 0.005
TRAILING_DOT_QUERY_SHARE = 0.02
#: Zipf exponent of benign name popularity: a few names take most lookups, as in real resolvers.
ZIPF_EXPONENT = 1.1
DEFAULT_START = datetime(2024, 6, 3, tzinfo=UTC)

_MIXED = LETTERS * 2 + DIGITS


def to_ascii(name: str) -> str:
    """The name as DNS carries it: internationalised labels in punycode (``xn--...``).

    A label IDNA's nameprep would leave as it is (case-folded, NFKC, printable: every label this
    module generates) is punycoded directly, about fifty times faster than Python's ``idna``
    codec; any other label goes through the codec, which maps it and raises on what it forbids.
    """
    if name.isascii():
        return name
    return ".".join(_label_to_ascii(label) for label in name.split("."))


@lru_cache(maxsize=1 << 16)  # generated labels repeat; pure-Python punycode is ~40 µs a label
def _label_to_ascii(label: str) -> str:
    if label.isascii():
        return label
    if (
        label.isprintable()
        and label.casefold() == label
        and unicodedata.is_normalized("NFKC", label)
    ):
        return "xn--" + label.encode("punycode").decode("ascii")
    return label.encode("idna").decode("ascii")


def _join(*columns: Sequence[str], sep: str = "") -> list[str]:
    return [sep.join(parts) for parts in zip(*columns, strict=True)]


def _choose(
    rng: np.random.Generator, styles: Sequence[Sequence[str]], p: Sequence[float]
) -> list[str]:
    """Per row, the row of one of ``styles`` (equal-length candidate columns), drawn with ``p``."""
    n = len(styles[0])
    which = rng.choice(len(styles), size=n, p=np.asarray(p) / np.sum(p)).tolist()
    return [styles[s][i] for i, s in enumerate(which)]


def _digits(rng: np.random.Generator, n: int, low: int, high: int) -> list[str]:
    return [str(x) for x in rng.integers(low, high, size=n).tolist()]


# ---------------------------------------------------------------- benign


def _coined(rng: np.random.Generator, n: int) -> list[str]:
    """Two or three syllables: ``tavoro``, ``kelimo``."""
    a, b, c = (pick(rng, w.SYLLABLES, n) for _ in range(3))
    third = (rng.random(n) < 0.4).tolist()
    return [x + y + (z if t else "") for x, y, z, t in zip(a, b, c, third, strict=True)]


def _brand_labels(rng: np.random.Generator, n: int) -> list[str]:
    """Second-level labels of invented companies: compound, suffixed, coined or numbered."""
    first, second = pick(rng, w.BRAND_WORDS, n), pick(rng, w.BRAND_WORDS, n)
    suffix, number = pick(rng, w.BRAND_SUFFIXES, n), pick(rng, w.BRAND_NUMBERS, n)
    coined = _coined(rng, n)
    return _choose(
        rng,
        [
            _join(first, second),
            _join(first, suffix),
            coined,
            _join(coined, suffix),
            _join(first, number),
        ],
        [0.32, 0.25, 0.22, 0.13, 0.08],
    )


def _apexes(rng: np.random.Generator, n: int) -> list[str]:
    """Registrable names of invented companies: ``brightlane.com``, ``kelimo.de``."""
    return _join(_brand_labels(rng, n), pick_weighted(rng, w.BENIGN_TLDS, n), sep=".")


def benign_brand(rng: np.random.Generator, n: int) -> list[str]:
    """A company or product at its own name."""
    return _apexes(rng, n)


def benign_compound(rng: np.random.Generator, n: int) -> list[str]:
    """Small businesses with hyphenated names: ``riverside-dental.co.uk``, ``cook-and-ward.com``."""
    place, trade = pick(rng, w.PLACES, n), pick(rng, w.TRADES, n)
    name, other = pick(rng, w.SURNAMES, n), pick(rng, w.SURNAMES, n)
    word, word2 = pick(rng, w.BRAND_WORDS, n), pick(rng, w.BRAND_WORDS, n)
    labels = _choose(
        rng,
        [
            _join(place, trade, sep="-"),
            _join(name, trade, sep="-"),
            [f"{a}-and-{b}" for a, b in zip(name, other, strict=True)],
            _join(word, word2, trade, sep="-"),
            [f"the-{a}-{b}" for a, b in zip(word, trade, strict=True)],
            _join(place, word, sep="-"),
        ],
        [3, 3, 1, 2, 1, 2],
    )
    tlds = pick_weighted(
        rng, {"com": 6, "co.uk": 2, "org": 2, "de": 1, "net": 1, "com.au": 1, "ca": 1, "us": 1}, n
    )
    return _join(labels, tlds, sep=".")


def benign_acronym(rng: np.random.Generator, n: int) -> list[str]:
    """Short acronyms, sometimes with a digit: ``kbs.de``, ``a1.net``, ``tvp3.pl``."""
    letters = random_strings(rng, n, LETTERS, 2, 4)
    digit = pick(rng, ("",) * 20 + tuple("1234"), n)
    return _join(_join(letters, digit), pick_weighted(rng, w.BENIGN_TLDS, n), sep=".")


def benign_numeric(rng: np.random.Generator, n: int) -> list[str]:
    """Names built around a number: ``shop24.de``, ``365score.com``, ``web-360.net``."""
    word, number = pick(rng, w.BRAND_WORDS, n), pick(rng, w.BRAND_NUMBERS, n)
    coined = _coined(rng, n)
    labels = _choose(
        rng,
        [
            _join(word, number),
            _join(number, word),
            _join(word, number, sep="-"),
            _join(coined, number),
        ],
        [4, 3, 1, 1],
    )
    return _join(labels, pick_weighted(rng, w.BENIGN_TLDS, n), sep=".")


def benign_subdomain(rng: np.random.Generator, n: int) -> list[str]:
    """Hosts under a company domain: ``www.``, ``api.eu.``, ``static-03.``, a few at big brands."""
    host = pick_weighted(rng, w.SUBDOMAINS, n)
    node = [f"{h}-{k:02d}" for h, k in zip(host, rng.integers(1, 40, size=n).tolist(), strict=True)]
    area = pick(rng, (*w.CLOUD_REGIONS, *w.ENVIRONMENTS, "eu", "us", "v2", "int", "edge"), n)
    hosts = _choose(rng, [host, node, _join(host, area, sep=".")], [0.75, 0.1, 0.15])
    brands = list(w.BRANDS.items())
    official = [f"{b}.{t}" for b, t in pick(rng, brands, n)]
    apex = _choose(rng, [_apexes(rng, n), official], [0.97, 0.03])
    return _join(hosts, apex, sep=".")


def benign_cloud(rng: np.random.Generator, n: int) -> list[str]:
    """Cloud host names: load balancers, buckets, app services, serverless endpoints."""
    app = _choose(rng, [_brand_labels(rng, n), _coined(rng, n)], [0.7, 0.3])
    env = pick(rng, w.ENVIRONMENTS, n)
    region, az, gcp = (
        pick(rng, w.CLOUD_REGIONS, n),
        pick(rng, w.AZURE_REGIONS, n),
        pick(rng, w.GCP_REGIONS, n),
    )
    octets = rng.integers(1, 255, size=(n, 4)).tolist()
    ids = random_strings(rng, n, LETTERS + DIGITS, 10, 10)
    hexes = random_strings(rng, n, HEX, 16, 16)
    platform = pick(rng, w.PLATFORM_HOSTS, n)
    patterns: list[Callable[[int], str]] = [
        lambda i: "ec2-{}-{}-{}-{}.".format(*octets[i]) + f"{region[i]}.compute.amazonaws.com",
        lambda i: f"{app[i]}-{env[i]}-{hexes[i][:10]}.{region[i]}.elb.amazonaws.com",
        lambda i: f"{app[i]}-{env[i]}-assets.s3.{region[i]}.amazonaws.com",
        lambda i: f"{ids[i]}.execute-api.{region[i]}.amazonaws.com",
        lambda i: f"{app[i][:16]}{env[i]}{ids[i][:4]}.blob.core.windows.net",
        lambda i: f"{app[i]}-{env[i]}.azurewebsites.net",
        lambda i: f"{app[i]}-{env[i]}.{az[i]}.cloudapp.azure.com",
        lambda i: f"{app[i]}-{ids[i]}-{gcp[i].split('-')[0][:2]}.a.run.app",
        lambda i: f"{app[i]}-{env[i]}.{gcp[i]}.r.appspot.com",
        lambda i: f"{app[i]}.{platform[i]}",
        lambda i: f"{app[i]}-{env[i]}.trafficmanager.net",
    ]
    which = rng.integers(0, len(patterns), size=n).tolist()
    return [patterns[p](i) for i, p in enumerate(which)]  # per row: each formats its own pattern


def benign_cdn(rng: np.random.Generator, n: int) -> list[str]:
    """CDN edges, hashes and all: ``d3f8qz1lk0ab7c.cloudfront.net``, ``e4821.b.akamaiedge.net``."""
    label = _brand_labels(rng, n)
    tld = pick_weighted(rng, w.BENIGN_TLDS, n)
    alnum = random_strings(rng, n, LETTERS + DIGITS, 13, 13)
    short = random_strings(rng, n, LETTERS + DIGITS, 8, 8)
    hexes = random_strings(rng, n, HEX, 8, 16)
    number = rng.integers(1, 99_999, size=n).tolist()
    small = rng.integers(1, 20, size=n).tolist()
    airport = pick(rng, w.AIRPORTS, n)
    akamai = pick(rng, ("a", "b", "d", "g", "dsca", "dscb", "dscx"), n)
    patterns: list[Callable[[int], str]] = [
        lambda i: f"d{alnum[i]}.cloudfront.net",
        lambda i: f"e{number[i]}.{akamai[i]}.akamaiedge.net",
        lambda i: f"rr{small[i] % 8 + 1}---sn-{short[i]}.googlevideo.com",
        lambda i: f"{label[i]}.map.fastly.net",
        lambda i: f"{label[i]}.{tld[i]}.edgekey.net",
        lambda i: f"{hexes[i]}.cdn.{label[i]}.{tld[i]}",
        lambda i: f"cdn{small[i]}.{label[i]}.{tld[i]}",
        lambda i: f"scontent-{airport[i]}{small[i] % 3 + 1}-{small[i]}.xx.fbcdn.net",
        lambda i: f"{label[i]}-{hexes[i][:8]}.z01.azurefd.net",
        lambda i: f"{label[i]}.b-cdn.net",
        lambda i: f"www.{label[i]}.{tld[i]}.cdn.cloudflare.net",
        lambda i: f"{airport[i]}{small[i]}.edge.{label[i]}-cdn.net",
    ]
    which = rng.integers(0, len(patterns), size=n).tolist()
    return [patterns[p](i) for i, p in enumerate(which)]  # per row: each formats its own pattern


def benign_idn(rng: np.random.Generator, n: int) -> list[str]:
    """Internationalised names in their own script: ``müller-bäcker.de``, ``магазин.рф``."""
    languages = list(w.IDN_WORDS)
    tld = pick(rng, languages, n)
    u, v = rng.random(n).tolist(), rng.random(n).tolist()
    first = [w.IDN_WORDS[t][int(x * len(w.IDN_WORDS[t]))] for t, x in zip(tld, u, strict=True)]
    second = [w.IDN_WORDS[t][int(x * len(w.IDN_WORDS[t]))] for t, x in zip(tld, v, strict=True)]
    place, number = pick(rng, (*w.PLACES, *w.TRADES), n), pick(rng, w.BRAND_NUMBERS, n)
    labels = _choose(
        rng,
        [_join(first, second), _join(first, second, sep="-"), _join(first, place, sep="-"),
         _join(first, number), _join(first, pick(rng, w.BRAND_WORDS, n), sep="-")],
        [4, 2, 1, 1, 1],
    )  # fmt: skip
    tlds = [t if r < 0.75 else "com" for t, r in zip(tld, rng.random(n).tolist(), strict=True)]
    return _join(labels, tlds, sep=".")


def benign_infra(rng: np.random.Generator, n: int) -> list[str]:
    """Plumbing a resolver sees: mail and name servers, PTR lookups, ISP and internal host names."""
    apex = _apexes(rng, n)
    isp = [f"{c}{s}.{t}" for c, s, t in zip(
        _coined(rng, n),
        pick(rng, ("net", "telecom", "tel", "online", "broadband", "fiber", "cable", ""), n),
        pick_weighted(rng, w.BENIGN_TLDS, n),
        strict=True,
    )]  # fmt: skip
    octets = rng.integers(1, 255, size=(n, 4)).tolist()
    small = rng.integers(1, 5, size=n).tolist()
    role = pick(rng, ("srv", "ws", "app", "db", "dc", "fs", "printer", "nas", "vpn", "fw"), n)
    site = pick(rng, w.AIRPORTS, n)
    kind = pick(rng, ("dyn", "static", "dsl", "cable", "pool", "customer", "fiber"), n)
    patterns: list[Callable[[int], str]] = [
        lambda i: f"mx{small[i]}.{apex[i]}",
        lambda i: f"ns{small[i]}.{apex[i]}",
        lambda i: f"smtp{small[i]}.{apex[i]}",
        lambda i: "{3}.{2}.{1}.{0}.in-addr.arpa".format(*octets[i]),
        lambda i: f"{role[i]}-{site[i]}-{octets[i][0]:03d}.corp.{apex[i]}",
        lambda i: "{}-{}-{}-{}.".format(*octets[i]) + f"{kind[i]}.{isp[i]}",
        lambda i: "host-{}-{}-{}-{}.".format(*octets[i]) + isp[i],
        lambda i: f"time{small[i]}.{apex[i]}",
    ]
    which = rng.integers(0, len(patterns), size=n).tolist()
    return [patterns[p](i) for i, p in enumerate(which)]  # per row: each formats its own pattern


# ---------------------------------------------------------------- phishing

_PHISH_TLDS: Mapping[str, float] = {
    "com": 8, "net": 3, "info": 2, "online": 2, "xyz": 2, "top": 1, "site": 1, "live": 1,
    "app": 1, "support": 1, "help": 1, "co": 1, "us": 1, "cc": 1, "me": 1, "org": 1,
}  # fmt: skip
_TYPO_OPS = ("swap", "double", "omit", "neighbour", "lookalike", "hyphen", "plural")
_SQUAT_TLDS = ("com", "net", "co", "org", "cm", "info", "us", "app", "online", "io", "site", "xyz")


def _brands(rng: np.random.Generator, n: int) -> tuple[list[str], list[str]]:
    pairs = pick(rng, list(w.BRANDS.items()), n)
    return [b for b, _ in pairs], [t for _, t in pairs]


def phish_keyword(rng: np.random.Generator, n: int) -> list[str]:
    """Brand plus lure words: ``paypal-secure-login.com``, ``verify-netflix-account.info``."""
    brand, _ = _brands(rng, n)
    lure, lure2 = pick(rng, w.LURE_WORDS, n), pick(rng, w.LURE_WORDS, n)
    lure2 = [b if b != a else "center" for a, b in zip(lure, lure2, strict=True)]
    digits = _digits(rng, n, 1, 999)
    labels = _choose(
        rng,
        [
            _join(brand, lure, lure2, sep="-"),
            _join(lure, brand, sep="-"),
            _join(brand, lure),
            [f"{b}-{k}{d}" for b, k, d in zip(brand, lure, digits, strict=True)],
            _join(lure, brand, lure2, sep="-"),
            _join(brand, lure, sep="-"),
        ],
        [3, 2, 2, 1, 2, 3],
    )
    return _join(labels, pick_weighted(rng, _PHISH_TLDS, n), sep=".")


def _typo(label: str, op: str, u: float, v: float) -> str:
    """``label`` with one typing mistake ``op`` at the position ``u`` in [0, 1) points to."""
    i = int(u * len(label))
    if op == "swap":
        j = min(i, len(label) - 2)
        if label[j] != label[j + 1]:
            return label[:j] + label[j + 1] + label[j] + label[j + 2 :]
        op = "omit"
    if op == "double":
        return label[: i + 1] + label[i:]
    if op == "lookalike":
        spots = [k for k, ch in enumerate(label) if ch in w.LOOKALIKES]
        if spots:
            k = spots[int(v * len(spots))]
            return label[:k] + w.LOOKALIKES[label[k]] + label[k + 1 :]
        op = "neighbour"
    if op == "neighbour" and label[i] in w.KEYBOARD_NEIGHBOURS:
        near = w.KEYBOARD_NEIGHBOURS[label[i]]
        return label[:i] + near[int(v * len(near))] + label[i + 1 :]
    if op == "hyphen":
        k = 1 + int(u * (len(label) - 1))
        return label[:k] + "-" + label[k:]
    if op == "plural":
        return label + "s"
    if len(label) > 4:  # omit, and every op that found nothing to change
        return label[:i] + label[i + 1 :]
    return label + label[-1]


def phish_typosquat(rng: np.random.Generator, n: int) -> list[str]:
    """One typing mistake away from a brand: ``paypa1.com``, ``amazom.com``, ``micrsoft.net``."""
    brand, official = _brands(rng, n)
    ops = pick(rng, _TYPO_OPS, n)
    u, v = rng.random(n).tolist(), rng.random(n).tolist()
    ops2 = pick(rng, ("",) * 20 + _TYPO_OPS, n)  # about one row in four gets a second mistake
    u2, v2 = rng.random(n).tolist(), rng.random(n).tolist()
    squat_tld = pick(rng, _SQUAT_TLDS, n)
    tail = _tails(rng, n, 0.25)
    out = []
    for b, t, op, uu, vv, op2, uu2, vv2, st, end, r in zip(
        brand,
        official,
        ops,
        u,
        v,
        ops2,
        u2,
        v2,
        squat_tld,
        tail,
        rng.random(n).tolist(),
        strict=True,
    ):  # per row: each brand gets its own mistakes
        label = _typo(b, op, uu, vv)
        second = _typo(label, op2, uu2, vv2).strip("-") if op2 else label
        if second not in w.BRANDS and "--" not in second:  # two mistakes may cancel out
            label = second
        out.append(f"{label}{end}.{t if r < 0.5 else st}")
    return out


def _tails(rng: np.random.Generator, n: int, share: float) -> list[str]:
    """``-<lure word>`` on about ``share`` of rows, ``''`` on the rest."""
    words = pick(rng, w.LURE_WORDS, n)
    return [
        f"-{x}" if r < share else "" for x, r in zip(words, rng.random(n).tolist(), strict=True)
    ]


def phish_homoglyph(rng: np.random.Generator, n: int) -> list[str]:
    """Cyrillic letters drawn like Latin ones: ``раypal.com``, half in punycode (``xn--``)."""
    brand, official = _brands(rng, n)
    swaps = rng.random((n, max(len(b) for b in w.BRANDS))).tolist()
    tail = _tails(rng, n, 0.3)
    tld = pick(rng, _SQUAT_TLDS, n)
    rolls = rng.random((n, 2)).tolist()
    out = []
    for b, t, row, end, alt, (use_official, puny) in zip(
        brand, official, swaps, tail, tld, rolls, strict=True
    ):  # per row: which letters change is the row's own draw
        spots = [k for k, ch in enumerate(b) if ch in w.HOMOGLYPHS]
        chosen = {k for k in spots if row[k] < 0.4} or {spots[int(row[-1] * len(spots))]}
        label = "".join(w.HOMOGLYPHS[ch] if k in chosen else ch for k, ch in enumerate(b))
        name = f"{label}{end}.{t if use_official < 0.7 else alt}"
        out.append(to_ascii(name) if puny < 0.4 else name)
    return out


def _attacker_apexes(rng: np.random.Generator, n: int) -> list[str]:
    """Throwaway registrable names on cheap TLDs: ``secure-4hg2.xyz``, ``northbay17.lat``."""
    lure = pick(rng, w.LURE_WORDS, n)
    word, word2 = pick(rng, w.BRAND_WORDS, n), pick(rng, w.BRAND_WORDS, n)
    alnum = random_strings(rng, n, ALNUM, 4, 6)
    letters = random_strings(rng, n, LETTERS, 6, 11)
    labels = _choose(
        rng,
        [_join(lure, alnum, sep="-"), _join(word, word2, _digits(rng, n, 1, 99)), letters],
        [1, 1, 1],
    )
    return _join(labels, pick_weighted(rng, w.CHEAP_TLDS, n), sep=".")


def phish_subdomain(rng: np.random.Generator, n: int) -> list[str]:
    """A brand's name as subdomains of an attacker domain: ``paypal.com.secure-4hg2.xyz``."""
    brand, official = _brands(rng, n)
    lure, lure2 = pick(rng, w.LURE_WORDS, n), pick(rng, w.LURE_WORDS, n)
    apex = pick(rng, _attacker_apexes(rng, n // APEX_REUSE + 1), n)
    return _choose(
        rng,
        [
            [f"{b}.{t}.{a}" for b, t, a in zip(brand, official, apex, strict=True)],
            _join(lure, brand, apex, sep="."),
            [f"{b}-{k}.{a}" for b, k, a in zip(brand, lure, apex, strict=True)],
            [
                f"www.{b}.{t}-{k}.{a}"
                for b, t, k, a in zip(brand, official, lure, apex, strict=True)
            ],
            [f"{k}-{b}.{k2}.{a}" for k, b, k2, a in zip(lure, brand, lure2, apex, strict=True)],
        ],
        [3, 2, 2, 1, 1],
    )


def phish_hosted(rng: np.random.Generator, n: int) -> list[str]:
    """Phishing kits on free platforms the benign side uses too: ``paypal-verify-3.web.app``."""
    brand, _ = _brands(rng, n)
    lure, alnum = pick(rng, w.LURE_WORDS, n), random_strings(rng, n, ALNUM, 3, 6)
    labels = _choose(
        rng,
        [
            [f"{b}-{k}-{d}" for b, k, d in zip(brand, lure, _digits(rng, n, 1, 99), strict=True)],
            _join(lure, brand, alnum, sep="-"),
            _join(brand, lure),
        ],
        [1, 1, 1],
    )
    return _join(labels, pick(rng, w.PLATFORM_HOSTS, n), sep=".")


# ---------------------------------------------------------------- command and control


def c2_cheap_tld(rng: np.random.Generator, n: int) -> list[str]:
    """Plain words, cheap TLDs: ``river-shelter.xyz``, ``sparkbeyond.top``, ``oak12kvalue.icu``."""
    a, b = pick(rng, w.BRAND_WORDS, n), pick(rng, w.DGA_WORDS, n)
    glue = [f"{d}{ch}" for d, ch in zip(_digits(rng, n, 1, 99), pick(rng, LETTERS, n), strict=True)]
    coined = _coined(rng, n)
    labels = _choose(
        rng,
        [_join(a, b), _join(a, b, sep="-"), _join(a, glue, b), _join(coined, a), _join(a, coined)],
        [3, 2, 1, 1, 1],
    )
    return _join(labels, pick_weighted(rng, w.CHEAP_TLDS, n), sep=".")


def c2_subdomain(rng: np.random.Generator, n: int) -> list[str]:
    """A short host under a throwaway domain: ``gate.vr4kelmo9.ru``, ``x2.pq7zt.lat``."""
    words = ("api", "cdn", "gate", "panel", "token", "m", "alpha", "static", "ws", "img", "srv",
             "node", "edge", "app", "cp", "upd", "mail", "ns1", "beta", "data")  # fmt: skip
    host = _choose(rng, [pick(rng, words, n), random_strings(rng, n, ALNUM, 2, 8)], [1, 1])
    m = n // APEX_REUSE + 1
    label = _choose(
        rng,
        [
            _join(random_strings(rng, m, LETTERS, 1, 1), random_strings(rng, m, _MIXED, 4, 11)),
            _join(
                pick(rng, w.BRAND_WORDS, m), pick(rng, w.BRAND_WORDS, m), pick(rng, w.DGA_WORDS, m)
            ),
        ],
        [1, 1],
    )
    apex = _join(label, pick_weighted(rng, {**w.CHEAP_TLDS, "ru": 12, "lat": 4}, m), sep=".")
    return _join(host, pick(rng, apex, n), sep=".")


def c2_dyndns(rng: np.random.Generator, n: int) -> list[str]:
    """Free dynamic-DNS hosts for RAT panels: ``pixel4412.duckdns.org``, ``kj-walker.ddns.net``."""
    word, name = pick(rng, w.BRAND_WORDS, n), pick(rng, w.SURNAMES, n)
    digits = _digits(rng, n, 1, 9999)
    labels = _choose(
        rng,
        [
            _join(word, digits),
            random_strings(rng, n, _MIXED, 4, 12),
            _join(random_strings(rng, n, LETTERS, 2, 3), name, sep="-"),
            _join(name, digits),
        ],
        [2, 2, 1, 1],
    )
    return _join(labels, pick(rng, w.DYNAMIC_DNS, n), sep=".")


def c2_lookalike(rng: np.random.Generator, n: int) -> list[str]:
    """Names posing as vendor services: ``office-telemetry-cdn.com``, ``chromesync.net``."""
    vendor, service, service2 = (
        pick(rng, w.VENDORS, n),
        pick(rng, w.SERVICE_WORDS, n),
        pick(rng, w.SERVICE_WORDS, n),
    )
    labels = _choose(
        rng,
        [
            _join(vendor, service, sep="-"),
            _join(vendor, service),
            _join(service, vendor, service2, sep="-"),
            [
                f"{v}-{s}{d}"
                for v, s, d in zip(vendor, service, _digits(rng, n, 1, 99), strict=True)
            ],
            _join(vendor, service, service2, sep="-"),
        ],
        [3, 2, 1, 1, 2],
    )
    tlds = pick_weighted(
        rng,
        {"com": 5, "net": 3, "org": 1, "io": 1, "info": 1, "cloud": 1, "live": 1, "online": 1},
        n,
    )
    return _join(labels, tlds, sep=".")


#: Every family: ``benign_<kind>``, ``dga_<algo>``, ``phish_<kind>`` and ``c2_<kind>``.
FAMILIES: Mapping[str, Family] = {
    "benign_brand": Family("benign", 0.28, benign_brand),
    "benign_compound": Family("benign", 0.08, benign_compound),
    "benign_acronym": Family("benign", 0.05, benign_acronym),
    "benign_numeric": Family("benign", 0.05, benign_numeric),
    "benign_subdomain": Family("benign", 0.22, benign_subdomain),
    "benign_cloud": Family("benign", 0.09, benign_cloud),
    "benign_cdn": Family("benign", 0.10, benign_cdn),
    "benign_idn": Family("benign", 0.03, benign_idn),
    "benign_infra": Family("benign", 0.10, benign_infra),
    **{name: Family("dga", 1.0, algo) for name, algo in DGAS.items()},
    "phish_keyword": Family("phishing", 0.30, phish_keyword),
    "phish_typosquat": Family("phishing", 0.20, phish_typosquat),
    "phish_homoglyph": Family("phishing", 0.15, phish_homoglyph),
    "phish_subdomain": Family("phishing", 0.20, phish_subdomain),
    "phish_hosted": Family("phishing", 0.15, phish_hosted),
    "c2_cheap_tld": Family("c2", 0.35, c2_cheap_tld),
    "c2_subdomain": Family("c2", 0.25, c2_subdomain),
    "c2_dyndns": Family("c2", 0.20, c2_dyndns),
    "c2_lookalike": Family("c2", 0.20, c2_lookalike),
}
#: Families whose names sit under a domain the attacker registered (its last two labels).
ATTACKER_APEX_FAMILIES = frozenset({"phish_subdomain", "c2_subdomain"})
#: Families whose names are registrable domains, so lookups may add ``www.`` and the like.
_APEX_FAMILIES = frozenset({
    "benign_brand", "benign_compound", "benign_acronym", "benign_numeric", "benign_idn",
    "phish_keyword", "phish_typosquat", "phish_homoglyph", "c2_cheap_tld", "c2_lookalike",
})  # fmt: skip


# ---------------------------------------------------------------- tables


def generate_domains(n: int, *, malicious_share: float = 0.3, seed: int = 0) -> pa.Table:
    """A labelled table of ``n`` distinct domain names; the same seed gives the same table.

    Args:
        n: Rows.
        malicious_share: Share of rows labelled 1, exactly ``round(n * malicious_share)``,
            divided between categories as ``MALICIOUS_CATEGORY_SHARES`` says.
        seed: Seed for every random choice.

    Returns:
        Columns ``domain`` (lower case; internationalised names mostly in Unicode, homoglyph
        phishing half in punycode), ``label`` (int8: 1 malicious), ``family`` (a key of
        ``FAMILIES``) and ``category`` (``benign``, ``dga``, ``phishing`` or ``c2``), rows shuffled.

    Raises:
        ValueError: ``n`` is negative, the share is outside [0, 1], or ``n`` is so large a family
            runs out of distinct names.
    """
    check_sizes("n", n, malicious_share)
    rng = np.random.default_rng(seed)
    n_malicious = round(n * malicious_share)
    counts: dict[str, int] = {}
    for category, total in (
        *apportion(n_malicious, MALICIOUS_CATEGORY_SHARES).items(),
        ("benign", n - n_malicious),
    ):
        members = {f: fam.weight for f, fam in FAMILIES.items() if fam.category == category}
        counts.update(apportion(total, members))
    names, families = _distinct_names(rng, counts)
    categories = [FAMILIES[f].category for f in families]
    table = pa.table(
        {
            "domain": pa.array(names, type=pa.string()),
            "label": pa.array(np.array([c != "benign" for c in categories], dtype=np.int8)),
            "family": pa.array(families, type=pa.string()),
            "category": pa.array(categories, type=pa.string()),
        }
    )
    return table.take(pa.array(rng.permutation(n)))


def _distinct_names(
    rng: np.random.Generator, counts: Mapping[str, int]
) -> tuple[list[str], list[str]]:
    """Draw each family's count of names, redrawing until no name (as DNS spells it) repeats."""
    return draw_distinct(
        counts,
        lambda family, k: FAMILIES[family].generate(rng, k),
        to_ascii,
        group="family",
        values="names",
    )


def generate_blocklist(
    table: pa.Table,
    *,
    share: float = 0.5,
    seed: int = 0,
    fmt: Literal["plain", "hosts"] = "hosts",
) -> tuple[str, pa.Table]:
    """The text of a downloadable blocklist naming part of the malicious rows, and what it misses.

    Like real feeds it lists a share of what is out there, sometimes by the attacker's parent
    domain rather than the host; its header is comments and (``hosts``) the localhost lines every
    hosts file carries; names are in punycode, sorted, with a few duplicates, tabs and inline
    comments.

    Args:
        table: Rows from ``generate_domains`` (``domain``, ``label``; ``family`` when present
            lets subdomain-style rows be listed by their parent too).
        share: Share of malicious rows listed by name, exactly ``round(n_malicious * share)``.
        seed: Seed for every random choice.
        fmt: ``"hosts"`` (``0.0.0.0 name`` lines) or ``"plain"`` (one name a line).

    Returns:
        ``(text, unlisted)``: the list, and the rows of ``table`` it does not cover by name or
        parent domain (every benign row and the malicious rows a model must catch), in order.

    Raises:
        ValueError: Unknown ``fmt`` or a share outside [0, 1].
    """
    if fmt not in ("plain", "hosts"):
        raise ValueError(f"fmt must be 'plain' or 'hosts', got {fmt!r}")
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be within [0, 1], got {share}")
    rng = np.random.default_rng(seed)
    names: list[str | None] = table.column("domain").to_pylist()
    labels = np.asarray(table.column("label").to_numpy(zero_copy_only=False))
    families: list[str | None] = (
        table.column("family").to_pylist()
        if "family" in table.column_names
        else [None] * len(names)
    )
    malicious = np.flatnonzero(labels == 1)
    chosen = rng.permutation(malicious)[: round(len(malicious) * share)].tolist()
    listed: set[str] = set()
    for i, roll in zip(chosen, rng.random(len(chosen)).tolist(), strict=True):  # per listed row
        name = names[i]
        if name is None:
            continue
        name = to_ascii(name)
        listed.add(name)
        if families[i] in ATTACKER_APEX_FAMILIES and roll < PARENT_LISTED_SHARE:
            listed.add(".".join(name.split(".")[-2:]))
    covered = np.array([name is not None and _covered(to_ascii(name), listed) for name in names])
    text = _render_blocklist(sorted(listed), fmt, rng)
    return text, table.filter(pa.array(~covered, type=pa.bool_()))


def _covered(name: str, listed: set[str]) -> bool:
    """Whether ``name`` or one of its parents (never a bare TLD) is listed."""
    labels = name.split(".")
    return any(".".join(labels[i:]) in listed for i in range(len(labels) - 1))


_HOSTS_PREAMBLE = (
    "127.0.0.1 localhost",
    "127.0.0.1 localhost.localdomain",
    "127.0.0.1 local",
    "255.255.255.255 broadcasthost",
    "::1 localhost",
    "::1 ip6-localhost ip6-loopback",
    "fe80::1%lo0 localhost",
    "0.0.0.0 0.0.0.0",
)
_INLINE_COMMENTS = ("# reported", "# seen in campaign", "# sinkholed", "# confirmed", "#phish")


def _render_blocklist(entries: list[str], fmt: str, rng: np.random.Generator) -> str:
    """Header, junk and entries, with the irregularities real lists have."""
    when = DEFAULT_START.strftime("%d %b %Y %H:%M UTC")
    lines = [
        f"# Title: vigil generated blocklist ({fmt})",
        "# Generated for demos and tests: every name below is synthetic.",
        f"# Last modified: {when}",
        f"# Entries: {len(entries)}",
        "#",
    ]
    if fmt == "hosts":
        lines += ["# Format: 0.0.0.0 <domain>", "", *_HOSTS_PREAMBLE, "", "# ---- entries ----"]
    else:
        lines += ["# One domain per line; subdomains are blocked with their parent.", ""]
    rolls = rng.random((len(entries), 4)).tolist()
    comments = pick(rng, _INLINE_COMMENTS, len(entries))
    repeat_at = set(rng.integers(0, max(len(entries), 1), size=min(3, len(entries))).tolist())
    for k, (name, roll, comment) in enumerate(zip(entries, rolls, comments, strict=True)):
        if k and k % 500 == 0:
            lines += ["", f"# ---- part {k // 500 + 1} ----"]
        line = name
        if fmt == "hosts":
            line = ("0.0.0.0\t" if roll[0] < 0.02 else "0.0.0.0 ") + name
        if roll[1] < 0.02:
            line += f" {comment}"
        if roll[2] < 0.01:
            line += "  "
        lines.append(line)
        if k in repeat_at:
            lines.append(line)
        if roll[3] < 0.003:
            lines.append("")
    lines += ["", "# ---- end ----"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- DNS log

#: Share of lookups per hour of the day (UTC), office hours heaviest.
_HOURLY = np.array(
    [2, 1.5, 1, 1, 1, 1.5, 3, 5, 8, 9, 9, 8, 7, 8, 9, 9, 8, 7, 6, 5, 4, 4, 3, 2.5], dtype=np.float64
)
_LOG_PREFIXES = ("www",) * 6 + ("api", "cdn", "static", "m", "mail", "img", "app")
_QTYPES: Mapping[str, float] = {
    "A": 55,
    "AAAA": 25,
    "HTTPS": 12,
    "TXT": 3,
    "MX": 2,
    "SRV": 1,
    "NS": 1,
}
#: Seconds a DGA client's burst of lookups spans.
_DGA_BURST_SECONDS = 600


def generate_dns_log(
    n_events: int,
    domains: pa.Table,
    *,
    malicious_share: float = 0.003,
    seed: int = 0,
    start: datetime | None = None,
) -> pa.Table:
    """A day of resolver query log over ``domains``, with ground truth, for scoring demos.

    Benign names are looked up with Zipf popularity, so a few names take most lookups and the log
    has far fewer distinct queries than events; registrable names come now bare, now with a host
    label (``www.``, ``api.``); a few lookups are in upper case or end in the root's dot;
    internationalised names are in punycode, as on the wire. Malicious lookups come from a few
    infected clients: DGA names in short bursts that mostly fail (NXDOMAIN), phishing and C2
    names repeated like beacons.

    Args:
        n_events: Lookups.
        domains: A table from ``generate_domains`` (``domain``, ``label``; ``family`` and
            ``category`` when present shape the lookups).
        malicious_share: Share of lookups of malicious names, exactly rounded; 0 when the table
            has none.
        seed: Seed for every random choice.
        start: Start of the day covered; 2024-06-03 00:00 UTC when not given.

    Returns:
        Columns ``ts`` (timestamp[us, UTC], non-decreasing), ``client_ip``, ``query``, ``qtype``,
        ``rcode`` (``NOERROR`` or ``NXDOMAIN``) and ``label`` (int8, for evaluation only).

    Raises:
        ValueError: ``n_events`` is negative, the share is outside [0, 1], or the table has no
            benign rows to look up.
    """
    check_sizes("n_events", n_events, malicious_share)
    rng = np.random.default_rng(seed)
    names: list[str] = domains.column("domain").to_pylist()
    labels = np.asarray(domains.column("label").to_numpy(zero_copy_only=False))
    n_rows = len(names)
    families = _column_or(domains, "family", n_rows)
    categories = _column_or(domains, "category", n_rows)
    benign = np.flatnonzero(labels == 0)
    malicious = np.flatnonzero(labels == 1)
    if n_events and not benign.size:
        raise ValueError("domains has no benign rows (label 0) to look up")
    n_bad = round(n_events * malicious_share) if malicious.size else 0
    n_good = n_events - n_bad

    popular = rng.permutation(benign)
    zipf = 1.0 / np.arange(1, popular.size + 1, dtype=np.float64) ** ZIPF_EXPONENT
    rows_good = popular[rng.choice(popular.size, size=n_good, p=zipf / zipf.sum())]
    is_dga = np.array([categories[i] == "dga" for i in malicious.tolist()], dtype=bool)
    dga, other = malicious[is_dga], malicious[~is_dga]
    n_dga = n_bad if not other.size else (round(n_bad * 0.5) if dga.size else 0)
    rows_dga = rng.choice(dga, size=n_dga) if n_dga else np.empty(0, dtype=np.int64)
    beacons = rng.permutation(other)[: max(1, (n_bad - n_dga) // 6)] if other.size else other
    rows_other = (
        beacons[rng.integers(0, beacons.size, size=n_bad - n_dga)] if beacons.size else beacons
    )
    rows = np.concatenate([rows_good, rows_dga, rows_other]).astype(np.int64)

    clients = _client_ips(rng, int(np.clip(n_events // 400, 20, 5000)))
    client_p = 1.0 / np.arange(1, len(clients) + 1, dtype=np.float64) ** 0.8
    client_good = rng.choice(len(clients), size=n_good, p=client_p / client_p.sum())
    infected = rng.permutation(len(clients))[: int(np.clip(n_bad // 50, 1, 8))]
    client_bad = infected[rng.integers(0, infected.size, size=n_bad)]
    client = np.concatenate([client_good, client_bad])

    day_us = _hourly_offsets_us(rng, n_events)
    burst_start = _hourly_offsets_us(rng, len(clients))
    burst = burst_start[client_bad[:n_dga]] + rng.integers(
        0, _DGA_BURST_SECONDS * 10**6, size=n_dga
    )
    day_us[n_good : n_good + n_dga] = np.minimum(burst, 86_400 * 10**6 - 1)

    queries = _decorate(rng, rows, names, families)
    qtypes = pick_weighted(rng, _QTYPES, n_events)
    qtypes = [
        "PTR" if q.endswith(".in-addr.arpa") else t for q, t in zip(queries, qtypes, strict=True)
    ]
    nx_p = np.full(n_events, 0.01)
    nx_p[n_good : n_good + n_dga] = 0.92
    nx_p[n_good + n_dga :] = 0.05
    rcode = np.where(rng.random(n_events) < nx_p, "NXDOMAIN", "NOERROR")

    order = np.argsort(day_us, kind="stable")
    start_us = int((start or DEFAULT_START).timestamp() * 10**6)
    return pa.table(
        {
            "ts": pa.array(start_us + day_us[order], type=pa.timestamp("us", tz="UTC")),
            "client_ip": pa.array([clients[i] for i in client[order].tolist()], type=pa.string()),
            "query": pa.array([queries[i] for i in order.tolist()], type=pa.string()),
            "qtype": pa.array([qtypes[i] for i in order.tolist()], type=pa.string()),
            "rcode": pa.array(rcode[order].tolist(), type=pa.string()),
            "label": pa.array(labels[rows[order]].astype(np.int8)),
        }
    )


def _column_or(table: pa.Table, column: str, n: int) -> list[str | None]:
    return table.column(column).to_pylist() if column in table.column_names else [None] * n


def _client_ips(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct office client addresses in 10.0.0.0/12."""
    found: dict[int, None] = {}
    while len(found) < n:
        for x in rng.integers(0, 1 << 20, size=n).tolist():
            if x & 0xFF not in (0, 255):
                found[x] = None
    return [f"10.{x >> 16}.{(x >> 8) & 0xFF}.{x & 0xFF}" for x in list(found)[:n]]


def _hourly_offsets_us(rng: np.random.Generator, n: int) -> NDArray[np.int64]:
    hours = rng.choice(24, size=n, p=_HOURLY / _HOURLY.sum())
    return hours * 3_600_000_000 + rng.integers(0, 3_600_000_000, size=n)


def _decorate(
    rng: np.random.Generator, rows: NDArray[np.int64], names: list[str], families: list[str | None]
) -> list[str]:
    """Each looked-up row's name as a client asks for it: host label, case, trailing dot."""
    wire = {i: to_ascii(names[i]) for i in np.unique(rows).tolist()}  # per distinct name
    apex = {i: families[i] in _APEX_FAMILIES for i in wire}
    preferred = dict(zip(wire, pick(rng, _LOG_PREFIXES, len(wire)), strict=True))
    prefixed = (rng.random(rows.size) < PREFIXED_QUERY_SHARE).tolist()
    upper = (rng.random(rows.size) < UPPER_CASE_QUERY_SHARE).tolist()
    dotted = (rng.random(rows.size) < TRAILING_DOT_QUERY_SHARE).tolist()
    out = []
    for i, with_prefix, in_upper, with_dot in zip(
        rows.tolist(), prefixed, upper, dotted, strict=True
    ):
        query = wire[i]  # per event: each lookup is written its own way
        if with_prefix and apex[i]:
            query = f"{preferred[i]}.{query}"
        if in_upper:
            query = query.upper()
        if with_dot:
            query += "."
        out.append(query)
    return out
