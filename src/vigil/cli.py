"""`vigil ...`: a thin command line over the library; no logic lives only here."""

from __future__ import annotations

import json
import math
import numbers
import select
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.errors import VigilError, VigilWarning

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from vigil.config import Profile
    from vigil.runtime.detection import Detection
    from vigil.store import Store

app = typer.Typer(
    name="vigil",
    help="Machine-learning security detections that run where the logs already are.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(
    help="List, promote and roll back stored model versions.", no_args_is_help=True
)
app.add_typer(models_app, name="models")

_state: dict[str, Any] = {"verbose": False, "profile": None, "config": None}

ProfileOption = Annotated[
    str | None, typer.Option("--profile", "-p", help="Profile of vigil.toml (default: dev).")
]
StoreOption = Annotated[str | None, typer.Option(help="Store URL (default: the profile's).")]
# Rich markup would swallow "[intel.sources]" as a style tag: the bracket is escaped.
IntelOption = Annotated[
    bool, typer.Option(help="Use the profile's \\[intel.sources] (domain and IP detections).")
]
#: stdin lines that mean NULL for `vigil score` (after stripping; "null" in any case).
NULL_LITERALS = frozenset({"", "null", "\\N"})
#: Console width when output is piped or captured: lines and tables are not cut at a guessed
#: 80 columns, so programs and log files get whole lines.
PIPED_WIDTH = 10_000


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks.")] = False,
    profile: ProfileOption = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Path of vigil.toml.", dir_okay=False)
    ] = None,
) -> None:
    _state.update(verbose=verbose, profile=profile, config=config)


def _profile() -> Profile:
    from vigil.config import load_profile

    return load_profile(_state["profile"], config=_state["config"])


def _store(store_url: str | None = None) -> Store:
    from vigil.store import Store

    if store_url:
        return Store(store_url)
    profile = _profile()
    return Store(profile.store, storage_options=profile.storage_options)


def _console(stderr: bool = True) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else PIPED_WIDTH
    return Console(stderr=stderr, highlight=False, width=width)


