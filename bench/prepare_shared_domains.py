"""Turn ../shared/data/domains into three leakage-free evaluation set-ups for the domain detector.

Run with the project's venv:

    .venv/bin/python bench/prepare_shared_domains.py --out /tmp/vigil-shared-domains

It writes Parquet files (columns ``domain``, ``label`` int8, ``family``, ``category``) outside
the repository; the data itself is never copied into vigil. Rows flagged ``label_conflict`` by
the data README are dropped everywhere and every file holds each domain at most once.

``registered_split/``
    DGA rows against the benign top lists, at most ``--dga-cap`` rows per DGA family (sampled
    with a fixed seed), split by registered domain (eTLD+1, from tldextract's bundled suffix
    list, offline) so that no eTLD+1 is on both sides. Measures "does it generalise to unseen
    names", not "did it memorise a site".

``family_holdout/``
    The same population, but 12 DGA families never reach training: the word-list /
    pronounceable ones (nymaim2, charbot, vawtrak, qsnatch, ngioweb), which look least like
    random strings, plus 7 drawn with the seed among families with at least 100 rows. Everything
    else follows the registered split above. Measures "does it catch an algorithm it never saw".

``intel_halves/``
    The maltrail lists (maltrail_malware, maltrail_malicious). Each list is split into two
    random halves; a domain in half A of any list is half A everywhere. Half A becomes the
    blocklist files ``sources/<category>.txt`` (what the team already knows) and training rows;
    half B is the test. Benign and DGA training rows come from the registered split's train
    side, benign test rows from its test side. Measures what vigil adds on top of its own
    intel, and how much of it is list structure (a listed parent or sibling under the same
    eTLD+1) rather than the model.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import tldextract

from _splits import SHARED_DATA, in_test, rng, split_parser  # bench/_splits.py, beside this script

DEFAULT_OUT = Path("/tmp/vigil-shared-domains")

#: Word-list / pronounceable DGA families: always held out in ``family_holdout``.
WORDLIST_FAMILIES = ("dga_nymaim2", "dga_charbot", "dga_vawtrak", "dga_qsnatch", "dga_ngioweb")
HELD_OUT_TOTAL = 12
HELD_OUT_MIN_ROWS = 100
INTEL_CATEGORIES = ("maltrail_malicious", "maltrail_malware")
MALTRAIL_COMMIT = "8adace159e1e9418ca4dd1a4b07f84917c3b6155"

SCHEMA = pa.schema(
    [
        ("domain", pa.string()),
        ("label", pa.int8()),
        ("family", pa.string()),
        ("category", pa.string()),
    ]
)

Row = tuple[str, int, str, str]  # domain, label, family, category

_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def etld1(domain: str) -> str:
    """Registered domain (eTLD+1); the name itself when it has none (bare suffix, IP)."""
    return _EXTRACT(domain).top_domain_under_public_suffix or domain


def load(shared: Path) -> tuple[dict[str, list[Row]], int]:
    """Rows by category, label conflicts dropped; also the number of rows dropped."""
    table = pcsv.read_csv(shared / "domains" / "domains.csv.gz")
    conflict = table.column("label_conflict").fill_null(False)
    dropped = pc.sum(pc.cast(conflict, pa.int64())).as_py() or 0
    table = table.filter(pc.invert(conflict))
    by_category: dict[str, list[Row]] = defaultdict(list)
    columns = [table.column(c).to_pylist() for c in ("domain", "label", "family", "category")]
    for domain, label, family, category in zip(*columns, strict=True):
        if domain:
            by_category[category].append((domain, int(label), family or "", category))
    return by_category, dropped


def dedupe(rows: list[Row]) -> list[Row]:
    seen: set[str] = set()
    out = []
    for row in rows:
        if row[0] not in seen:
            seen.add(row[0])
            out.append(row)
    return out


def to_table(rows: list[Row]) -> pa.Table:
    domain, label, family, category = zip(*rows, strict=True) if rows else ([], [], [], [])
    return pa.table([list(domain), list(label), list(family), list(category)], schema=SCHEMA)


def counts(rows: list[Row]) -> dict[str, int]:
    return dict(sorted(Counter(row[3] for row in rows).items()))


def write(folder: Path, train: list[Row], test: list[Row]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(to_table(train), folder / "train.parquet")
    pq.write_table(to_table(test), folder / "test.parquet")
    print(f"{folder.name}: train {len(train):,} {counts(train)}")
    print(f"{folder.name}: test  {len(test):,} {counts(test)}")


def population(
    by_category: dict[str, list[Row]], dga_cap: int, seed: int
) -> tuple[list[Row], list[Row], dict[str, int]]:
    """Deduplicated benign rows and DGA rows capped per family (with the uncapped sizes)."""
    benign = dedupe(
        [
            row
            for category, rows in by_category.items()
            if category.startswith("benign_")
            for row in rows
        ]
    )
    by_family: dict[str, list[Row]] = defaultdict(list)
    for row in dedupe(by_category["dga"]):
        by_family[row[2]].append(row)
    sizes = {family: len(rows) for family, rows in sorted(by_family.items())}
    draw = rng(seed, 1)
    dga: list[Row] = []
    for family in sorted(by_family):
        rows = by_family[family]
        if len(rows) > dga_cap:
            keep = np.sort(draw.choice(len(rows), dga_cap, replace=False))
            rows = [rows[i] for i in keep]
        dga.extend(rows)
    return benign, dga, sizes


def registered_split(rows: list[Row], test_share: float, seed: int) -> tuple[list[Row], list[Row]]:
    train: list[Row] = []
    test: list[Row] = []
    for row in rows:
        (test if in_test(etld1(row[0]), test_share, seed) else train).append(row)
    return train, test


def held_out_families(sizes: dict[str, int], seed: int) -> list[str]:
    named = [family for family in WORDLIST_FAMILIES if family in sizes]
    missing = sorted(set(WORDLIST_FAMILIES) - set(named))
    if missing:  # not the case in the current snapshot; the seeded draw fills the gap
        print(f"family_holdout: named families absent from the data: {missing}")
    candidates = sorted(
        family for family, n in sizes.items() if n >= HELD_OUT_MIN_ROWS and family not in named
    )
    drawn = rng(seed, 2).choice(candidates, HELD_OUT_TOTAL - len(named), replace=False)
    return named + sorted(str(family) for family in drawn)


def intel_halves(
    by_category: dict[str, list[Row]], seed: int
) -> tuple[set[str], dict[str, list[Row]], dict[str, set[str]]]:
    """Half-A domains, every maltrail row by domain, and each category's half-A source set."""
    lists: dict[tuple[str, str], list[str]] = defaultdict(list)
    rows_of: dict[str, list[Row]] = defaultdict(list)
    for category in INTEL_CATEGORIES:
        for row in by_category[category]:
            lists[(category, row[2])].append(row[0])
            rows_of[row[0]].append(row)
    draw = rng(seed, 3)
    half_a: set[str] = set()
    for key in sorted(lists):
        entries = list(dict.fromkeys(lists[key]))
        order = draw.permutation(len(entries))
        half_a.update(entries[i] for i in order[: (len(entries) + 1) // 2])
    # A anywhere -> A everywhere: every list holding a half-A domain lists it in its source.
    sources: dict[str, set[str]] = {category: set() for category in INTEL_CATEGORIES}
    for domain in half_a:
        for row in rows_of[domain]:
            sources[row[3]].add(domain)
    return half_a, rows_of, sources


def representative(rows: list[Row]) -> Row:
    """One row per domain: the first (category, family) it is listed under."""
    return min(rows, key=lambda row: (row[3], row[2]))


def cap_category(rows: list[Row], category: str, cap: int, draw: np.random.Generator) -> list[Row]:
    chosen = [i for i, row in enumerate(rows) if row[3] == category]
    if len(chosen) <= cap:
        return rows
    drop = set(draw.choice(chosen, len(chosen) - cap, replace=False).tolist())
    return [row for i, row in enumerate(rows) if i not in drop]


def parents(domain: str, registered: str) -> list[str]:
    """Proper parents of ``domain`` down to (and including) its eTLD+1."""
    out = []
    labels = domain.split(".")
    for i in range(1, len(labels)):
        parent = ".".join(labels[i:])
        if len(parent) < len(registered):
            break
        out.append(parent)
    return out


def list_structure(rows: list[Row], listed: set[str], listed_etld1: set[str]) -> dict[str, int]:
    """How many rows a listed parent or a listed same-eTLD+1 sibling would catch."""
    parent = sibling = 0
    for row in rows:
        registered = etld1(row[0])
        if any(p in listed for p in parents(row[0], registered)):
            parent += 1
        elif registered in listed_etld1:
            sibling += 1
    return {"rows": len(rows), "listed_parent": parent, "listed_sibling_only": sibling}


def write_sources(folder: Path, sources: dict[str, set[str]], seed: int) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for category, domains in sources.items():
        kind = category.removeprefix("maltrail_")
        header = (
            f"# source: stamparm/maltrail:trails/static/{kind}/*.txt @ {MALTRAIL_COMMIT}, half A\n"
            f"# written by vigil bench/prepare_shared_domains.py (seed {seed}); "
            f"{len(domains)} domains; the half-B test domains are in none of these files\n"
        )
        (folder / f"{category}.txt").write_text(header + "".join(f"{d}\n" for d in sorted(domains)))
        written[category] = len(domains)
    return written


def main() -> None:
    parser = split_parser(__doc__.splitlines()[0], shared=SHARED_DATA, out=DEFAULT_OUT)
    parser.add_argument("--dga-cap", type=int, default=5_000, help="rows per DGA family")
    parser.add_argument(
        "--malware-cap", type=int, default=150_000, help="maltrail_malware rows per half"
    )
    args = parser.parse_args()
    if not (args.shared / "domains" / "domains.csv.gz").is_file():
        raise SystemExit(f"{args.shared}/domains not found: this script needs ../shared/data")
    by_category, conflicts = load(args.shared)
    summary: dict[str, object] = {"bench": "prepare_shared_domains", "out": str(args.out)}
    summary["label_conflict_rows_dropped"] = conflicts

    # 1. registered_split
    benign, dga, sizes = population(by_category, args.dga_cap, args.seed)
    train, test = registered_split(benign + dga, args.test_share, args.seed)
    assert not {etld1(r[0]) for r in train} & {etld1(r[0]) for r in test}
    write(args.out / "registered_split", train, test)
    summary["registered_split"] = {"train": len(train), "test": len(test)}

    # 2. family_holdout
    held = held_out_families(sizes, args.seed)
    held_set = set(held)
    print(f"family_holdout: held out ({len(held)}): {', '.join(held)}")
    ho_train = [row for row in train if row[2] not in held_set]
    ho_test = test + [row for row in train if row[2] in held_set]  # held out: all rows
    assert not held_set & {row[2] for row in ho_train}
    write(args.out / "family_holdout", ho_train, ho_test)
    summary["family_holdout"] = {
        "train": len(ho_train),
        "test": len(ho_test),
        "held_out": held,
        "held_out_test_rows": sum(row[2] in held_set for row in ho_test),
    }

    # 3. intel_halves
    half_a, rows_of, sources = intel_halves(by_category, args.seed)
    half_b = set(rows_of) - half_a
    listed = set().union(*sources.values())
    assert listed == half_a
    assert not half_b & listed, "a half-B domain reached a source file"
    draw = rng(args.seed, 4)
    a_rows = cap_category(
        [representative(rows_of[d]) for d in sorted(half_a)],
        "maltrail_malware",
        args.malware_cap,
        draw,
    )
    b_rows = cap_category(
        [representative(rows_of[d]) for d in sorted(half_b)],
        "maltrail_malware",
        args.malware_cap,
        draw,
    )
    benign_train = [row for row in train if row[1] == 0]
    benign_test = [row for row in test if row[1] == 0]
    intel_train = a_rows + train  # half A + the registered split's benign and DGA train rows
    train_domains = {row[0] for row in intel_train}
    overlap = sum(row[0] in train_domains for row in b_rows)
    b_rows = [row for row in b_rows if row[0] not in train_domains]  # e.g. a listed DGA name
    intel_test = b_rows + benign_test
    assert not {row[0] for row in intel_test} & train_domains
    assert not {row[0] for row in benign_test} & listed, "a benign test domain is listed"
    folder = args.out / "intel_halves"
    written = write_sources(folder / "sources", sources, args.seed)
    write(folder, intel_train, intel_test)
    print(
        f"intel_halves: maltrail domains {len(rows_of):,} -> half A {len(half_a):,} "
        f"(all in sources), half B {len(half_b):,}; maltrail_malware capped at "
        f"{args.malware_cap:,} rows per half in the Parquet files (sources keep all of half A); "
        f"{overlap} half-B rows dropped because the domain is also a training row"
    )
    listed_etld1 = {etld1(domain) for domain in listed}
    structure = {
        "half_b_test": list_structure(b_rows, listed, listed_etld1),
        "benign_test": list_structure(benign_test, listed, listed_etld1),
    }
    for category in INTEL_CATEGORIES:
        part = [row for row in b_rows if row[3] == category]
        structure[f"half_b_{category}"] = list_structure(part, listed, listed_etld1)
    for name, figures in structure.items():
        print(f"intel_halves: {name}: {figures}")
    summary["intel_halves"] = {
        "train": len(intel_train),
        "test": len(intel_test),
        "train_by_category": counts(intel_train),
        "test_by_category": counts(intel_test),
        "sources": written,
        "half_b_dropped_as_train_duplicates": overlap,
        "benign_train": len(benign_train),
        "structure": structure,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
