"""`vigil demo`: the PowerShell and domain detections on generated data, in a few minutes."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

#: Labelled command lines the demo trains on, and the held-out set it reports on.
TRAIN_COMMANDS = 30_000
HELD_OUT_COMMANDS = 10_000
TOP_ALERTS = 8
#: Labelled domain names the domain model trains on, and DNS queries the demo scores.
TRAIN_DOMAINS = 24_000
HELD_OUT_DOMAINS = 10_000
DNS_EVENTS = 200_000


def run_demo(*, events: int, workdir: Path, seed: int, console: Any) -> dict[str, float]:
    """Generate, train, score with one SQL statement, report. Returns the headline figures."""
    from rich.table import Table

    from vigil.config import Profile
    from vigil.datasets.powershell import generate_commands, generate_events
    from vigil.features.powershell import PowerShellExtractor
    from vigil.session import Session
    from vigil.train.data import labelled
    from vigil.train.mlp import MLPConfig
    from vigil.train.pipeline import train_detection

    started = time.perf_counter()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    from vigil.datasets.domains import generate_blocklist, generate_domains

    domain_train = generate_domains(TRAIN_DOMAINS, seed=seed + 11)
    blocklist_text, _ = generate_blocklist(domain_train, share=0.5, seed=seed + 12)
    blocklist = workdir / "intel" / "blocklist.hosts"
    blocklist.parent.mkdir()
    blocklist.write_text(blocklist_text)
    profile = Profile(
        name="demo",
        database=str(workdir / "demo.duckdb"),
        store=str(workdir / "models"),
        intel={
            "sources": {
                "demo_blocklist": {
                    "type": "file",
                    "kind": "domain",
                    "category": "malware",
                    "path": str(blocklist),
                    "format": "hosts",
                }
            }
        },
        source="vigil demo",
    )
    console.print(f"[bold]vigil demo[/] in {workdir}/ ({events:,} events, seed {seed})")

    progress = _progress_bar(console)
    with progress:
        with _step(progress, "generating process events"):
            event_table = generate_events(events, seed=seed)

        task = progress.add_task("generating labelled commands", total=2)
        train_table = generate_commands(TRAIN_COMMANDS, malicious_share=0.3, seed=seed + 1)
        progress.update(task, advance=1)
        held_out = generate_commands(HELD_OUT_COMMANDS, malicious_share=0.3, seed=seed + 2)
        progress.update(task, advance=1)

        session = Session(profile)
        _create_table(session, "events", event_table)

        on_progress = _reporter(
            progress, features="extracting training features", training="training (epochs)"
        )

        report = train_detection(
            "powershell",
            labelled(train_table, text_col="command_line", label_col="label"),
            session.store,
            # 10 epochs: the generated data is learnt by then (held-out AUC 1.0) and the
            # three nets' training is most of the demo's time on a slow 2-core machine.
            config=MLPConfig(seed=seed, max_epochs=10),
            seed=seed,
            progress=on_progress,
        )

        bound = session.detection("powershell")
        threshold = bound.threshold
        held = labelled(held_out, text_col="command_line", label_col="label")
        held_scores, scoring_seconds = _score(
            progress,
            session,
            bound,
            held,
            "commands",
            """
            create or replace table alerts as
            select event_id, ts, host, "user", cmd, score,
                   vigil_powershell_iocs(cmd) as iocs, label
            from (select *, vigil_powershell_score(cmd) as score from events)
            where score >= $threshold
            order by score desc
            """,
        )

    held_metrics, detection_rate, false_positive_rate = _held_out(held, held_scores, threshold)
    ((n_events, n_malicious_events),) = session.sql(
        "select count(*), coalesce(sum(label), 0) from events"
    ).fetchall()
    ((n_alerts, n_true),) = session.sql(
        "select count(*), coalesce(sum(label), 0) from alerts"
    ).fetchall()

    m = report.manifest
    console.print()
    console.print(
        f"model [bold]{m.ref}[/]: trained on {report.n_train:,} commands "
        f"(+{report.n_augmented:,} augmented) in {report.seconds:.1f}s; "
        f"alert threshold {threshold:.4f} (validation FPR <= 1e-3, never below 0.5)"
    )
    console.print(
        f"held-out generated split ({len(held):,} commands): "
        f"ROC AUC {held_metrics['roc_auc']:.4f}, detection rate {detection_rate:.3f}, "
        f"false-positive rate {false_positive_rate:.4f}"
    )
    rows_per_s = n_events / scoring_seconds
    console.print(
        f"events: {n_events:,} scored in {scoring_seconds:.2f}s with one SQL statement "
        f"([bold]{rows_per_s:,.0f} rows/s[/]); {n_alerts:,} alerts, {n_true:,} of them on the "
        f"{n_malicious_events:,} injected malicious events"
    )
    top = session.sql(
        "select host, score, iocs, cmd from alerts "
        f"order by score desc, event_id limit {TOP_ALERTS}"
    ).fetchall()
    table = Table(
        "host",
        "score",
        "matched IOCs",
        "why (log-odds)",
        "command line",
        title="top alerts",
        show_lines=True,
    )
    explanations = bound.explain([row[3] for row in top])
    extractor = PowerShellExtractor()
    for (host, score, iocs, cmd), why in zip(top, explanations, strict=True):
        drivers = ", ".join(f"{g} +{d:.1f}" for g, d in why.top(2)) if why else ""
        # Launcher switches are common on both sides; show what the command does first.
        shown = sorted(iocs, key=lambda name: extractor.category_of(name) == "launch_flags")
        table.add_row(host, f"{score:.3f}", ", ".join(shown[:6]), drivers, _clip(cmd, 90))
    console.print(table)
    domain_figures = _domain_part(session, domain_train, seed=seed, console=console)
    console.print(f"done in {time.perf_counter() - started:.1f}s. Look at the alerts yourself:")
    console.print(
        f"  VIGIL_DATABASE={profile.database} VIGIL_STORE={profile.store} "
        'vigil sql "select host, score, iocs from alerts limit 5"',
        markup=False,
    )
    session.close()
    return {
        **domain_figures,
        "events": float(n_events),
        "alerts": float(n_alerts),
        "rows_per_s": rows_per_s,
        "held_out_roc_auc": float(held_metrics["roc_auc"]),
        "detection_rate": detection_rate,
        "false_positive_rate": false_positive_rate,
        "seconds": time.perf_counter() - started,
        "threshold": float(np.float64(threshold)),
    }


@contextmanager
def _step(progress: Any, description: str) -> Iterator[None]:
    """One bar for a step that has no finer progress to show: empty, then full."""
    task = progress.add_task(description, total=1)
    yield
    progress.update(task, advance=1)


def _create_table(session: Any, name: str, table: Any) -> None:
    """Copy an Arrow table into the warehouse as ``name``."""
    session.connection.register(f"generated_{name}", table)
    session.sql(f"create table {name} as select * from generated_{name}")
    session.connection.unregister(f"generated_{name}")


def _score(
    progress: Any, session: Any, bound: Any, held: Any, what: str, alerting_sql: str
) -> tuple[Any, float]:
    """Score the held-out split in Python, then the whole log with one SQL statement
    (``$threshold`` bound to the model's); returns the held-out scores and the SQL seconds."""
    with _step(progress, f"scoring held-out {what}"):
        held_scores = bound.score(held.text)
    with _step(progress, "scoring the log in DuckDB (SQL)"):
        started = time.perf_counter()
        session.sql(alerting_sql, params={"threshold": bound.threshold})
        seconds = time.perf_counter() - started
    return held_scores, seconds


def _held_out(held: Any, scores: Any, threshold: float) -> tuple[dict[str, Any], float, float]:
    """Metrics of a held-out split, and its detection and false-positive rates at threshold."""
    from vigil.train.evaluate import Metrics

    flagged = scores >= threshold
    return (
        Metrics.from_scores(held.label, scores).to_dict(),
        float(flagged[held.label == 1].mean()),
        float(flagged[held.label == 0].mean()),
    )


def _progress_bar(console: Any) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _reporter(progress: Any, **labels: str) -> Callable[[str, int, int], None]:
    """A training progress callback drawing one bar per step (``labels`` renames steps)."""
    tasks: dict[str, Any] = {}

    def on_progress(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = progress.add_task(labels.get(step, step), total=total)
        progress.update(tasks[step], completed=done, total=total)

    return on_progress


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _unlisted(table: Any, intel: Any) -> Any:
    """The rows no intel source lists exactly: what the model, not a lookup, must catch."""
    import pyarrow.compute as pc

    from vigil.features.entities import normalize_domains

    hits = intel.domain_hits(normalize_domains(table.column("domain")))
    listed = pc.greater(pc.list_value_length(hits.exact_sources), 0)
    return table.filter(pc.invert(pc.fill_null(listed, False)))


def _domain_part(session: Any, train_table: Any, *, seed: int, console: Any) -> dict[str, float]:
    """Domain risk: train trees with a generated blocklist as intel, score a DNS log in SQL."""
    import pyarrow as pa
    from rich.table import Table

    from vigil.datasets.domains import generate_dns_log, generate_domains
    from vigil.train.data import labelled
    from vigil.train.pipeline import train_detection
    from vigil.train.trees import TreeConfig

    progress = _progress_bar(console)
    with progress:
        with _step(progress, "generating DNS queries"):
            held_out = _unlisted(generate_domains(HELD_OUT_DOMAINS, seed=seed + 13), session.intel)
            # Queries for names the model never saw, and for a slice of the listed world.
            seen = train_table.slice(0, HELD_OUT_DOMAINS)
            dns = generate_dns_log(DNS_EVENTS, pa.concat_tables([held_out, seen]), seed=seed + 14)
            _create_table(session, "dns", dns)

        on_progress = _reporter(
            progress, features="domain features", training="training trees (rounds)"
        )

        report = train_detection(
            "domain",
            labelled(train_table, text_col="domain", label_col="label"),
            session.store,
            config=TreeConfig(seed=seed, threads=2, n_estimators=250, learning_rate=0.15),
            seed=seed,
            intel=session.intel,
            progress=on_progress,
        )
        bound = session.detection("domain")
        threshold = bound.threshold
        held = labelled(held_out, text_col="domain", label_col="label")
        held_scores, seconds = _score(
            progress,
            session,
            bound,
            held,
            "domains",
            """
            create or replace table domain_alerts as
            select ts, client_ip, query, risk,
                   vigil_domain_indicators(query) as indicators, label
            from (select *, vigil_domain_risk(query) as risk from dns)
            where risk >= $threshold
            order by risk desc
            """,
        )

    metrics, detection_rate, false_positive_rate = _held_out(held, held_scores, threshold)
    ((n_queries, n_distinct, n_malicious),) = session.sql(
        "select count(*), count(distinct query), coalesce(sum(label), 0) from dns"
    ).fetchall()
    ((n_alerts, n_true, n_listed, n_names, n_benign_names),) = session.sql(
        "select count(*), coalesce(sum(label), 0), "
        "count(*) filter (where list_contains(indicators, 'listed:demo_blocklist')), "
        "count(distinct lower(query)), count(distinct lower(query)) filter (where label = 0) "
        "from domain_alerts"
    ).fetchall()
    m = report.manifest
    console.print()
    console.print(
        f"model [bold]{m.ref}[/]: gradient-boosted trees on {report.n_train:,} names in "
        f"{report.seconds:.1f}s, intel {len(session.intel.sources)} source(s) "
        f"(fingerprint {session.intel.fingerprint[:12]}); alert threshold {threshold:.4f}"
    )
    console.print(
        f"held-out generated names ({len(held):,}, none of them listed): "
        f"ROC AUC {metrics['roc_auc']:.4f}, detection rate {detection_rate:.3f}, "
        f"false-positive rate {false_positive_rate:.4f}"
    )
    rows_per_s = n_queries / seconds
    console.print(
        f"DNS log: {n_queries:,} queries ({n_distinct:,} distinct) scored in {seconds:.2f}s "
        f"with one SQL statement ([bold]{rows_per_s:,.0f} rows/s[/]); {n_alerts:,} alerts "
        f"({n_listed:,} exact blocklist hits, the rest predicted), {n_true:,} of them on the "
        f"{n_malicious:,} malicious queries; {n_names:,} distinct names alerted, "
        f"{n_benign_names:,} of them benign"
    )
    top = session.sql(
        "select query, max(risk) risk, any_value(indicators) indicators, count(*) n "
        "from domain_alerts where not list_contains(indicators, 'listed:demo_blocklist') "
        f"group by query order by risk desc, query limit {TOP_ALERTS}"
    ).fetchall()
    table = Table(
        "query", "risk", "queries", "indicators", "why (log-odds)", title="top predicted domains"
    )
    explanations = bound.explain([row[0] for row in top])
    for (query, risk, indicators, n), why in zip(top, explanations, strict=True):
        drivers = ", ".join(f"{g} +{d:.1f}" for g, d in why.top(2)) if why else ""
        table.add_row(_clip(query, 48), f"{risk:.3f}", f"{n}", ", ".join(indicators[:3]), drivers)
    console.print(table)
    return {
        "domain_events": float(n_queries),
        "domain_alerts": float(n_alerts),
        "domain_rows_per_s": rows_per_s,
        "domain_held_out_roc_auc": float(metrics["roc_auc"]),
        "domain_detection_rate": detection_rate,
        "domain_false_positive_rate": false_positive_rate,
    }
