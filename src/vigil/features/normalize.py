"""Undo the PowerShell obfuscations that hide keywords from matching, a whole batch at a time.

Cleaning is one compiled pass over the raw UTF-8 bytes (``clean_script`` in
``_kernels.c``), with Arrow's literal kernels and numpy masks as the fallback: regex
replacement in Arrow runs at ~75 MB/s here, several times too slow for the scoring
budget (bench/powershell_udf.py). Decoding base64 payloads is per row, in C
(``base64``/``zlib``), and only for the rows that carry one.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from vigil.features import _accel

#: How many nested -EncodedCommand / FromBase64String layers are unwrapped.
MAX_DECODE_DEPTH = 4

#: A decoded payload counts as text when at least this share of its characters is printable.
_PRINTABLE_SHARE = 0.85
#: Whitespace that text contains but str.isprintable() rejects.
_LAYOUT_CHARACTERS = str.maketrans("", "", "\r\n\t")
#: Printable ASCII and the layout characters, as bytes.
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\r\n\t"

_SPACE, _PLUS = 0x20, 0x2B
_QUOTE = np.zeros(256, dtype=bool)
_QUOTE[[0x22, 0x27]] = True


def _nested_prefixes(word: str, minimum: int) -> str:
    """A regex for any prefix of ``word`` at least ``minimum`` long, as nested optionals.

    ``e(?:n(?:c...)?)?`` backtracks far less than an alternation of 14 prefixes.
    """
    tail = ""
    for ch in reversed(word[minimum:]):
        tail = f"(?:{ch}{tail})?"
    return word[:minimum] + tail


# powershell.exe accepts any unambiguous prefix of -EncodedCommand, plus the alias -ec,
# introduced by "-", "/" or a dash look-alike.
_ENCODED_FLAG = rf"(?:ec|{_nested_prefixes('encodedcommand', 1)})"
# The dash comes first and the look-behind after it (the dash is at the start or follows
# whitespace, a quote or a bracket): a pattern that starts with a character set lets
# Python's engine skip to candidate positions, three times faster than a leading
# "(?:^|(?<=[...]))" on decoded scripts.
_ENCODED_RE = re.compile(
    rf"[-/\u2013\u2014\u2015](?<![^\s'\"(].){_ENCODED_FLAG}[\s:]+['\"]?"
    r"(?P<payload>[A-Za-z0-9+/]{2,}={0,2})(?![A-Za-z0-9+/=])",
    re.IGNORECASE,
)
_FROM_BASE64_RE = re.compile(
    r"frombase64string\(\s*['\"](?P<payload>[A-Za-z0-9+/=\s]{4,})['\"]\s*\)",
    re.IGNORECASE,
)

# A row that only re-launches a script: the executable, switches that change nothing about
# what the script does, and -EncodedCommand. Configuration-management agents launch every
# script like this (Ansible, SCCM, Chef), so it is unwrapped to the script it runs (see
# unwrap_launchers). -WindowStyle, -NoExit, -Version, -Sta, -Command and -File are not
# on the list: a launch with any of them keeps its switches as evidence.
_LAUNCHER_EXE = (
    r"""(?:(?:"(?:[^"]*[\\/])?(?:powershell|pwsh)(?:\.exe)?"|(?:[^"\s]*[\\/])?"""
    r"""(?:powershell|pwsh)(?:\.exe)?)\s+)?"""
)
_ORDINARY_SWITCH = (
    rf"(?:{_nested_prefixes('nologo', 3)}|{_nested_prefixes('noprofile', 3)}"
    rf"|{_nested_prefixes('noninteractive', 3)}"
    rf"|(?:ep|{_nested_prefixes('executionpolicy', 2)}|{_nested_prefixes('inputformat', 2)}"
    rf"|{_nested_prefixes('outputformat', 2)})[\s:]+[a-z]+)"
)
_DASH_RE2 = r"[-/\x{2013}\x{2014}\x{2015}]"
#: RE2 (Arrow): a whole row that is an ordinary launcher, its payload captured.
_LAUNCHER_RE2 = (
    rf"(?i)^{_LAUNCHER_EXE}(?:{_DASH_RE2}{_ORDINARY_SWITCH}\s+)*"
    rf"{_DASH_RE2}{_ENCODED_FLAG}[\s:]+['\"]?(?P<payload>[a-z0-9+/]+={{0,2}})['\"]?$"
)

#: What ends a launcher's switches before its payload: RE2's \s, ':' and quotes.
_PAYLOAD_SEPARATORS = tuple(" \t\n\f\r:'\"")

# RE2 (Arrow) prefilter that selects the rows worth a per-row decode.
_CANDIDATE_RE2 = (
    rf"(?i)(?:{_DASH_RE2}{_ENCODED_FLAG}[\s:]+['\"]?[a-z0-9+/]{{2,}})"
    r"|frombase64string"
)


def buffers(array: pa.Array) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """The UTF-8 bytes and row offsets (starting at 0) of a ``large_string`` array."""
    if len(array) == 0:
        return np.zeros(0, dtype=np.uint8), np.zeros(1, dtype=np.int64)
    _, offset_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offset_buffer, dtype=np.int64)[
        array.offset : array.offset + len(array) + 1
    ]
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(0, dtype=np.uint8)
    )
    data = data[offsets[0] : offsets[-1]]
    return data, offsets - offsets[0]


def from_buffers(
    data: NDArray[np.uint8], offsets: NDArray[np.int64], *, validity: pa.Array | None = None
) -> pa.Array:
    """A ``large_string`` array over the given bytes, nulls taken from ``validity``."""
    nulls = 0 if validity is None else validity.null_count
    bitmap = (
        pa.py_buffer(np.packbits(np.asarray(validity.is_valid()), bitorder="little"))
        if validity is not None and nulls
        else None
    )
    return pa.LargeStringArray.from_buffers(
        len(offsets) - 1,
        pa.py_buffer(np.ascontiguousarray(offsets, dtype=np.int64)),
        pa.py_buffer(np.ascontiguousarray(data)),
        bitmap,
        null_count=nulls,
    )


def _compress(
    data: NDArray[np.uint8], offsets: NDArray[np.int64], keep: NDArray[np.bool_]
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    kept = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum(keep, out=kept[1:])
    return data[keep], kept[offsets]


def clean_text(text: pa.Array) -> pa.Array:
    """Remove backticks, carets and NUL characters, join ``'a'+'b'`` concatenations,
    collapse whitespace.

    NULs come from UTF-16 script files read as single bytes (``f\0u\0n\0...``): no
    command line can hold one, and decoded payloads drop them too. Case is kept: base64
    payloads are still to be decoded. Nulls stay null. ``text`` is ``large_string``.
    """
    kernels = _accel.kernels
    if kernels is None:
        return _clean_text_arrow(text)
    data, offsets = _accel.rows(*buffers(text))
    n = len(text)
    out = np.empty(len(data), dtype=np.uint8)
    out_offsets = np.empty(n + 1, dtype=np.int64)
    valid = np.asarray(text.is_valid(), dtype=np.uint8)
    kernels.clean_script(data, offsets, valid, out, out_offsets, np.empty_like(out))
    return from_buffers(out[: out_offsets[-1]], out_offsets, validity=text)


def _clean_text_arrow(text: pa.Array) -> pa.Array:
    """:func:`clean_text` in Arrow passes and numpy masks: the fallback, and the reference
    the compiled pass (``clean_script`` in ``_kernels.c``) is tested against."""
    text = pc.replace_substring(text, "\x00", "")
    text = pc.replace_substring(text, "`", "")
    text = pc.replace_substring(text, "^", "")
    # Trim first: Arrow's whitespace split yields "" for leading and trailing whitespace.
    words = pc.ascii_split_whitespace(pc.ascii_trim_whitespace(text))
    text = pc.binary_join(words, pa.scalar(" ", pa.large_string()))
    data, offsets = buffers(text)
    drop = np.zeros(len(data), dtype=bool)
    _mark_concatenations(data, offsets, drop)
    if not drop.any():
        return text
    data, offsets = _compress(data, offsets, ~drop)
    return from_buffers(data, offsets, validity=text)


def _mark_concatenations(
    data: NDArray[np.uint8], offsets: NDArray[np.int64], drop: NDArray[np.bool_]
) -> None:
    """Mark ``' + '`` (either quote, optional single spaces) for removal, within one row."""
    plus = np.flatnonzero(data == _PLUS)
    if plus.size == 0:
        return
    size = len(data)
    row = np.searchsorted(offsets, plus, side="right") - 1
    lo, hi = offsets[row], offsets[row + 1]
    left = plus - 1
    left = np.where((left >= lo) & (data[np.maximum(left, 0)] == _SPACE), left - 1, left)
    right = plus + 1
    right = np.where((right < hi) & (data[np.minimum(right, size - 1)] == _SPACE), right + 1, right)
    ok = (left >= lo) & (right < hi)
    ok &= _QUOTE[data[np.clip(left, 0, size - 1)]] & _QUOTE[data[np.clip(right, 0, size - 1)]]
    left, right = left[ok], right[ok]
    for step in range(5):  # a concatenation spans at most 5 bytes: ' + '
        position = left + step
        within = position <= right
        drop[position[within]] = True


def unwrap_launchers(text: pa.Array) -> pa.Array:
    """Rows that only re-launch a script become that script, cleaned like any row.

    ``powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand
    <base64>`` is how deployment tools run every script, benign or not: the wrapper says
    nothing about the script, so it is scored as the script itself, exactly (the same
    features, hence the same score). Only the switches in ``_ORDINARY_SWITCH`` qualify;
    a payload that is not UTF-16LE text is left to :func:`decode_payloads`. Launchers
    nested in launchers are unwrapped up to :data:`MAX_DECODE_DEPTH` levels. ``text``
    must already be cleaned (:func:`clean_text`).
    """
    return _unwrap(text, _payload_rows(text))[0]


def unwrap_and_decode(text: pa.Array) -> Decoded:
    """:func:`decode_payloads` of :func:`unwrap_launchers`, with one regex pass over the
    whole batch instead of three: both look only at rows with a payload flag, and of
    those, the rows unwrapping changed are the only ones to test again."""
    candidates = _payload_rows(text)
    unwrapped, changed = _unwrap(text, candidates)
    if changed.size:
        retest = changed[_payload_rows(unwrapped.take(pa.array(changed)))]
        candidates = np.union1d(np.setdiff1d(candidates, changed), retest)
    return _decode(unwrapped, candidates)


def _payload_rows(text: pa.Array) -> NDArray[np.int64]:
    """Indices of the rows that may carry a payload (``_CANDIDATE_RE2`` matches them): in
    one compiled pass when the kernels are loaded (``payload_rows``), else by the regex."""
    kernels = _accel.kernels
    if kernels is None or len(text) == 0:
        return _matching(text, _CANDIDATE_RE2)
    data, offsets = _accel.rows(*buffers(text))
    found = np.empty(len(text), dtype=np.uint8)
    kernels.payload_rows(data, offsets, np.asarray(text.is_valid(), dtype=np.uint8), found)
    return np.flatnonzero(found).astype(np.int64)


def _matching(text: pa.Array, pattern: str) -> NDArray[np.int64]:
    """Indices of the rows of ``text`` that ``pattern`` (RE2) matches; none for nulls."""
    if len(text) == 0:
        return np.zeros(0, dtype=np.int64)
    matched = pc.fill_null(pc.match_substring_regex(text, pattern), False)
    return np.flatnonzero(matched.to_numpy(zero_copy_only=False)).astype(np.int64)


def _unwrap(text: pa.Array, candidates: NDArray[np.int64]) -> tuple[pa.Array, NDArray[np.int64]]:
    """:func:`unwrap_launchers` over the rows ``candidates`` lists (those of
    :func:`_payload_rows`: every launcher row that can unwrap is one, as its payload
    decodes to text only when it is at least 2 characters long), and the rows it
    changed. After a level, only the scripts just unwrapped can be launchers again."""
    n = len(text)
    rows = candidates
    changed: list[NDArray[np.int64]] = []
    for level in range(MAX_DECODE_DEPTH):
        if level:  # scripts just unwrapped: only one with a payload flag can be a launcher
            rows = rows[_payload_rows(text.take(pa.array(rows)))]
        if rows.size == 0:
            break
        asked = text.take(pa.array(rows))
        launchers = _matching(asked, _LAUNCHER_RE2)
        rows = rows[launchers]
        if rows.size == 0:
            break
        decoded, found = _launcher_scripts(asked.take(pa.array(launchers)))
        if not found.any():
            break
        rows = rows[found]
        changed.append(rows)
        mask = np.zeros(n, dtype=bool)
        mask[rows] = True
        scripts = decoded if found.all() else decoded.filter(pa.array(found))
        text = pc.replace_with_mask(text, pa.array(mask), clean_text(scripts))
    return text, (np.unique(np.concatenate(changed)) if changed else np.zeros(0, np.int64))


def _launcher_scripts(lines: pa.Array) -> tuple[pa.Array, NDArray[np.bool_]]:
    """The script of each launcher line (null where its payload is not UTF-16LE text),
    and where there is one. The kernels decode the common payload (canonical base64 of
    printable ASCII) in one pass; Python decodes the rest, as it decodes every line
    without them."""
    n = len(lines)
    if _accel.kernels is None:
        texts = _python_launcher_scripts(lines)
        return pa.array(texts, pa.large_string()), np.array([t is not None for t in texts])
    data, offsets = _accel.rows(*buffers(lines))
    out = np.empty(len(data), dtype=np.uint8)
    out_offsets = np.empty(n + 1, dtype=np.int64)
    status = np.empty(n, dtype=np.uint8)
    _accel.kernels.launcher_scripts(data, offsets, out, out_offsets, status)
    found = status.astype(bool)
    decoded = pa.LargeStringArray.from_buffers(
        n,
        pa.py_buffer(out_offsets),
        pa.py_buffer(out[: out_offsets[-1]]),
        pa.py_buffer(np.packbits(found, bitorder="little")),
        null_count=n - int(np.count_nonzero(found)),
    )
    left = np.flatnonzero(~found)
    if left.size == 0:
        return decoded, found
    texts = _python_launcher_scripts(lines.take(pa.array(left)))  # not the common payload
    slow = np.zeros(n, dtype=bool)
    slow[left] = True
    decoded = pc.replace_with_mask(decoded, pa.array(slow), pa.array(texts, pa.large_string()))
    found[left] = [t is not None for t in texts]
    return decoded, found


def _python_launcher_scripts(lines: pa.Array) -> list[str | None]:
    """The script of each launcher line, decoded in Python one line at a time."""
    return [
        _decode_payload(_launcher_payload(line), utf16_only=True)[0] for line in lines.to_pylist()
    ]


def _launcher_payload(line: str) -> str:
    """The payload of a row :data:`_LAUNCHER_RE2` matched: its tail after the last
    separator, without a closing quote. (A second RE2 pass to extract it would compile a
    pattern on every call.)"""
    end = len(line) - 1 if line.endswith(("'", '"')) else len(line)
    start = 1 + max(line.rfind(separator, 0, end) for separator in _PAYLOAD_SEPARATORS)
    return line[start:end]


@dataclass(frozen=True)
class Decoded:
    """Texts with payloads decoded in place, and what decoding found per row.

    ``content`` is what the command runs: for an ``-EncodedCommand`` launch, the decoded
    script alone (the launcher's switches stay in ``text``); otherwise the text itself.
    """

    text: pa.Array
    content: pa.Array
    layers: NDArray[np.float32]
    binary_payloads: NDArray[np.float32]
    failed_payloads: NDArray[np.float32]


def decode_payloads(text: pa.Array) -> Decoded:
    """Replace -EncodedCommand and FromBase64String payloads by their decoded text.

    Only rows that the vectorized prefilter selects are decoded, one by one.
    """
    return _decode(text, _payload_rows(text))


def _decode(text: pa.Array, rows: NDArray[np.int64]) -> Decoded:
    """:func:`decode_payloads` of the rows ``rows`` lists (those ``_CANDIDATE_RE2`` matches)."""
    n = len(text)
    layers = np.zeros(n, dtype=np.float32)
    binary = np.zeros(n, dtype=np.float32)
    failed = np.zeros(n, dtype=np.float32)
    if rows.size == 0:
        return Decoded(text, text, layers, binary, failed)
    originals = text.take(pa.array(rows)).to_pylist()
    replaced: list[str] = []
    contents: list[str] = []
    for position, original in zip(rows, originals, strict=True):  # per row: only payload rows
        result, depth, n_binary, n_failed, scripts = _decode_row(original)
        replaced.append(result)
        contents.append("\n".join(scripts) if scripts else result)
        layers[position], binary[position], failed[position] = depth, n_binary, n_failed
    selected = np.zeros(n, dtype=bool)
    selected[rows] = True
    mask = pa.array(selected)
    merged = pc.replace_with_mask(
        text, mask, clean_text(pa.array(replaced, type=pa.large_string()))
    )
    content = pc.replace_with_mask(
        text, mask, clean_text(pa.array(contents, type=pa.large_string()))
    )
    return Decoded(merged, content, layers, binary, failed)


def decode_text(text: str, depth: int = MAX_DECODE_DEPTH) -> tuple[str, int, int, int]:
    """Decode payloads in one command line, nested up to ``depth`` levels.

    Returns the text with each payload replaced by its decoded text, the number of layers
    decoded, and how many payloads were binary (shellcode, assemblies) or not decodable.
    Binary and undecodable payloads are left as they are. A decoded payload is decoded
    again on its own (never the text around it), so nothing is decoded twice.
    """
    return _decode_row(text, depth)[:4]


def _decode_row(text: str, depth: int = MAX_DECODE_DEPTH) -> tuple[str, int, int, int, list[str]]:
    """:func:`decode_text`, plus the decoded scripts of the -EncodedCommand switches."""
    scripts: list[str] = []
    if depth <= 0:
        return text, 0, 0, 0, scripts
    layers = n_binary = n_failed = 0
    pieces: list[str] = []
    cursor = 0
    matches = sorted(
        [(m, True) for m in _ENCODED_RE.finditer(text)]
        + [(m, False) for m in _FROM_BASE64_RE.finditer(text)],
        key=lambda pair: pair[0].start("payload"),
    )
    for match, is_encoded_command in matches:
        start, end = match.span("payload")
        if start < cursor:
            continue
        decoded, kind = _decode_payload(match.group("payload"), utf16_only=is_encoded_command)
        if kind == "binary":
            n_binary += 1
        elif kind == "failed":
            n_failed += 1
        if decoded is None:
            continue
        inner, inner_layers, inner_binary, inner_failed = decode_text(
            decoded.replace("`", "").replace("^", ""), depth - 1
        )
        layers = max(layers, 1 + inner_layers)
        n_binary += inner_binary
        n_failed += inner_failed
        if is_encoded_command:
            scripts.append(inner)
        pieces.append(text[cursor:start])
        pieces.append(inner)
        cursor = end
    if not pieces:
        return text, 0, n_binary, n_failed, scripts
    pieces.append(text[cursor:])
    return "".join(pieces), layers, n_binary, n_failed, scripts


def _decode_payload(payload: str, *, utf16_only: bool) -> tuple[str | None, str]:
    """Text of a base64 payload; -EncodedCommand is UTF-16LE by definition."""
    compact = "".join(payload.split())
    compact += "=" * (-len(compact) % 4)
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None, "failed"
    if utf16_only:
        text = _as_text(raw, utf16_only=True)
        return (text, "text") if text is not None else (None, "binary")
    for candidate in (raw, *_inflated(raw)):
        text = _as_text(candidate)
        if text is not None:
            return text, "text"
    return None, "binary"


def _inflated(raw: bytes) -> list[bytes]:
    """Payloads wrapped in DeflateStream / GZipStream, as launchers commonly do."""
    out: list[bytes] = []
    for wbits in (-15, 31, 15):
        try:
            out.append(zlib.decompress(raw, wbits))
            break
        except zlib.error:
            continue
    return out


def _as_text(raw: bytes, *, utf16_only: bool = False) -> str | None:
    """Decode a payload as text, or None if it is binary.

    -EncodedCommand is UTF-16LE by definition; FromBase64String payloads are either.
    UTF-16LE is assumed when at least a quarter of its high bytes are zero (scripts are
    mostly ASCII), else UTF-8. A UTF-16LE payload of only non-Latin text is left encoded:
    without that rule any short run of letters after ``-e`` "decodes" to CJK characters.
    """
    if not raw:
        return None
    utf16 = len(raw) % 2 == 0 and raw[1::2].count(0) * 4 >= len(raw) // 2
    if utf16_only and not utf16:
        return None
    try:
        text = raw.decode("utf-16-le" if utf16 else "utf-8")
    except UnicodeDecodeError:
        return None
    text = text.lstrip("\ufeff").replace("\x00", "")  # as clean_text does
    if not text:
        return None
    if text.isascii() and not text.encode("ascii").translate(None, _PRINTABLE_ASCII):
        return text  # the common case: printable ASCII and layout, in one C pass
    visible = text.translate(_LAYOUT_CHARACTERS)
    if visible.isprintable():
        return text
    printable = sum(1 for c in visible if c.isprintable()) + len(text) - len(visible)
    return text if printable >= _PRINTABLE_SHARE * len(text) else None
