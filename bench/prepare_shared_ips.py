"""Turn ../shared/data/ips into a leakage-free train / test split and intel sources for IPs.

Run with the project's venv:

    .venv/bin/python bench/prepare_shared_ips.py --out /tmp/vigil-shared-domains

It writes ``<out>/ips/train.parquet`` and ``<out>/ips/test.parquet`` (columns ``ip``,
``label`` int8, ``category``, ``family``), ``<out>/ips/ipsum_low.parquet`` and netset files
``<out>/ips/sources/*.txt`` outside the repository; the data itself is never copied into vigil.

Malicious single IPs are the maltrail malware / malicious lists and ipsum addresses seen on at
least 3 blacklists (ipsum's own advice). Each list is split into two random halves; an IP in
half A of any list is half A everywhere. Half A becomes the netset sources (what the team
already knows) and the malicious training rows, half B the malicious test rows. ipsum
addresses on only 1-2 blacklists are noisy positives: they go to ``ipsum_low.parquet`` and
are neither training rows nor negatives.

There is no real benign IP corpus in the data: the label-0 rows are CDN / cloud ranges and
maltrail's whitelist. Host addresses are sampled inside each range with the seed and split
70/30 by /24, so no /24 is on both sides. A model trained on this learns "looks like CDN /
cloud infrastructure", not "normal traffic"; the script prints how thin that side is.
"""

from __future__ import annotations

import ipaddress
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from _splits import SHARED_DATA, in_test, rng, split_parser  # bench/_splits.py, beside this script

DEFAULT_OUT = Path("/tmp/vigil-shared-domains")
MALTRAIL_COMMIT = "8adace159e1e9418ca4dd1a4b07f84917c3b6155"
IPSUM_COMMIT = "5a7c15f3670357672b8c11e2da5d37f6b4cc1982"
SOURCE_OF = {
    "maltrail_malware": f"stamparm/maltrail:trails/static/malware/*.txt @ {MALTRAIL_COMMIT}",
    "maltrail_malicious": f"stamparm/maltrail:trails/static/malicious/*.txt @ {MALTRAIL_COMMIT}",
    "ipsum_score3plus": f"stamparm/ipsum:ipsum.txt (score >= 3) @ {IPSUM_COMMIT}",
}

SCHEMA = pa.schema(
    [
        ("ip", pa.string()),
        ("label", pa.int8()),
        ("category", pa.string()),
        ("family", pa.string()),
    ]
)

Row = tuple[str, int, str, str]  # ip, label, category, family


def slash24(ip: str) -> str:
    return ip.rsplit(".", 1)[0]


def to_table(rows: list[Row]) -> pa.Table:
    ip, label, category, family = zip(*rows, strict=True) if rows else ([], [], [], [])
    return pa.table([list(ip), list(label), list(category), list(family)], schema=SCHEMA)


def counts(rows: list[Row]) -> dict[str, int]:
    return dict(sorted(Counter(row[2] for row in rows).items()))


def load(shared: Path) -> list[dict[str, Any]]:
    table = pcsv.read_csv(shared / "ips" / "ips.csv.gz")
    rows: list[dict[str, Any]] = table.filter(pc.is_valid(table.column("ip"))).to_pylist()
    return rows


def malicious_lists(
    records: list[dict[str, Any]],
) -> tuple[dict[tuple[str, str], list[str]], set[str]]:
    """Single-IP malicious lists keyed by (category, family), and the ipsum score 1-2 IPs."""
    lists: dict[tuple[str, str], list[str]] = defaultdict(list)
    low: set[str] = set()
    for record in records:
        ip, category = str(record["ip"]), str(record["category"])
        if record["label"] != 1 or record["is_cidr"]:
            continue
        if category.startswith("maltrail_"):
            lists[(category, str(record["family"] or ""))].append(ip)
        elif category == "ipsum_blacklist_hits":
            score = int(record["score"] or 0)
            if score >= 3:
                lists[("ipsum_score3plus", f"ipsum_score_{min(score, 10)}")].append(ip)
            else:
                low.add(ip)
    return lists, low


