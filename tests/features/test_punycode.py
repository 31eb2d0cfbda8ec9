"""Punycode through the kernels: exactly Python's codec, results and errors alike."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from vigil.features import _accel, _punycode

#: Every code point, surrogates included (Python strings hold them; the codec takes them).
_ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
#: Mostly IDN-like: ASCII, Latin, Cyrillic, CJK and the top of the code space.
_LABELISH = st.text(
    st.sampled_from([*"abz09-AZ", "ü", "ß", "я", "ж", "大", "阪", "\U0010fffd", "\x80", "\ud800"]),
    max_size=30,
)
#: What decoding meets: digits of both cases, delimiters, and the odd byte it must refuse.
_PUNYISH = st.lists(
    st.sampled_from([*b"abxyz09AZ-", 0x20, 0x5F, 0x7F, 0x80, 0xFF]).map(lambda b: bytes([b])),
    max_size=40,
).map(b"".join)


def _codec_decode(text: bytes) -> str | type[Exception]:
    try:
        return text.decode("punycode")
    except (UnicodeError, ValueError) as error:
        return type(error)


def _decode(text: bytes) -> str | type[Exception]:
    try:
        return _punycode.decode(text)
    except (UnicodeError, ValueError) as error:
        return type(error)


#: ``way`` only switches the kernels on or off: nothing to reset between examples.
_WAYS = {"suppress_health_check": [HealthCheck.function_scoped_fixture]}


@settings(max_examples=400, **_WAYS)
@given(st.one_of(_ANY_TEXT, _LABELISH))
@example("")
@example("abc")  # no code point past ASCII: the codec still writes the delimiter
@example("ü" * 200)
@example("\u6868\u6886")  # a first delta of 26,600: its bias is 18, with damp 701 it is 17
def test_encode_is_the_codec(way: str, text: str) -> None:
    assert _punycode.encode(text) == text.encode("punycode")


@settings(max_examples=400, **_WAYS)
@given(st.one_of(_PUNYISH, _ANY_TEXT.map(lambda t: t.encode("punycode"))))
@example(b"")
@example(b"-")
@example(b"abc-")
@example(b"-kva")
@example(b"bcher-kva")
@example(b"BCHER-KVA")
@example(b"a-b-c-tda")
@example(b"9yvmc")  # the first delta's damping decides the second character
@example(b"99999a")  # past U+10FFFF
@example(b"9" * 20 + b"a")  # past the kernel's 2**53 bound: the codec decides
@example(b"a")  # one digit below its threshold: U+0080
@example(b"b")  # incomplete
@example(b"b\x80-kva")  # not ASCII
def test_decode_is_the_codec(way: str, text: bytes) -> None:
    assert _decode(text) == _codec_decode(text)


@settings(max_examples=200)
@given(st.one_of(_ANY_TEXT, _LABELISH))
def test_decode_reverses_encode(text: str) -> None:
    assert _punycode.decode(_punycode.encode(text)) == text
    if _accel.kernels is not None:  # the kernels answer these themselves: none deferred
        assert _accel.kernels.punycode_decode(text.encode("punycode")) == text
        assert _accel.kernels.punycode_encode(text) == text.encode("punycode")


@pytest.mark.skipif(_accel.kernels is None, reason="the compiled kernels are not loaded")
def test_kernels_answer_what_they_can_and_defer_the_rest() -> None:
    kernels = _accel.require()
    assert kernels.punycode_encode("münchen") == b"mnchen-3ya"
    assert kernels.punycode_decode(b"mnchen-3ya") == "münchen"
    assert kernels.punycode_decode(b"MNCHEN-3YA") == "MüNCHEN"  # digits of either case
    assert kernels.punycode_encode("ü" * 5000) is None  # past its length bound
    assert kernels.punycode_decode(b"a" * 5000) is None
    for invalid in (b"b", b"b\x80-kva", b"ab_", b"99999a", b"9" * 20 + b"a"):
        assert kernels.punycode_decode(invalid) is None
    with pytest.raises(TypeError):
        kernels.punycode_encode(b"bytes")
    with pytest.raises(TypeError):
        kernels.punycode_decode("str")
