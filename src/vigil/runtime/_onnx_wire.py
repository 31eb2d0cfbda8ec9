"""Just enough of ONNX's protobuf wire format to read a graph's nodes and cut it in two.

Why by hand: the ``onnx`` package is a training dependency (a large wheel with its own
protobuf build), and the scoring path must stay small for the serverless package. What
the runtime needs is narrow: the nodes of a model's graph with their attributes, and a
new model made of some of those nodes, copied byte for byte. Protobuf's wire format is
stable and documented (https://protobuf.dev/programming-guides/encoding/); the field
numbers below are those of ``onnx.proto3``, which never renumbers a field.

Anything this reader does not understand raises :class:`WireError`; callers treat that
as "use onnxruntime on the whole model", never as a failed load.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

# ModelProto
_MODEL_IR_VERSION, _MODEL_OPSET_IMPORT, _MODEL_GRAPH = 1, 8, 7
# GraphProto
_GRAPH_NODE, _GRAPH_NAME, _GRAPH_INITIALIZER, _GRAPH_INPUT, _GRAPH_OUTPUT = 1, 2, 5, 11, 12
# NodeProto
_NODE_INPUT, _NODE_OUTPUT, _NODE_OP_TYPE, _NODE_ATTRIBUTE, _NODE_DOMAIN = 1, 2, 4, 5, 7
# AttributeProto
_ATTR_NAME, _ATTR_F, _ATTR_I, _ATTR_S, _ATTR_T, _ATTR_G = 1, 2, 3, 4, 5, 6
_ATTR_FLOATS, _ATTR_INTS, _ATTR_STRINGS, _ATTR_TENSORS, _ATTR_GRAPHS = 7, 8, 9, 10, 11
# ValueInfoProto / TypeProto / TypeProto.Tensor
_VALUE_NAME, _VALUE_TYPE, _TYPE_TENSOR, _TENSOR_ELEM_TYPE, _TENSOR_SHAPE = 1, 2, 1, 1, 2
# TensorShapeProto / Dimension
_SHAPE_DIM, _DIM_PARAM = 1, 2
_FLOAT = 1  # TensorProto.FLOAT

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5

AttributeValue = float | int | bytes | NDArray[np.float32] | NDArray[np.int64] | list[bytes]


class WireError(ValueError):
    """The bytes are not an ONNX model this reader understands."""


@dataclass
class Node:
    """One NodeProto: its op, names, attributes, and its own bytes (to copy it as is)."""

    op_type: str
    domain: str
    inputs: list[str]
    outputs: list[str]
    attributes: dict[str, AttributeValue]
    raw: bytes


@dataclass
class Graph:
    """The parts of a ModelProto a graph cut needs; raw bytes are copied, never re-encoded."""

    ir_version: int
    opset_imports: list[bytes]
    nodes: list[Node]
    initializers: list[bytes]
    inputs: list[tuple[str, bytes]]
    outputs: list[tuple[str, bytes]]
    name: bytes = field(default=b"")


def read_model(data: bytes) -> Graph:
    """The graph of a serialized ModelProto (``WireError`` if it cannot be read)."""
    ir_version = 0
    opsets: list[bytes] = []
    graph_bytes: bytes | None = None
    for number, wire, value in _fields(data):
        if number == _MODEL_IR_VERSION and wire == _VARINT:
            ir_version = int(value)
        elif number == _MODEL_OPSET_IMPORT and wire == _LEN:
            opsets.append(_as_bytes(value))
        elif number == _MODEL_GRAPH and wire == _LEN:
            graph_bytes = _as_bytes(value)
    if graph_bytes is None:
        raise WireError("the model has no graph")
    graph = Graph(ir_version, opsets, [], [], [], [])
    for number, wire, value in _fields(graph_bytes):
        if wire != _LEN:
            continue
        raw = _as_bytes(value)
        if number == _GRAPH_NODE:
            graph.nodes.append(_read_node(raw))
        elif number == _GRAPH_INITIALIZER:
            graph.initializers.append(raw)
        elif number == _GRAPH_INPUT:
            graph.inputs.append((_value_name(raw), raw))
        elif number == _GRAPH_OUTPUT:
            graph.outputs.append((_value_name(raw), raw))
        elif number == _GRAPH_NAME:
            graph.name = raw
    return graph


def write_model(
    graph: Graph, nodes: list[Node], float_inputs: list[tuple[str, int]], initializers: list[bytes]
) -> bytes:
    """A ModelProto running ``nodes`` (copied as they are) on float tensors
    ``float_inputs`` (name, rank; every dimension symbolic), with the graph's opsets and
    outputs and the given initializers."""
    body = b"".join(_len_field(_GRAPH_NODE, node.raw) for node in nodes)
    body += _len_field(_GRAPH_NAME, graph.name or b"vigil_tail")
    body += b"".join(_len_field(_GRAPH_INITIALIZER, raw) for raw in initializers)
    for name, rank in float_inputs:
        dims = b"".join(
            _len_field(_SHAPE_DIM, _len_field(_DIM_PARAM, f"{name}_{axis}".encode()))
            for axis in range(rank)
        )
        tensor_type = _varint_field(_TENSOR_ELEM_TYPE, _FLOAT) + _len_field(_TENSOR_SHAPE, dims)
        value_type = _len_field(_TYPE_TENSOR, tensor_type)
        info = _len_field(_VALUE_NAME, name.encode()) + _len_field(_VALUE_TYPE, value_type)
        body += _len_field(_GRAPH_INPUT, info)
    body += b"".join(_len_field(_GRAPH_OUTPUT, raw) for _, raw in graph.outputs)
    model = _varint_field(_MODEL_IR_VERSION, graph.ir_version)
    model += b"".join(_len_field(_MODEL_OPSET_IMPORT, raw) for raw in graph.opset_imports)
    return model + _len_field(_MODEL_GRAPH, body)


def initializer_name(raw: bytes) -> str:
    """The name of a serialized TensorProto (field 8)."""
    for number, wire, value in _fields(raw):
        if number == 8 and wire == _LEN:
            return _text(value)
    return ""


def _read_node(raw: bytes) -> Node:
    node = Node("", "", [], [], {}, raw)
    for number, wire, value in _fields(raw):
        if wire != _LEN:
            continue
        if number == _NODE_INPUT:
            node.inputs.append(_text(value))
        elif number == _NODE_OUTPUT:
            node.outputs.append(_text(value))
        elif number == _NODE_OP_TYPE:
            node.op_type = _text(value)
        elif number == _NODE_DOMAIN:
            node.domain = _text(value)
        elif number == _NODE_ATTRIBUTE:
            name, attribute = _read_attribute(_as_bytes(value))
            node.attributes[name] = attribute
    return node


def _read_attribute(raw: bytes) -> tuple[str, AttributeValue]:
    """An AttributeProto's name and value: a number, bytes, an array, or a list of bytes.

    ONNX is proto2, so its repeated numbers travel one field each (a tree ensemble's
    attributes hold ~100,000 of them): runs of them are read at once with numpy. Packed
    runs are read too. Tensor- and graph-valued attributes are refused (the tree ops'
    ``*_as_tensor`` forms)."""
    name = ""
    value: AttributeValue | None = None
    floats: list[NDArray[np.float32]] = []
    ints: list[NDArray[np.uint64]] = []
    strings: list[bytes] = []
    position = 0
    while position < len(raw):
        key, after = _varint(raw, position)
        number, wire = key >> 3, key & 7
        if number == _ATTR_INTS and wire == _VARINT:
            run, position = _unpacked_varints(raw, position, key)
            ints.append(run)
            continue
        if number == _ATTR_FLOATS and wire == _I32:
            floats_run, position = _unpacked_floats(raw, position, key)
            floats.append(floats_run)
            continue
        item, position = _field_value(raw, after, wire)
        if number == _ATTR_NAME and wire == _LEN:
            name = _text(item)
        elif number == _ATTR_F and wire == _I32:
            value = float(np.frombuffer(_as_bytes(item), dtype="<f4")[0])
        elif number == _ATTR_I and wire == _VARINT:
            value = _signed(int(item))
        elif number == _ATTR_S and wire == _LEN:
            value = _as_bytes(item)
        elif number == _ATTR_FLOATS and wire == _LEN:
            floats.append(np.frombuffer(_as_bytes(item), dtype="<f4").astype(np.float32))
        elif number == _ATTR_INTS and wire == _LEN:
            ints.append(_varints(_as_bytes(item)))
        elif number == _ATTR_STRINGS and wire == _LEN:
            strings.append(_as_bytes(item))
        elif number in (_ATTR_T, _ATTR_G, _ATTR_TENSORS, _ATTR_GRAPHS):
            raise WireError(f"attribute {name or '?'} holds tensors or graphs")
    if floats:
        value = np.concatenate(floats)
    elif ints:
        value = np.concatenate(ints).view(np.int64)
    elif strings:
        value = strings
    if value is None:
        value = np.zeros(0, dtype=np.int64)  # an empty repeated attribute
    return name, value


def _unpacked_varints(raw: bytes, position: int, key: int) -> tuple[NDArray[np.uint64], int]:
    """The run of one-per-field varints starting at ``position`` (each field a one-byte
    ``key``, then its value), and where the run ends."""
    data = np.frombuffer(raw, dtype=np.uint8)[position:]
    ends = np.flatnonzero(data < 0x80)
    starts = np.concatenate([[0], ends[:-1] + 1])
    pairs = len(starts) // 2
    is_key = (ends[: 2 * pairs : 2] == starts[: 2 * pairs : 2]) & (
        data[starts[: 2 * pairs : 2]] == key
    )
    if pairs and not is_key.all():
        pairs = int(np.argmin(is_key))
    if pairs == 0:
        raise WireError("a repeated int field ends inside its value")
    stop = int(ends[2 * pairs - 1]) + 1
    return _varints(data[:stop].tobytes())[1::2], position + stop


def _unpacked_floats(raw: bytes, position: int, key: int) -> tuple[NDArray[np.float32], int]:
    """The run of one-per-field floats starting at ``position`` (a one-byte ``key``, then
    4 little-endian bytes each), and where the run ends."""
    data = np.frombuffer(raw, dtype=np.uint8)[position:]
    count = len(data) // 5
    match = data[: 5 * count : 5] == key
    run = count if match.all() else int(np.argmin(match))
    if run == 0:
        raise WireError("a repeated float field runs past the end")
    body = np.ascontiguousarray(data[: 5 * run].reshape(run, 5)[:, 1:])
    return body.view("<f4").reshape(-1).astype(np.float32), position + 5 * run


def _value_name(raw: bytes) -> str:
    for number, wire, value in _fields(raw):
        if number == _VALUE_NAME and wire == _LEN:
            return _text(value)
    return ""


def _fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of each field: an int for varints, bytes else."""
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        value, position = _field_value(data, position, key & 7)
        yield key >> 3, key & 7, value


