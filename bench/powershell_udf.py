"""Benchmark: `vigil_powershell_score` in DuckDB against a naive scalar Python UDF.

Run with the project's venv:  .venv/bin/python bench/powershell_udf.py [--rows 1000000]

Both ways run in one process on the same generated events, DuckDB pinned to one thread
and onnxruntime to one intra-op thread ("one core"). The naive way is what a user writes
first: a per-row Python UDF that extracts features for one string and runs the model on
one row; it is timed on a sample (it would take an hour on all rows) and reported as
rows/s. Prints a table of figures, a per-stage profile of one batch, and ends with one
JSON line.

vigil remembers final scores across batches (a bounded memo). The events are scored with
it emptied first (its hit rate is printed) and again with it off; the all-distinct lines
are scored with it emptied first, so that figure gets no help from earlier runs, then
again with the compiled feature kernels off (numpy only), to show what they buy.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def build_model(store_dir: Path) -> None:
    from vigil.datasets.powershell import generate_commands
    from vigil.store import Store
    from vigil.train.data import labelled
    from vigil.train.mlp import MLPConfig
    from vigil.train.pipeline import train_detection

    table = generate_commands(20_000, malicious_share=0.3, seed=11)
    data = labelled(table, text_col="command_line", label_col="label")
    train_detection("powershell", data, Store(store_dir), config=MLPConfig(max_epochs=6))


def timed(connection: duckdb.DuckDBPyConnection, sql: str) -> float:
    started = time.perf_counter()
    connection.sql(sql).fetchall()
    return time.perf_counter() - started


def stage_profile(bound, values: pa.Array, memo_off) -> list[tuple[str, float]]:  # type: ignore[no-untyped-def]
    """Milliseconds per stage for one 2,048-row DuckDB-sized batch of distinct values.

    ``whole score()`` runs on ``memo_off`` (a binding without the memo: the same batch
    again would be all memo hits); the memo's hit path is timed on its own line.
    """
    from vigil.features._accel import numpy_only
    from vigil.features.base import distinct
    from vigil.features.normalize import buffers, clean_text, unwrap_and_decode
    from vigil.features.powershell import add_token_ngrams

    extractor = bound.extractor_for(bound.scorer.current())
    batch = values.slice(0, 2048)
    stages: list[tuple[str, float]] = []

    def clock(name: str, fn, repeat: int = 20):  # type: ignore[no-untyped-def]
        fn()
        started = time.perf_counter()
        for _ in range(repeat):
            out = fn()
        stages.append((name, (time.perf_counter() - started) / repeat * 1000))
        return out

    uniques, _, _ = clock("distinct (dictionary_encode)", lambda: distinct(batch))
    cleaned = clock("clean (ticks, carets, concat, spaces)", lambda: clean_text(uniques))
    decoded = clock("unwrap launchers, decode payloads", lambda: unwrap_and_decode(cleaned))
    lowered = clock("lower-case", lambda: pc.utf8_lower(decoded.text))
    data, offsets = buffers(lowered)
    clock("IOC matching (Aho-Corasick)", lambda: extractor.catalog.matcher.count(data, offsets))
    analysis = extractor.analyze(uniques)
    block = np.zeros((len(batch), extractor.buckets), dtype=np.float32)  # the n-gram block
    clock(
        "tokens + hashed token n-grams",
        lambda: add_token_ngrams(block, 0, extractor.buckets, data, offsets),
    )
    matrix = clock("all features (incl. tokens, stats)", lambda: extractor.features(analysis))
    with numpy_only():
        clock("  same, numpy only (compiled kernels off)", lambda: extractor.features(analysis))
    clock("model (onnxruntime)", lambda: bound.scorer.score(matrix.values))
    clock("whole score()", lambda: memo_off.score(batch))
    bound.score(batch)  # now in the memo
    clock("whole score(), all memo hits", lambda: bound.score(batch))
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--naive-sample", type=int, default=5_000)
    args = parser.parse_args()

    from dataclasses import replace

    from vigil.datasets.powershell import generate_events
    from vigil.engines import duckdb as duckdb_engine
    from vigil.features import _accel
    from vigil.features._accel import numpy_only
    from vigil.runtime import BUILTIN_DETECTIONS
    from vigil.store import Store

    workdir = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    print(f"training a small model in {workdir} ...", flush=True)
    build_model(workdir / "models")
    bound = BUILTIN_DETECTIONS["powershell"].bind(Store(workdir / "models"))
    # The same detection without the memo, as other SQL functions, for comparison.
    memo_off = replace(
        BUILTIN_DETECTIONS["powershell"],
        score_sql="vigil_powershell_score_no_memo",
        indicators_sql="vigil_powershell_iocs_no_memo",
    ).bind(Store(workdir / "models"), memo_size=0)

    print(f"generating {args.rows:,} events ...", flush=True)
    started = time.perf_counter()
    events = generate_events(args.rows, seed=100).select(["cmd"])
    print(f"  generated in {time.perf_counter() - started:.1f}s", flush=True)
    distinct_share = len(pc.unique(events.column("cmd"))) / events.num_rows
    chunk_distinct = float(
        np.mean(
            [
                len(pc.unique(events.column("cmd").slice(s, 2048))) / 2048
                for s in range(0, min(events.num_rows, 200 * 2048), 2048)
            ]
        )
    )

    con = duckdb.connect()
    con.sql("set threads = 1")
    con.register("generated", events)
    con.sql("create table events as select row_number() over () as id, cmd from generated")
    con.unregister("generated")
    duckdb_engine.register(con, [bound, memo_off])

    fitted = bound.extractor_for(bound.scorer.current())

    def naive(cmd: str | None) -> float | None:
        if cmd is None:
            return None
        features = fitted.transform([cmd]).values
        return float(bound.scorer.score(features)[0])

    con.create_function(
        "naive_powershell_score",
        naive,
        [duckdb.sqltypes.VARCHAR],
        duckdb.sqltypes.DOUBLE,
        type="native",
        null_handling="special",
        side_effects=False,
    )

    print("scoring with vigil_powershell_score ...", flush=True)
    bound.clear_memo()
    vigil_seconds = timed(con, "select sum(vigil_powershell_score(cmd)) from events")
    rows_per_s = args.rows / vigil_seconds
    memo = bound.memo_stats
    print("scoring with the memo off ...", flush=True)
    no_memo_seconds = timed(con, "select sum(vigil_powershell_score_no_memo(cmd)) from events")
    no_memo_rows_per_s = args.rows / no_memo_seconds
    print("scoring all-distinct lines (event id appended; memo emptied first) ...", flush=True)
    bound.clear_memo()
    distinct_seconds = timed(
        con, "select sum(vigil_powershell_score(cmd || ' #' || id::VARCHAR)) from events"
    )
    all_distinct_rows_per_s = args.rows / distinct_seconds
    print("  again with the compiled feature kernels off (numpy only) ...", flush=True)
    bound.clear_memo()
    with numpy_only():
        numpy_seconds = timed(
            con, "select sum(vigil_powershell_score(cmd || ' #' || id::VARCHAR)) from events"
        )
    numpy_rows_per_s = args.rows / numpy_seconds
    print(f"naive scalar UDF on a {args.naive_sample:,}-row sample ...", flush=True)
    naive_seconds = timed(
        con,
        "select sum(naive_powershell_score(cmd)) "
        f"from (select cmd from events limit {args.naive_sample})",
    )
    naive_rows_per_s = args.naive_sample / naive_seconds

    # Same answers both ways on the sample.
    check = con.sql(
        "select max(abs(vigil_powershell_score(cmd) - naive_powershell_score(cmd))) "
        "from (select cmd from events limit 2000)"
    ).fetchall()[0][0]

    profile_values = pc.unique(events.column("cmd")).cast(pa.large_string())
    stages = stage_profile(bound, profile_values, memo_off)

    print()
    print(f"{'way':44s} {'rows':>10s} {'seconds':>9s} {'rows/s':>11s}")
    for way, rows, seconds, rate in (
        ("vigil_powershell_score (Arrow UDF)", args.rows, vigil_seconds, rows_per_s),
        ("  same, memo off", args.rows, no_memo_seconds, no_memo_rows_per_s),
        (
            "  every line distinct (memo emptied first)",
            args.rows,
            distinct_seconds,
            all_distinct_rows_per_s,
        ),
        (
            "  same, compiled kernels off (numpy only)",
            args.rows,
            numpy_seconds,
            numpy_rows_per_s,
        ),
        ("naive scalar Python UDF (sample)", args.naive_sample, naive_seconds, naive_rows_per_s),
    ):
        print(f"{way:44s} {rows:>10,} {seconds:>9.2f} {rate:>11,.0f}")
    print(
        f"speedup {rows_per_s / naive_rows_per_s:.1f}x "
        f"(all distinct: {all_distinct_rows_per_s / naive_rows_per_s:.1f}x); "
        f"max |vigil - naive| on 2,000 rows: {check:.2e}"
    )
    print(
        f"distinct command lines: {distinct_share:.1%} of all events, "
        f"{chunk_distinct:.1%} within a 2,048-row chunk"
    )
    print(
        f"memo hit rate on the events: {memo.hit_rate:.1%} of each batch's distinct lines "
        f"({memo.hits:,} hits, {memo.misses:,} misses; memo of {memo.capacity:,}, "
        "emptied first)"
    )
    print()
    print("where the time goes, one 2,048-row batch of distinct lines (ms):")
    for name, ms in stages:
        print(f"  {name:44s} {ms:8.2f}")
    print(
        json.dumps(
            {
                "bench": "powershell_udf",
                "rows": args.rows,
                "rows_per_s": round(rows_per_s),
                "naive_rows_per_s": round(naive_rows_per_s),
                "speedup": round(rows_per_s / naive_rows_per_s, 1),
                "all_distinct_rows_per_s": round(all_distinct_rows_per_s),
                "all_distinct_speedup": round(all_distinct_rows_per_s / naive_rows_per_s, 1),
                "all_distinct_rows_per_s_numpy_only": round(numpy_rows_per_s),
                "rows_per_s_no_memo": round(no_memo_rows_per_s),
                "memo_hit_rate": round(memo.hit_rate, 4),
                "memo_size": memo.capacity,
                "distinct_share": round(distinct_share, 4),
                "threads": 1,
                "compiled_kernels": _accel.kernels is not None,
                "max_abs_diff_vs_naive": check,
                "stage_ms": {name: round(ms, 3) for name, ms in stages},
            }
        )
    )


if __name__ == "__main__":
    main()
