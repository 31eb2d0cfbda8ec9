"""Turn ../shared/data/powershell into a leakage-free train / test split for `vigil train`.

Run with the project's venv:

    .venv/bin/python bench/prepare_shared_powershell.py --out /tmp/vigil-ps

It writes ``train.parquet`` and ``test.parquet`` (columns ``text``, ``label``, ``source``)
outside the repository; the data itself is never copied into vigil. Following the data
README: labels come from each table's own convention, rows without a binary label are
dropped, label conflicts are dropped, exact duplicates are removed, and near-copies
(same script once decoded, lower-cased, with digits, hex bytes and long blobs blanked)
form one group that lands wholly on one side of the split.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from _splits import SHARED_DATA, in_test, split_parser  # bench/_splits.py, beside this script

DEFAULT_SHARED = SHARED_DATA / "powershell"

_BLOB = re.compile(r"[a-z0-9+/=]{20,}")

#: The data README warns that about 35 "benign" mpsd scripts are offensive tooling. A benign
#: row matching this (case-insensitive) goes to test_suspect_benign_removed.parquet's
#: complement, so figures can be read with and without that label noise.
SUSPECT_BENIGN = re.compile(
    r"virtualalloc|downloadstring\(|amsiutils|shellcode|eternalblue|mimikatz|implant|"
    r"invoke-(pipekat|pbind|tokenmanipulation|dcsync|portscan|kerberoast|psexec|smbexec)|"
    r"out-minidump|powersploit|meterpreter",
    re.IGNORECASE,
)
_HEX = re.compile(r"0x[0-9a-f]{1,8}")
_DIGITS = re.compile(r"\d+")


def _csv(path: Path) -> pa.Table:
    return pcsv.read_csv(path, parse_options=pcsv.ParseOptions(newlines_in_values=True))


def load_sources(shared: Path) -> pa.Table:
    """All labelled rows as (text, label, source)."""
    parts = []
    mpsd = pq.read_table(shared / "mpsd_scripts.parquet")
    mpsd = mpsd.filter(pc.invert(mpsd.column("label_conflict")))
    for label, name in ((1, "mpsd_malicious"), (0, "mpsd_benign")):
        rows = mpsd.filter(pc.equal(mpsd.column("label"), label))
        parts.append((rows.column("script"), label, name))
    unit42 = pq.read_table(shared / "unit42_encodedcommand.parquet")
    parts.append((unit42.column("command_line"), 1, "unit42_encoded"))
    atomic = _csv(shared / "atomic_red_team_windows_commands.csv.gz")
    atomic = atomic.filter(pc.equal(atomic.column("part"), "command"))
    parts.append((atomic.column("command"), 1, "atomic_red_team"))
    docs = _csv(shared / "powershell_docs_examples.csv.gz")
    parts.append((docs.column("code"), 0, "powershell_docs"))
    tables = [
        pa.table(
            {
                "text": pc.cast(text, pa.large_string()),
                "label": pa.array([label] * len(text), pa.int8()),
                "source": pa.array([source] * len(text), pa.string()),
            }
        )
        for text, label, source in parts
    ]
    table = pa.concat_tables(tables)
    return table.filter(pc.is_valid(table.column("text")))


def group_keys(text: list[str]) -> list[str]:
    """Near-copy key: decoded, normalized, with digits, hex bytes and blobs blanked."""
    from vigil.features.powershell import PowerShellExtractor

    normalized = PowerShellExtractor().normalize(pa.array(text, pa.large_string())).to_pylist()
    keys = []
    for value in normalized:  # per row: a few regex passes, once, offline
        value = _BLOB.sub("B", value or "")
        value = _HEX.sub("0x", value)
        keys.append(_DIGITS.sub("0", value))
    return keys


def split(
    table: pa.Table, test_share: float, seed: int
) -> tuple[pa.Table, pa.Table, dict[str, int]]:
    text = table.column("text").to_pylist()
    labels = table.column("label").to_pylist()
    keys = group_keys(text)
    label_of: dict[str, set[int]] = {}
    for key, label in zip(keys, labels, strict=True):
        label_of.setdefault(key, set()).add(label)
    seen: set[str] = set()
    train_rows, test_rows = [], []
    exact_dupes = conflicts = 0
    for i, (value, key) in enumerate(zip(text, keys, strict=True)):
        if len(label_of[key]) > 1:
            conflicts += 1
            continue
        exact = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()
        if exact in seen:
            exact_dupes += 1
            continue
        seen.add(exact)
        (test_rows if in_test(key, test_share, seed) else train_rows).append(i)
    stats = {
        "rows": table.num_rows,
        "exact_duplicates_dropped": exact_dupes,
        "near_copy_label_conflicts_dropped": conflicts,
        "groups": len(label_of),
        "train": len(train_rows),
        "test": len(test_rows),
    }
    return table.take(pa.array(train_rows)), table.take(pa.array(test_rows)), stats


def main() -> None:
    parser = split_parser(__doc__.splitlines()[0], shared=DEFAULT_SHARED, out=None)
    args = parser.parse_args()
    if not args.shared.is_dir():
        raise SystemExit(f"{args.shared} not found: this script needs ../shared/data/powershell")
    train, test, stats = split(load_sources(args.shared), args.test_share, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    pq.write_table(train, args.out / "train.parquet")
    pq.write_table(test, args.out / "test.parquet")
    suspect = [
        label == 0 and bool(SUSPECT_BENIGN.search(text))
        for text, label in zip(
            test.column("text").to_pylist(), test.column("label").to_pylist(), strict=True
        )
    ]
    keep = pa.array([not s for s in suspect])
    pq.write_table(test.filter(keep), args.out / "test_suspect_benign_removed.parquet")
    stats["test_suspect_benign_removed"] = sum(suspect)
    for name, part in (("train", train), ("test", test)):
        counts = part.group_by(["source", "label"]).aggregate([("text", "count")]).to_pylist()
        print(name, sorted((c["source"], c["label"], c["text_count"]) for c in counts))
    print(json.dumps({"bench": "prepare_shared_powershell", **stats}))


if __name__ == "__main__":
    main()
