"""Hypothesis strategies for command lines and string columns, small by default, nulls included.

Command lines come from the dataset generator seeded by hypothesis, so a failing example
shrinks to a (family, seed) pair that reproduces it.
"""

from __future__ import annotations

from itertools import pairwise
from random import Random

import pyarrow as pa
from hypothesis import strategies as st

from vigil.datasets.obfuscation import OBFUSCATIONS, encode_command, launcher_script
from vigil.datasets.powershell import BENIGN_FAMILIES, MALICIOUS_FAMILIES, sample_command

__all__ = [
    "PLAIN_OBFUSCATIONS",
    "SPECIAL_STRINGS",
    "command_lines",
    "encoded_pairs",
    "obfuscated_pairs",
    "string_columns",
]

#: The transforms that keep the text readable: undoing them is a matter of removing characters.
PLAIN_OBFUSCATIONS = ("split_strings", "insert_ticks", "random_case", "insert_carets")

#: Strings that break naive text handling: empty, non-ASCII, control characters, quotes.
SPECIAL_STRINGS = (
    "",
    " ",
    "Ünïcode",
    "中文",
    "🙂🚀",
    "\x00",
    "\t\r\n",
    "\x1b[31mred\x1b[0m",
    "'\"`^",
    "powershell -enc ////",
    "-e",
    "İstanbul ß ﬁ",
)

_SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


@st.composite
def command_lines(draw: st.DrawFn, *, malicious: bool | None = None, plain: bool = False) -> str:
    """Generated benign or malicious command lines.

    Args:
        draw: Supplied by hypothesis.
        malicious: Pins the class; either when ``None``.
        plain: No obfuscation and no admin transforms (encoded launches, short flags).
    """
    is_malicious = draw(st.booleans()) if malicious is None else malicious
    families = MALICIOUS_FAMILIES if is_malicious else BENIGN_FAMILIES
    family = draw(st.sampled_from(list(families)))
    rng = Random(draw(_SEEDS))
    return sample_command(
        rng,
        malicious=is_malicious,
        family=family,
        obfuscation_rate=0.0 if plain else 0.5,
        benign_transforms=not plain,
    ).command_line


@st.composite
def obfuscated_pairs(draw: st.DrawFn, *, malicious: bool | None = None) -> tuple[str, str]:
    """``(plain, obfuscated)``: a generated line without obfuscation, and it after one or more
    of case changes, backticks, carets and string concatenation (applied in registry order).
    """
    plain = draw(command_lines(malicious=malicious, plain=True))
    names = draw(st.sets(st.sampled_from(PLAIN_OBFUSCATIONS), min_size=1))
    rng = Random(draw(_SEEDS))
    obfuscated = plain
    for name in OBFUSCATIONS:
        if name in names:
            obfuscated = OBFUSCATIONS[name](obfuscated, rng)
    return plain, obfuscated


@st.composite
def encoded_pairs(draw: st.DrawFn, *, malicious: bool | None = None) -> tuple[str, str]:
    """``(script, launcher)``: a script and a ``powershell.exe ... -EncodedCommand`` line that
    runs exactly it (the base64 decodes, as UTF-16LE, to ``script``).
    """
    line = draw(command_lines(malicious=malicious, plain=True))
    plain = launcher_script(line)
    return plain, encode_command(plain, Random(draw(_SEEDS)))


def _default_elements() -> st.SearchStrategy[str | None]:
    text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)
    long_text = st.builds(
        lambda s, k: (s or "x") * k,
        st.text(max_size=8).filter(lambda s: s.isprintable()),
        st.integers(500, 5000),
    )
    return st.one_of(
        st.none(),
        st.sampled_from(SPECIAL_STRINGS),
        text,
        command_lines(),
        long_text,
    )


@st.composite
def string_columns(
    draw: st.DrawFn,
    elements: st.SearchStrategy[str | None] | None = None,
    *,
    min_size: int = 0,
    max_size: int = 10,
    chunked: bool | None = None,
) -> pa.Array | pa.ChunkedArray:
    """Arrow string columns with nulls: a ``string``/``large_string`` array or a chunked array.

    Args:
        draw: Supplied by hypothesis.
        elements: Values, ``None`` meaning null. By default nulls, empty and non-ASCII strings,
            control characters, generated command lines and occasionally a long string.
        min_size: Fewest rows.
        max_size: Most rows; small by default to keep examples fast.
        chunked: ``True`` for a chunked array (split into several chunks, empty ones included),
            ``False`` for a plain array, ``None`` for either.
    """
    values = draw(st.lists(elements or _default_elements(), min_size=min_size, max_size=max_size))
    type_ = draw(st.sampled_from([pa.string(), pa.large_string()]))
    if not (draw(st.booleans()) if chunked is None else chunked):
        return pa.array(values, type=type_)
    cuts = sorted(draw(st.lists(st.integers(0, len(values)), min_size=1, max_size=4)))
    bounds = [0, *cuts, len(values)]
    chunks = [pa.array(values[a:b], type=type_) for a, b in pairwise(bounds)]
    return pa.chunked_array(chunks, type=type_)
