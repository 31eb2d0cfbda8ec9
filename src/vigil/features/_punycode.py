"""Punycode (RFC 3492), the encoding of IDN labels, compiled where the kernels are loaded.

Python's ``punycode`` codec is pure Python: ~14 µs to encode and ~8 µs to decode a label,
most of what a Unicode domain name costs to normalize and to read back. The kernels'
``punycode_encode`` / ``punycode_decode`` give the codec's answers in well under a
microsecond; where they do not answer (invalid input, absurd lengths) or are not loaded,
the codec itself runs, so results and errors are always exactly the codec's.
"""

from __future__ import annotations

from vigil.features import _accel


def encode(text: str) -> bytes:
    """``text.encode("punycode")``: the basic code points, ``-`` after them if any, then
    the digits of the others (lower-case)."""
    kernels = _accel.kernels
    if kernels is not None:
        encoded: bytes | None = kernels.punycode_encode(text)
        if encoded is not None:
            return encoded
    return text.encode("punycode")


def decode(text: bytes) -> str:
    """``text.decode("punycode")``; raises ``UnicodeError`` where the codec does."""
    kernels = _accel.kernels
    if kernels is not None:
        decoded: str | None = kernels.punycode_decode(text)
        if decoded is not None:
            return decoded
    return text.decode("punycode")