def _json_line(data: Any) -> str:
    """One line of strict JSON: NaN and infinities (undefined metrics) become null."""
    return json.dumps(_finite(data), allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    return value


# -- train / eval / score ------------------------------------------------------------------


@app.command()
def train(
    detection: Annotated[str, typer.Argument(help="Detection to train, e.g. powershell.")],
    data: Annotated[Path, typer.Option("--data", help="Parquet, CSV or JSONL with text + label.")],
    text_col: Annotated[str | None, typer.Option(help="Text column (default: guessed).")] = None,
    label_col: Annotated[
        str | None, typer.Option(help="0/1 label column (default: label).")
    ] = None,
    alias: Annotated[
        str, typer.Option(help="Alias to move to the new version; '' for none.")
    ] = "production",
    epochs: Annotated[
        int | None, typer.Option(help="Maximum epochs (network detections: powershell).")
    ] = None,
    nets: Annotated[
        int | None,
        typer.Option(
            help="Nets averaged in one model, seeded seed, seed+1, ... (powershell; default 3)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed: same data + seed = same model.")] = 0,
    augment: Annotated[
        bool,
        typer.Option(
            help="Add training-side variants: encoded re-launches and obfuscated scripts"
            " (powershell), generated labels under benign parents (domain)."
        ),
    ] = True,
    store: StoreOption = None,
    intel: IntelOption = True,
) -> None:
    """Train a model on labelled data and publish it as a new version."""
    from vigil.train.data import labelled, read_table
    from vigil.train.pipeline import TREE_EXTRACTORS, train_detection

    spec = _known_detection(detection)
    table = read_table(data)
    rows = labelled(table, text_col=text_col, label_col=label_col, where=str(data))
    config: Any
    network_options = {"--epochs": epochs, "--nets": nets}
    if spec.extractor in TREE_EXTRACTORS:
        from vigil.errors import ConfigError
        from vigil.train.trees import TreeConfig

        given = [flag for flag, value in network_options.items() if value is not None]
        if given:
            raise ConfigError(
                f"{' and '.join(given)} apply to network detections (powershell); "
                f"{detection!r} trains gradient-boosted trees: leave them out"
            )
        config = TreeConfig(seed=seed)
    else:
        from vigil.train.mlp import MLPConfig

        config = MLPConfig.from_dict(
            {"seed": seed}
            | ({} if epochs is None else {"max_epochs": epochs})
            | ({} if nets is None else {"nets": nets})
        )
    snapshot = _intel_for(spec) if intel else None
    with _progress() as progress:
        report = train_detection(
            spec,
            rows,
            _store(store),
            config=config,
            alias=alias or None,
            seed=seed,
            augment_data=augment,
            intel=snapshot,
            progress=progress,
        )
    m = report.manifest
    out = _console(stderr=False)
    out.print(
        f"trained {m.ref} in {report.seconds:.1f}s on {report.n_train} rows "
        f"(+{report.n_augmented} augmented), validated on {report.n_validation}"
    )
    if snapshot is not None:
        out.print(
            f"intel: {len(snapshot.sources)} sources, fingerprint {snapshot.fingerprint[:16]}"
        )
    out.print(
        f"validation: ROC AUC {m.metrics['roc_auc']:.4f}, PR AUC {m.metrics['pr_auc']:.4f}, "
        f"TPR@FPR1e-3 {m.metrics['tpr_at_fpr_1e-3']:.4f}; threshold {m.threshold:.4f}"
    )
    if alias:
        out.print(f"alias {alias!r} -> {m.ref}")
    print(
        _json_line(
            {"detection": m.detection, "version": m.version, "threshold": m.threshold, **m.metrics}
        )
    )


@app.command("eval")
def evaluate(
    detection: Annotated[str, typer.Argument(help="Detection to evaluate.")],
    data: Annotated[Path, typer.Option("--data", help="Labelled test data.")],
    text_col: Annotated[str | None, typer.Option(help="Text column.")] = None,
    label_col: Annotated[str | None, typer.Option(help="Label column.")] = None,
    group_col: Annotated[
        str | None, typer.Option(help="Report figures per value of this column.")
    ] = None,
    model: Annotated[str, typer.Option(help="Alias or version to evaluate.")] = "production",
    baseline_train: Annotated[
        Path | None,
        typer.Option(help="Fit the TF-IDF baseline on this file and report it side by side."),
    ] = None,
    robustness: Annotated[
        bool, typer.Option(help="Encoded re-launch and obfuscation checks.")
    ] = False,
    show_errors: Annotated[
        int,
        typer.Option(
            min=0,
            help="List the N highest-scoring benign and N lowest-scoring malicious rows,"
            " explained.",
        ),
    ] = 0,
    store: StoreOption = None,
    intel: IntelOption = True,
) -> None:
    """Figures on labelled data (ROC AUC, PR AUC, TPR at FPR), then one JSON line."""
    from vigil.train.data import labelled, read_table
    from vigil.train.report import evaluate_detection, render

    spec = _known_detection(detection)
    rows = labelled(read_table(data), text_col=text_col, label_col=label_col, where=str(data))
    baseline_rows = None
    if baseline_train is not None:
        baseline_rows = labelled(
            read_table(baseline_train),
            text_col=text_col,
            label_col=label_col,
            where=str(baseline_train),
        )
    if model != spec.model_alias and not spec.members:
        from dataclasses import replace

        spec = replace(spec, model_alias=model)
    snapshot = _intel_for(spec) if intel else None
    report = evaluate_detection(
        spec.bind(_store(store), intel=snapshot),
        rows,
        group_col=group_col,
        baseline_train=baseline_rows,
        robustness=robustness,
        show_errors=show_errors,
    )
    render(report, _console(stderr=False))
    print(_json_line(report.to_json()))


@app.command()
def score(
    detection: Annotated[str, typer.Argument(help="Detection to score with.")],
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="Each line is a JSON string (or null).")
    ] = False,
    batch_size: Annotated[
        int,
        typer.Option(
            help=(
                "Most lines per batch (input that arrives slowly, from a terminal or a "
                "live pipe, is scored as it comes)."
            )
        ),
    ] = 8192,
    explain: Annotated[
        bool, typer.Option(help="Print a JSON explanation instead of a bare score.")
    ] = False,
    store: StoreOption = None,
    intel: IntelOption = True,
) -> None:
    """Read one input per stdin line, write one score per stdout line (nan for NULL)."""
    spec = _known_detection(detection)
    snapshot = _intel_for(spec) if intel else None
    bound = spec.bind(_store(store), intel=snapshot)
    out = sys.stdout
    size = max(1, batch_size)
    for batch in _batches(_read_inputs(jsonl, size), size):
        if explain:
            for item in bound.explain(batch):
                out.write(("null" if item is None else _json_line(item.to_dict())) + "\n")
        else:
            for value in bound.score(batch):
                out.write("nan\n" if math.isnan(value) else f"{value:.6f}\n")
        out.flush()