def halves(
    lists: dict[tuple[str, str], list[str]], seed: int
) -> tuple[set[str], dict[str, list[tuple[str, str]]]]:
    """Half-A IPs (A in any list -> A everywhere) and the lists each IP is on."""
    draw = rng(seed, 1)
    half_a: set[str] = set()
    lists_of: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key in sorted(lists):
        entries = list(dict.fromkeys(lists[key]))
        for ip in entries:
            lists_of[ip].append(key)
        order = draw.permutation(len(entries))
        half_a.update(entries[i] for i in order[: (len(entries) + 1) // 2])
    return half_a, lists_of


def representative(ip: str, keys: list[tuple[str, str]]) -> Row:
    """One row per IP: a maltrail list (named family) before ipsum."""
    category, family = min(keys, key=lambda k: (k[0].startswith("ipsum"), k[0], k[1]))
    return ip, 1, category, family


def benign_hosts(
    records: list[dict[str, Any]], per_cidr: int, seed: int
) -> tuple[list[Row], list[ipaddress.IPv4Network]]:
    """Whitelist IPs plus ``per_cidr`` host addresses sampled inside each benign range."""
    draw = rng(seed, 2)
    rows: list[Row] = []
    networks = []
    for record in records:
        if record["label"] != 0:
            continue
        category = str(record["category"])
        family = str(record["family"] or "") or category
        network = ipaddress.ip_network(str(record["ip"]), strict=False)
        if not isinstance(network, ipaddress.IPv4Network):
            continue  # the data holds IPv4 only; kept explicit
        networks.append(network)
        base, size = int(network.network_address), network.num_addresses
        if size <= 2:
            offsets = list(range(size))
        else:  # hosts only: skip the network and broadcast addresses
            k = min(per_cidr, size - 2)
            offsets = (draw.choice(size - 2, k, replace=False) + 1).tolist()
        rows += [(str(ipaddress.IPv4Address(base + o)), 0, category, family) for o in offsets]
    unique = list({row[0]: row for row in rows}.values())
    return unique, networks


def inside(ips: set[str], networks: list[ipaddress.IPv4Network]) -> int:
    """How many of ``ips`` fall inside any of ``networks``."""
    values = np.sort(np.array([int(ipaddress.IPv4Address(ip)) for ip in ips], dtype=np.int64))
    hit = np.zeros(len(values), dtype=bool)
    for network in networks:
        lo = int(network.network_address)
        start, stop = np.searchsorted(values, [lo, lo + network.num_addresses])
        hit[start:stop] = True
    return int(hit.sum())


def neighbours(rows: list[Row], listed: set[str], listed_24: set[str]) -> dict[str, int]:
    """How many rows a listed neighbour in the same /24 would catch."""
    same = sum(slash24(row[0]) in listed_24 and row[0] not in listed for row in rows)
    return {"rows": len(rows), "listed_same_slash24": same}


def write_sources(folder: Path, sources: dict[str, set[str]], seed: int) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for category, ips in sorted(sources.items()):
        header = (
            f"# source: {SOURCE_OF[category]}, half A\n"
            f"# written by vigil bench/prepare_shared_ips.py (seed {seed}); "
            f"{len(ips)} addresses; the half-B test addresses are in none of these files\n"
        )
        ordered = sorted(ips, key=lambda ip: int(ipaddress.IPv4Address(ip)))
        (folder / f"{category}.txt").write_text(header + "".join(f"{ip}\n" for ip in ordered))
        written[category] = len(ips)
    return written


def main() -> None:
    parser = split_parser(__doc__.splitlines()[0], shared=SHARED_DATA, out=DEFAULT_OUT)
    parser.add_argument("--per-cidr", type=int, default=20, help="hosts sampled per benign range")
    args = parser.parse_args()
    if not (args.shared / "ips" / "ips.csv.gz").is_file():
        raise SystemExit(f"{args.shared}/ips not found: this script needs ../shared/data")
    records = load(args.shared)
    lists, low = malicious_lists(records)
    half_a, lists_of = halves(lists, args.seed)
    half_b = set(lists_of) - half_a
    sources: dict[str, set[str]] = defaultdict(set)
    for ip in half_a:
        for category, _family in lists_of[ip]:
            sources[category].add(ip)
    listed = set().union(*sources.values())
    assert listed == half_a
    assert not half_b & listed, "a half-B address reached a source file"

    malicious = set(lists_of)
    low -= malicious  # on a maltrail list or ipsum >= 3 elsewhere: not "low"
    benign, networks = benign_hosts(records, args.per_cidr, args.seed)
    conflicts = {row[0] for row in benign} & (malicious | low)
    benign = [row for row in benign if row[0] not in conflicts]
    benign_train = [r for r in benign if not in_test(slash24(r[0]), args.test_share, args.seed)]
    benign_test = [r for r in benign if in_test(slash24(r[0]), args.test_share, args.seed)]

    train = [representative(ip, lists_of[ip]) for ip in sorted(half_a)] + benign_train
    test = [representative(ip, lists_of[ip]) for ip in sorted(half_b)] + benign_test
    train_ips = {row[0] for row in train}
    assert not train_ips & {row[0] for row in test}
    assert not {slash24(r[0]) for r in benign_train} & {slash24(r[0]) for r in benign_test}
    assert not {row[0] for row in benign_test} & listed, "a benign test address is listed"

    folder = args.out / "ips"
    written = write_sources(folder / "sources", sources, args.seed)
    pq.write_table(to_table(train), folder / "train.parquet")
    pq.write_table(to_table(test), folder / "test.parquet")
    low_rows = [(ip, 1, "ipsum_low", "ipsum_score_1_2") for ip in sorted(low)]
    pq.write_table(to_table(low_rows), folder / "ipsum_low.parquet")
    print(f"ips: train {len(train):,} {counts(train)}")
    print(f"ips: test  {len(test):,} {counts(test)}")
    print(f"ips: ipsum_low (score 1-2, not a training row, not a negative) {len(low):,}")
    print(f"ips: sources (half A) {written}; half B {len(half_b):,} addresses")

    cdn = [r for r in records if r["label"] == 0 and r["category"] == "reference_cdn_range"]
    providers = {str(r["family"]) for r in cdn}
    whitelist = [r for r in records if r["label"] == 0 and r["category"] != "reference_cdn_range"]
    in_benign_ranges = inside(malicious, networks)
    print(
        f"ips: benign side is thin: {len(cdn)} CDN / cloud ranges from {len(providers)} provider "
        f"lists + {len(whitelist)} whitelist entries (resolvers, Google) -> "
        f"{len(benign):,} sampled hosts in {len({slash24(r[0]) for r in benign}):,} /24s "
        f"({args.per_cidr} per range), "
        f"against {len(malicious):,} malicious addresses. It says 'looks like CDN / cloud "
        f"infrastructure', not 'normal traffic': a low score on a residential or office "
        f"address means nothing. {in_benign_ranges:,} malicious addresses lie inside the benign "
        f"ranges (attackers use CDNs too); {len(conflicts)} sampled hosts were listed as "
        f"malicious and dropped."
    )
    listed_24 = {slash24(ip) for ip in listed}
    structure = {
        "half_b_test": neighbours([r for r in test if r[1] == 1], listed, listed_24),
        "benign_test": neighbours(benign_test, listed, listed_24),
    }
    for category in sorted(written):
        part = [r for r in test if r[2] == category]
        structure[f"half_b_{category}"] = neighbours(part, listed, listed_24)
    for name, figures in structure.items():
        print(f"ips: {name}: {figures}")
    summary = {
        "bench": "prepare_shared_ips",
        "out": str(folder),
        "train": len(train),
        "test": len(test),
        "train_by_category": counts(train),
        "test_by_category": counts(test),
        "ipsum_low": len(low),
        "sources": written,
        "benign_ranges": len(cdn),
        "benign_providers": len(providers),
        "benign_whitelist_entries": len(whitelist),
        "malicious_inside_benign_ranges": in_benign_ranges,
        "benign_conflicts_dropped": len(conflicts),
        "structure": structure,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
