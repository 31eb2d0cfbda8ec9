"""Labelled tables from files: Parquet, CSV (optionally compressed) or JSON lines."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from vigil.errors import DataError

#: Column names tried, in order, when no --text-col is given.
TEXT_COLUMNS = (
    "command_line",
    "cmd",
    "text",
    "script",
    "command",
    "code",
    "script_block_text",
    "domain",
    "query",
    "host",
    "ip",
    "entity",
)
LABEL_COLUMNS = ("label", "is_malicious", "malicious", "y")


def read_table(path: str | Path) -> pa.Table:
    """Read a whole file as an Arrow table; the format comes from the file name."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file {path} does not exist")
    name = path.name.lower()
    try:
        if name.endswith(".parquet") or name.endswith(".pq"):
            import pyarrow.parquet as pq

            return pq.read_table(path)
        if name.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", ".json")):
            import pyarrow.json as pj

            return pj.read_json(path)
        if ".csv" in name or ".tsv" in name:
            import pyarrow.csv as pcsv

            delimiter = "\t" if ".tsv" in name else ","
            return pcsv.read_csv(
                path,
                parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            )
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    raise DataError(
        f"cannot tell the format of {path}; use .parquet, .csv, .csv.gz, .tsv or .jsonl"
    )


def pick_column(
    table: pa.Table, wanted: str | None, candidates: Sequence[str], what: str, flag: str, where: str
) -> str:
    """The column to use: ``wanted`` if given, else the first candidate present."""
    names = table.column_names
    if wanted is not None:
        if wanted not in names:
            raise DataError(
                f"{where} has no {what} column {wanted!r}; its columns are: {', '.join(names)}; "
                f"pass one of them with {flag}"
            )
        return wanted
    for candidate in candidates:
        if candidate in names:
            return candidate
    raise DataError(
        f"{where}: no {what} column found (looked for {', '.join(candidates)}); "
        f"its columns are: {', '.join(names)}; pass {flag}"
    )


@dataclass(frozen=True)
class Labelled:
    """Texts and 0/1 labels, rows with a missing label or text dropped."""

    text: pa.Array
    label: NDArray[np.int64]
    dropped: int
    extra: pa.Table  # the remaining columns, row-aligned (e.g. a source column)
    #: each kept row's 0-based position in the table it was read from (None: all kept)
    file_rows: NDArray[np.int64] | None = None

    def file_row(self, row: int) -> int:
        """Where the ``row``-th kept row stands in the file, for a user to find it."""
        return row if self.file_rows is None else int(self.file_rows[row])

    def __len__(self) -> int:
        return len(self.label)

    def fingerprint(self) -> str:
        """sha256 of the texts and labels: what the model saw, for its manifest."""
        digest = hashlib.sha256()
        for chunk in (self.text.buffers()[1], self.text.buffers()[2]):
            if chunk is not None:
                digest.update(memoryview(chunk))
        digest.update(self.label.tobytes())
        return digest.hexdigest()


def labelled(
    table: pa.Table,
    *,
    text_col: str | None = None,
    label_col: str | None = None,
    where: str = "the data",
) -> Labelled:
    text_name = pick_column(table, text_col, TEXT_COLUMNS, "text", "--text-col", where)
    label_name = pick_column(table, label_col, LABEL_COLUMNS, "label", "--label-col", where)
    label_column = table.column(label_name)
    try:
        labels = pc.cast(label_column, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise DataError(
            f"{where}: label column {label_name!r} must hold 0/1 (or true/false): {exc}"
        ) from exc
    keep = pc.and_(pc.is_valid(labels), pc.is_valid(table.column(text_name)))
    kept = table.filter(keep)
    label_values = np.asarray(pc.cast(kept.column(label_name), pa.int64()), dtype=np.int64)
    bad = set(np.unique(label_values).tolist()) - {0, 1}
    if bad:
        raise DataError(
            f"{where}: label column {label_name!r} has values {sorted(bad)}; expected 0 or 1"
        )
    text = pc.cast(kept.column(text_name), pa.large_string()).combine_chunks()
    extra = kept.drop_columns([text_name, label_name])
    file_rows = np.flatnonzero(np.asarray(keep, dtype=bool))  # is_valid: never null
    return Labelled(text, label_values, table.num_rows - kept.num_rows, extra, file_rows)