#: Bytes asked of stdin per read: a pipe answers with what has arrived, up to this.
STDIN_READ_BYTES = 1 << 20


def _stdin_reads(enough: int) -> Iterator[list[str]]:
    """stdin's lines, split at "\\n" only, as UTF-8 (undecodable bytes become U+FFFD, never
    an error), in groups: a group ends at ``enough`` lines or when no more input is
    waiting.

    Why not a fixed batch: a live log (``tail -f dns.log | vigil score domain``) must be
    scored as its lines come, not when a batch fills up or the input ends; while a file
    or a fast producer (``cat``, whose pipe holds only 64 KB at a time) still makes
    whole batches, as the next reads find more input waiting.
    """
    binary = getattr(sys.stdin, "buffer", None)
    if binary is None or not hasattr(binary, "read1"):  # a text-only stdin: take its lines
        group: list[str] = []
        for line in sys.stdin:
            group.append(line)
            if len(group) >= enough:
                yield group
                group = []
        if group:
            yield group
        return
    parts: list[bytes] = []  # the current line's bytes so far (a line may span many reads)
    ready: list[str] = []
    while chunk := binary.read1(STDIN_READ_BYTES):
        if b"\n" in chunk:
            lines = b"".join([*parts, chunk]).split(b"\n")
            rest = lines.pop()  # the start of a line not complete yet ("" after a final "\n")
            parts = [rest] if rest else []
            ready.extend(line.decode("utf-8", "replace") for line in lines)
        else:
            parts.append(chunk)
        if ready and (len(ready) >= enough or not _input_waiting(binary)):
            yield ready
            ready = []
    if parts:
        ready.append(b"".join(parts).decode("utf-8", "replace"))
    if ready:
        yield ready


def _input_waiting(stream: Any) -> bool:
    """Whether a read of ``stream`` would return at once. A stream without a file
    descriptor (in memory) is read to its end, as a file is; a descriptor that select
    cannot watch (a pipe on Windows) is never waited on."""
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError):  # io.UnsupportedOperation is an OSError
        return True
    try:
        ready, _, _ = select.select([descriptor], [], [], 0)
    except (OSError, ValueError):
        return False
    return bool(ready)


def _is_null_literal(line: str) -> bool:
    stripped = line.strip()
    return stripped in NULL_LITERALS or stripped.lower() == "null"


def _read_inputs(jsonl: bool, enough: int) -> Iterator[list[str | None]]:
    """stdin's lines as inputs, in the groups :func:`_stdin_reads` makes: None for
    NULL-like lines (and, with ``jsonl``, for lines that are not a JSON string, with a
    warning)."""
    number = 0
    for lines in _stdin_reads(enough):
        values: list[str | None] = []
        for raw in lines:
            number += 1
            values.append(_parse_line(raw.rstrip("\r\n"), number, jsonl))
        yield values


def _parse_line(line: str, number: int, jsonl: bool) -> str | None:
    if not jsonl:
        return None if _is_null_literal(line) else line
    try:
        value = json.loads(line) if line.strip() else None
    except json.JSONDecodeError as exc:
        _console().print(f"[yellow]line {number}: not JSON ({exc.msg}); scored as NULL[/]")
        return None
    if value is not None and not isinstance(value, str):
        _console().print(
            f"[yellow]line {number}: expected a JSON string, got "
            f"{type(value).__name__}; scored as NULL[/]"
        )
        return None
    return value


def _batches(reads: Iterator[list[str | None]], size: int) -> Iterator[list[str | None]]:
    """At most ``size`` inputs each; a group is not held back to wait for more input."""
    for values in reads:
        for start in range(0, len(values), size):
            yield values[start : start + size]


# -- demo and sql ---------------------------------------------------------------------------