def _field_value(data: bytes, position: int, wire: int) -> tuple[int | bytes, int]:
    """The value of a field whose key ends at ``position``, and where the next one starts."""
    if wire == _VARINT:
        return _varint(data, position)
    if wire in (_I64, _I32):
        size = 8 if wire == _I64 else 4
    elif wire == _LEN:
        size, position = _varint(data, position)
    else:
        raise WireError(f"wire type {wire} is not used by ONNX")
    if position + size > len(data):
        raise WireError("a field runs past the end")
    return data[position : position + size], position + size


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(data) or shift > 63:
            raise WireError("a varint runs past the end or past 64 bits")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, position
        shift += 7


def _varints(packed: bytes) -> NDArray[np.uint64]:
    """Every varint of a packed field at once (a Python loop per value would take ~0.1 s
    on a 400-tree model); negative int64s come back as their two's complement."""
    raw = np.frombuffer(packed, dtype=np.uint8)
    if raw.size == 0:
        return np.zeros(0, dtype=np.uint64)
    if raw[-1] >= 0x80:
        raise WireError("a packed varint field ends inside a value")
    ends = np.flatnonzero(raw < 0x80)
    starts = np.concatenate([[0], ends[:-1] + 1])
    place = np.arange(raw.size) - np.repeat(starts, ends - starts + 1)
    if place.max() > 9:
        raise WireError("a varint is longer than 10 bytes")
    shifted = (raw & 0x7F).astype(np.uint64) << (7 * place).astype(np.uint64)
    return np.add.reduceat(shifted, starts).astype(np.uint64)


def _text(value: int | bytes) -> str:
    try:
        return _as_bytes(value).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WireError("a name is not UTF-8") from exc


def _signed(value: int) -> int:
    """An int64 from its varint (negative values travel as two's complement)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _as_bytes(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise WireError("expected a length-delimited field")
    return value


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _len_field(number: int, payload: bytes) -> bytes:
    return _encode_varint(number << 3 | _LEN) + _encode_varint(len(payload)) + payload


def _varint_field(number: int, value: int) -> bytes:
    return _encode_varint(number << 3 | _VARINT) + _encode_varint(value)
