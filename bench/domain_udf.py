"""Benchmark: `vigil_domain_risk` in DuckDB against the naive way, plus intel lookup cost.

Run with the project's venv:  .venv/bin/python bench/domain_udf.py [--rows 1000000]

Everything runs in one process on generated data, DuckDB pinned to one thread and
onnxruntime to one intra-op thread ("one core").

* vigil: a domain model trained on generated names (with a generated blocklist as its
  intel source) scores ``--rows`` distinct names through ``vigil_domain_risk``, its memo
  of scores across batches empty at the start (it cannot help: every name is new to it);
  then again with the compiled kernels off (numpy features, the trees in onnxruntime).
* DNS log: ``--rows`` queries of a generated DNS log, where names repeat as in real
  traffic, with the memo emptied first and again with the memo off; prints its hit rate.
* naive: what a data scientist writes first: per-row Python/pandas-style feature code
  (length, entropy, digit and vowel shares, ...) and a native xgboost booster trained on
  those features, called per row from a scalar Python UDF. Timed on a sample (it would
  take many minutes on all rows) and reported as rows/s.
* lookups: 100,000 entities against 1,000,000 listed domains and 100,000 CIDRs, next to
  a Python set / ``ipaddress`` loop doing the same.

Prints readable figures, a per-stage profile of one 2,048-row batch, and ends with one
JSON line.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pyarrow as pa


def build_intel(folder: Path, table: pa.Table) -> Any:
    from vigil.datasets.domains import generate_blocklist
    from vigil.intel import FileSource, load_intel

    text, _ = generate_blocklist(table, share=0.5, seed=3)
    path = folder / "blocklist.hosts"
    path.write_text(text)
    source = FileSource("generated", str(path), kind="domain", category="malware", format="hosts")
    return load_intel([source])


def train_vigil(store_dir: Path, train: pa.Table, intel: Any) -> None:
    from vigil.store import Store
    from vigil.train.data import labelled
    from vigil.train.pipeline import train_detection
    from vigil.train.trees import TreeConfig

    data = labelled(train, text_col="domain", label_col="label")
    train_detection("domain", data, Store(store_dir), config=TreeConfig(threads=1), intel=intel)


# -- the naive way ------------------------------------------------------------------------

VOWELS = set("aeiou")


def naive_features(domain: str) -> list[float]:
    """Per-row feature code as it is usually written (one Python call per name)."""
    name = domain.lower().strip().rstrip(".")
    labels = name.split(".")
    core = labels[-2] if len(labels) > 1 else labels[0]
    counts = Counter(core)
    entropy = -sum(c / len(core) * math.log2(c / len(core)) for c in counts.values()) if core else 0
    digits = sum(ch.isdigit() for ch in core)
    vowels = sum(ch in VOWELS for ch in core)
    run = best = 0
    for ch in core:
        run = run + 1 if ch.isalpha() and ch not in VOWELS else 0
        best = max(best, run)
    return [
        len(name),
        len(labels),
        len(core),
        entropy,
        digits / max(len(core), 1),
        vowels / max(len(core), 1),
        core.count("-"),
        best,
        len(set(core)) / max(len(core), 1),
    ]


def train_naive(train: pa.Table) -> Any:
    import pandas as pd
    import xgboost as xgb

    frame = pd.DataFrame(
        [naive_features(d) for d in train.column("domain").to_pylist()]
    )  # per row: this is the naive way being measured
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 6, "nthread": 1, "eta": 0.1},
        xgb.DMatrix(frame.to_numpy(dtype=np.float32), label=train.column("label").to_numpy()),
        num_boost_round=200,
    )
    return booster


# -- timing -------------------------------------------------------------------------------


def timed(connection: duckdb.DuckDBPyConnection, sql: str) -> float:
    started = time.perf_counter()
    connection.sql(sql).fetchall()
    return time.perf_counter() - started


def stage_profile(bound: Any, values: pa.Array, memo_off: Any) -> list[tuple[str, float]]:
    """Milliseconds per stage for one 2,048-row DuckDB-sized batch of distinct names.

    ``whole score()`` runs on ``memo_off`` (a binding without the memo: the same batch
    again would be all memo hits); the memo's hit path is timed on its own line. The
    per-name caches (Unicode names, punycode scripts) are emptied before every run, so
    each stage costs what a batch of names new to the process costs.
    """
    from vigil.features._accel import numpy_only
    from vigil.features.domain import forget_names
    from vigil.features.entities import normalize_domains

    batch = values.slice(0, 2048)
    model = bound.scorer.current()
    extractor = bound.extractor_for(model)
    normalized = normalize_domains(batch)
    matrix = extractor.transform(batch)
    stages: list[tuple[str, float]] = []

    def clock(name: str, fn: Any, repeat: int = 20) -> None:
        fn()
        spent = 0.0
        for _ in range(repeat):
            forget_names()
            started = time.perf_counter()
            fn()
            spent += time.perf_counter() - started
        stages.append((name, spent / repeat * 1000))

    clock("normalize names", lambda: normalize_domains(batch))
    if bound.intel is not None:
        clock("intel lookup", lambda: bound.intel.domain_hits(normalized))
    clock("all features (incl. the two above)", lambda: extractor.transform(batch))
    with numpy_only():
        clock("  same, numpy only (compiled kernels off)", lambda: extractor.transform(batch))
    clock(f"model ({model.engine})", lambda: model.run(matrix.values))
    clock(
        "  same, onnxruntime on the whole graph",
        lambda: model.session.run(["logit"], {model.input_name: matrix.values}),
    )
    clock("whole score()", lambda: memo_off.score(batch))
    bound.score(batch)  # now in the memo
    clock("whole score(), all memo hits", lambda: bound.score(batch))
    return stages


T = TypeVar("T")


def best_of(run: Callable[[], T], times: int = 3) -> tuple[T, float]:
    """``run()``'s result and its fastest time of ``times`` runs (the first one warms up)."""
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return result, best