@app.command()
def demo(
    events: Annotated[int, typer.Option(help="Process events to generate.")] = 200_000,
    workdir: Annotated[Path, typer.Option(help="Where the demo warehouse and models go.")] = Path(
        ".vigil/demo"
    ),
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Generate events, train, score them all with one SQL statement, report."""
    from vigil.demo import run_demo

    run_demo(events=events, workdir=workdir, seed=seed, console=_console(stderr=False))


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="SQL to run on the profile's warehouse.")],
) -> None:
    """Run SQL with vigil's functions registered; print the result."""
    import duckdb

    from vigil.errors import EngineError
    from vigil.session import connect

    with connect(_profile()) as session:
        relation = session.sql(query)
        if relation is not None:
            try:
                relation.show(max_width=200)
            except duckdb.Error as exc:
                raise EngineError(f"DuckDB failed the query: {exc}") from exc


# -- models ---------------------------------------------------------------------------------


@models_app.command("list")
def models_list(
    detection: Annotated[str | None, typer.Argument(help="Only this detection.")] = None,
    store: StoreOption = None,
) -> None:
    """Versions with their metrics, threshold and aliases."""
    from rich.table import Table

    s = _store(store)
    table = Table(
        "detection",
        "version",
        "aliases",
        "created",
        "ROC AUC",
        "TPR@1e-3",
        "threshold",
        "feature_spec",
    )
    names = [detection] if detection else s.detections()
    if not names:
        _console().print(
            f"no models in store {s.url}; train one with `vigil train powershell --data FILE`",
            markup=False,
        )
    for name in names:
        aliases = s.aliases(name)
        for version in s.versions(name):
            m = s.manifest(name, version)
            tags = ", ".join(sorted(a for a, v in aliases.items() if v == version))
            table.add_row(
                name,
                str(version),
                tags,
                m.created_at,
                f"{m.metrics.get('roc_auc', float('nan')):.4f}",
                f"{m.metrics.get('tpr_at_fpr_1e-3', float('nan')):.4f}",
                f"{m.threshold:.4f}",
                m.feature_spec,
            )
    _console(stderr=False).print(table)


@models_app.command("promote")
def models_promote(
    detection: Annotated[str, typer.Argument()],
    version: Annotated[int, typer.Argument()],
    alias: Annotated[str, typer.Option(help="Alias to move.")] = "production",
    store: StoreOption = None,
) -> None:
    """Point an alias at a version; running scorers pick it up on their next batch."""
    v = _store(store).promote(detection, version, alias)
    _console(stderr=False).print(f"{alias} -> {detection}@{v}")


@models_app.command("rollback")
def models_rollback(
    detection: Annotated[str, typer.Argument()],
    alias: Annotated[str, typer.Option(help="Alias to move back.")] = "production",
    store: StoreOption = None,
) -> None:
    """Move an alias back to the version it pointed at before."""
    v = _store(store).rollback(detection, alias)
    _console(stderr=False).print(f"{alias} -> {detection}@{v}")


# -- plumbing -------------------------------------------------------------------------------


def _intel_for(detection: Detection) -> Any:
    """The profile's threat intelligence, for detections whose features look entities up."""
    from vigil.session import profile_intel, uses_intel

    if not uses_intel(detection):
        return None
    return profile_intel(_profile())


def _known_detection(name: str) -> Detection:
    """The built-in or ``vigil.toml``-defined detection called ``name``."""
    from vigil.errors import DetectionNotFound
    from vigil.session import profile_detections

    known = profile_detections(_profile())
    if name not in known:
        raise DetectionNotFound(name, known)
    return known[name]


class _progress:
    """A rich progress bar fed by ``(step, done, total)`` callbacks.

    The bar starts with the first step, so a command that fails before any work (bad data,
    one class) leaves only its error line on stderr.
    """

    def __enter__(self) -> Callable[[str, int, int], None]:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        bar = Progress(
            TextColumn("{task.description:>10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=_console(),
            transient=False,
        )
        tasks: dict[str, TaskID] = {}
        self._bar: Progress | None = None

        def update(step: str, done: int, total: int) -> None:
            if self._bar is None:
                bar.start()
                self._bar = bar
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """vigil's own warnings as one ``warning:`` line on stderr, like errors; others as usual."""
    if not issubclass(category, VigilWarning) or _state["verbose"]:
        _default_showwarning(message, category, filename, lineno, file, line)
        return
    _print_one_line("[bold yellow]warning:[/]", message)


def _print_one_line(label: str, message: object) -> None:
    """``label message`` as one line on stderr: a message may quote brackets
    ([profiles.dev]), shown as they are, or span lines (engine text), joined."""
    from rich.markup import escape

    text = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
    _console().print(f"{label} {escape(text)}", soft_wrap=True)


_default_showwarning = warnings.showwarning


def main() -> None:
    """Entry point: VigilErrors become one readable line (and exit code 2), VigilWarnings
    one ``warning:`` line."""
    warnings.showwarning = _show_warning
    try:
        app()
    except VigilError as exc:
        if _state["verbose"]:
            raise
        _print_one_line("[bold red]error:[/]", exc)
        _console().print("[dim](run with --verbose for the traceback)[/]")
        sys.exit(2)