def lookup_costs(n_listed: int, n_cidrs: int, n_lookups: int, seed: int) -> dict[str, float]:
    """100k entities against 1M listed names and 100k CIDRs: vigil's indexes vs Python.

    Each lookup is timed as the best of three runs, vigil's with its compiled kernels and
    without them, the naive walk likewise.
    """
    from vigil.features._accel import numpy_only
    from vigil.intel import IntelSnapshot, SourceSnapshot

    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8)
    tlds = ["com", "net", "org", "xyz", "top", "co.uk", "de", "ru", "info", "io"]

    def names(n: int) -> list[str]:
        lengths = rng.integers(6, 16, n)
        body = letters[rng.integers(0, len(letters), (n, 16))]
        return [
            f"{bytes(body[i, : lengths[i]]).decode()}.{tlds[i % len(tlds)]}" for i in range(n)
        ]  # per row: building test data

    listed = names(n_listed)
    half = n_lookups // 2
    queried = [f"www.{d}" for d in listed[:half]] + names(n_lookups - half)
    base = rng.integers(1 << 24, (223 << 24), n_cidrs, dtype=np.int64)
    prefixes = rng.integers(16, 29, n_cidrs)
    cidrs = [
        str(ipaddress.ip_network(f"{ipaddress.ip_address(int(b))}/{int(p)}", strict=False))
        for b, p in zip(base, prefixes, strict=True)
    ]
    addresses = [
        str(ipaddress.ip_address(int(a))) for a in rng.integers(1 << 24, 223 << 24, n_lookups)
    ]

    def snapshot(name: str, kind: Any, entries: list[str]) -> SourceSnapshot:
        return SourceSnapshot(name, kind, "malware", tuple(sorted(set(entries))))

    started = time.perf_counter()
    intel = IntelSnapshot.from_snapshots(
        [snapshot("domains", "domain", listed), snapshot("cidrs", "ip", cidrs)]
    )
    build_s = time.perf_counter() - started
    domain_array = pa.array(queried, type=pa.large_string())
    ip_array = pa.array(addresses, type=pa.large_string())
    hits, domain_s = best_of(lambda: intel.domain_hits(domain_array))
    with numpy_only():  # the same lookups with the compiled kernels off
        numpy_hits, domain_numpy_s = best_of(lambda: intel.domain_hits(domain_array))
    assert np.array_equal(hits.parent_distance, numpy_hits.parent_distance)
    assert hits.exact_sources.equals(numpy_hits.exact_sources)
    ip_hits, ip_s = best_of(lambda: intel.ip_hits(ip_array))

    listed_set = set(listed)

    def naive_walk() -> int:
        found = 0
        for name in queried:  # per row: the naive way being measured
            labels = name.split(".")
            found += any(".".join(labels[i:]) in listed_set for i in range(1, len(labels) - 1))
        return found

    naive_parent, naive_domain_s = best_of(naive_walk)
    networks = [ipaddress.ip_network(c) for c in cidrs]
    sample = addresses[:200]
    started = time.perf_counter()
    naive_hits = [
        sum(ipaddress.ip_address(a) in n for n in networks) for a in sample
    ]  # per row and network: the naive way being measured
    naive_ip_s = (time.perf_counter() - started) / len(sample) * n_lookups
    vigil_parent = int((np.asarray(hits.parent_distance) > 0).sum())
    assert vigil_parent >= naive_parent * 0.99, (vigil_parent, naive_parent)
    assert [int(x) for x in np.asarray(ip_hits.cidr_sources)[:200] > 0] == [
        int(h > 0) for h in naive_hits
    ]
    return {
        "index_build_s": build_s,
        "domain_lookup_s": domain_s,
        "domain_lookup_s_numpy_only": domain_numpy_s,
        "ip_lookup_s": ip_s,
        "naive_domain_lookup_s": naive_domain_s,
        "naive_ip_lookup_s_extrapolated": naive_ip_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--naive-rows", type=int, default=20_000)
    parser.add_argument("--train-rows", type=int, default=60_000)
    parser.add_argument("--listed", type=int, default=1_000_000)
    parser.add_argument("--cidrs", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=100_000)
    args = parser.parse_args()

    from dataclasses import replace

    from vigil.datasets.domains import generate_domains
    from vigil.features import _accel
    from vigil.features._accel import numpy_only
    from vigil.runtime.detection import BUILTIN_DETECTIONS
    from vigil.store import Store

    work = Path(tempfile.mkdtemp(prefix="vigil-bench-domain-"))
    print(f"generating {args.train_rows:,} training and {args.rows:,} scoring names ...")
    everything = generate_domains(args.train_rows + args.rows, seed=5)
    train = everything.slice(0, args.train_rows)
    scoring = everything.slice(args.train_rows, args.rows).select(["domain"])
    intel = build_intel(work, train)
    print("training the vigil domain model (trees, one thread) ...")
    train_vigil(work / "models", train, intel)
    print("training the naive model (per-row features + native xgboost) ...")
    booster = train_naive(train)

    connection = duckdb.connect()
    connection.execute("SET threads = 1")
    connection.register("scoring_arrow", scoring)
    connection.execute("CREATE TABLE domains AS SELECT domain FROM scoring_arrow")
    connection.unregister("scoring_arrow")
    from vigil.engines.duckdb import register

    bound = BUILTIN_DETECTIONS["domain"].bind(Store(work / "models"), intel=intel)
    # The same detection without the memo, as other SQL functions, for comparison.
    unmemoized = replace(
        BUILTIN_DETECTIONS["domain"],
        score_sql="vigil_domain_risk_no_memo",
        indicators_sql="vigil_domain_indicators_no_memo",
        features_sql=None,
    )
    memo_off = unmemoized.bind(Store(work / "models"), intel=intel, memo_size=0)
    register(connection, [bound, memo_off])
    distinct = connection.sql("SELECT count(DISTINCT domain) FROM domains").fetchall()[0][0]

    bound.clear_memo()  # nothing seen before: the distinct figure gets no help from it
    vigil_s = timed(
        connection,
        "CREATE TABLE scored AS SELECT domain, vigil_domain_risk(domain) AS risk FROM domains",
    )
    nulls = connection.sql("SELECT count(*) FROM scored WHERE risk IS NULL").fetchall()[0][0]
    bound.clear_memo()
    with numpy_only():  # the same, the compiled feature kernels off
        numpy_s = timed(connection, "SELECT sum(vigil_domain_risk(domain)) FROM domains")

    # The same through a DNS query log, where names repeat as they do in real traffic.
    from vigil.datasets.domains import generate_dns_log

    dns = generate_dns_log(args.rows, everything.slice(args.train_rows, 50_000), seed=6)
    connection.register("dns_arrow", dns.select(["query"]))
    connection.execute("CREATE TABLE dns AS SELECT query FROM dns_arrow")
    connection.unregister("dns_arrow")
    dns_distinct = connection.sql("SELECT count(DISTINCT query) FROM dns").fetchall()[0][0]
    dns_no_memo_s = timed(
        connection,
        "CREATE TABLE dns_scored_no_memo AS SELECT query, vigil_domain_risk_no_memo(query) "
        "FROM dns",
    )
    bound.clear_memo()  # the log's names are the scored table's: start the memo empty
    dns_s = timed(
        connection, "CREATE TABLE dns_scored AS SELECT query, vigil_domain_risk(query) FROM dns"
    )
    dns_memo = bound.memo_stats

    import xgboost as xgb

    def naive_score(domain: str) -> float:
        row = np.asarray([naive_features(domain)], dtype=np.float32)
        return float(booster.predict(xgb.DMatrix(row))[0])

    connection.create_function(
        "naive_domain_risk", naive_score, ["VARCHAR"], "DOUBLE", side_effects=False
    )
    naive_s = timed(
        connection,
        "SELECT naive_domain_risk(domain) FROM "
        f"(SELECT domain FROM domains LIMIT {args.naive_rows})",
    )
    rows_per_s = args.rows / vigil_s
    naive_rows_per_s = args.naive_rows / naive_s
    profile = stage_profile(bound, everything.column("domain").combine_chunks(), memo_off)
    lookups = lookup_costs(args.listed, args.cidrs, args.lookups, seed=7)

    print()
    print(f"rows scored            {args.rows:>12,}  ({distinct:,} distinct, {nulls} NULL)")
    print(f"vigil_domain_risk      {vigil_s:>12.2f} s   {rows_per_s:>12,.0f} rows/s")
    print(
        f"  same, kernels off    {numpy_s:>12.2f} s   {args.rows / numpy_s:>12,.0f} rows/s "
        "(numpy features, onnxruntime trees)"
    )
    print(
        f"naive per-row UDF      {naive_s:>12.2f} s   {naive_rows_per_s:>12,.0f} rows/s "
        f"(on {args.naive_rows:,} rows)"
    )
    print(f"speedup                {rows_per_s / naive_rows_per_s:>12.1f} x")
    print("  (vigil_domain_risk timed with its memo empty: every name was new to it)")
    print(
        f"DNS log                {dns_s:>12.2f} s   {args.rows / dns_s:>12,.0f} rows/s "
        f"({dns_distinct:,} distinct; memo hit rate {dns_memo.hit_rate:.1%} of each "
        "batch's distinct names, memo emptied first)"
    )
    print(
        f"DNS log, memo off      {dns_no_memo_s:>12.2f} s   "
        f"{args.rows / dns_no_memo_s:>12,.0f} rows/s"
    )
    print("\nper 2,048 distinct names:")
    for name, ms in profile:
        print(f"  {name:<38} {ms:8.2f} ms")
    print(
        f"\nintel lookups: {args.lookups:,} entities vs {args.listed:,} listed names and "
        f"{args.cidrs:,} CIDRs"
    )
    print(f"  index build            {lookups['index_build_s']:8.2f} s")
    print(
        f"  domains (suffix walk)  {lookups['domain_lookup_s']:8.3f} s   kernels off "
        f"{lookups['domain_lookup_s_numpy_only']:.3f} s   naive Python set walk "
        f"{lookups['naive_domain_lookup_s']:.3f} s"
    )
    print(
        f"  IPs (CIDR intervals)   {lookups['ip_lookup_s']:8.3f} s   naive ipaddress loop "
        f"{lookups['naive_ip_lookup_s_extrapolated']:.0f} s (extrapolated from 200 IPs)"
    )
    result = {
        "rows": args.rows,
        "distinct_rows": distinct,
        "compiled_kernels": _accel.kernels is not None,
        "model_engine": bound.scorer.current().engine,
        "rows_per_s": round(rows_per_s, 1),
        "naive_rows_per_s": round(naive_rows_per_s, 1),
        "rows_per_s_numpy_only": round(args.rows / numpy_s, 1),
        "speedup": round(rows_per_s / naive_rows_per_s, 1),
        "dns_log_rows_per_s": round(args.rows / dns_s, 1),
        "dns_log_distinct": dns_distinct,
        "dns_log_rows_per_s_no_memo": round(args.rows / dns_no_memo_s, 1),
        "dns_log_memo_hit_rate": round(dns_memo.hit_rate, 4),
        "memo_size": dns_memo.capacity,
        "profile_ms_per_2048": {name: round(ms, 3) for name, ms in profile},
        **{k: round(v, 4) for k, v in lookups.items()},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
