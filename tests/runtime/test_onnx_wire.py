"""The hand-written ONNX wire reader against the onnx package, and on garbage."""

from __future__ import annotations

import contextlib

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from vigil.runtime._onnx_wire import (
    WireError,
    _encode_varint,
    _len_field,
    _read_attribute,
    initializer_name,
    read_model,
    write_model,
)
from vigil.testing.models import logistic_onnx

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
FLOAT32 = st.floats(width=32, allow_nan=False)


def _attribute_bytes(name: str, value: object) -> bytes:
    attribute: bytes = helper.make_attribute(name, value).SerializeToString()
    return attribute


class TestAttributes:
    @settings(max_examples=200, deadline=None)
    @given(st.lists(INT64, min_size=1, max_size=300))
    def test_repeated_ints_read_as_onnx_wrote_them(self, values: list[int]) -> None:
        name, read = _read_attribute(_attribute_bytes("nodes_nodeids", values))
        assert name == "nodes_nodeids"
        assert isinstance(read, np.ndarray)
        assert read.dtype == np.int64
        assert read.tolist() == values

    @settings(max_examples=200, deadline=None)
    @given(st.lists(FLOAT32, min_size=1, max_size=300))
    def test_repeated_floats_read_as_onnx_wrote_them(self, values: list[float]) -> None:
        _, read = _read_attribute(_attribute_bytes("nodes_values", values))
        assert isinstance(read, np.ndarray)
        assert np.array_equal(read, np.asarray(values, dtype=np.float32))

    @given(INT64)
    def test_one_int(self, value: int) -> None:
        assert _read_attribute(_attribute_bytes("n_targets", value)) == ("n_targets", value)

    @given(FLOAT32)
    def test_one_float(self, value: float) -> None:
        _, read = _read_attribute(_attribute_bytes("alpha", value))
        assert read == value

    def test_strings_and_bytes(self) -> None:
        modes = [b"BRANCH_LT", b"LEAF", b"BRANCH_LEQ"]
        assert _read_attribute(_attribute_bytes("nodes_modes", modes)) == ("nodes_modes", modes)
        assert _read_attribute(_attribute_bytes("post_transform", "NONE")) == (
            "post_transform",
            b"NONE",
        )

    @given(st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), min_size=1))
    def test_packed_ints_are_read_too(self, values: list[int]) -> None:
        packed = b"".join(_encode_varint(v & 0xFFFFFFFFFFFFFFFF) for v in values)
        raw = _len_field(1, b"ids") + _len_field(8, packed)
        _, read = _read_attribute(raw)
        assert isinstance(read, np.ndarray)
        assert read.tolist() == values

    def test_tensor_attributes_are_refused(self) -> None:
        tensor = numpy_helper.from_array(np.zeros(2, np.float32), "t")
        with pytest.raises(WireError, match="tensors"):
            _read_attribute(_attribute_bytes("base_values_as_tensor", tensor))


class TestModels:
    def test_nodes_inputs_outputs_and_initializers_of_a_real_model(self) -> None:
        model_bytes = logistic_onnx(np.arange(5, dtype=np.float32), 0.5)
        model = onnx.load_from_string(model_bytes)
        graph = read_model(model_bytes)
        assert graph.ir_version == model.ir_version
        assert [n.op_type for n in graph.nodes] == [n.op_type for n in model.graph.node]
        assert [n.inputs for n in graph.nodes] == [list(n.input) for n in model.graph.node]
        assert [n.outputs for n in graph.nodes] == [list(n.output) for n in model.graph.node]
        assert [name for name, _ in graph.inputs] == [i.name for i in model.graph.input]
        assert [name for name, _ in graph.outputs] == [o.name for o in model.graph.output]
        assert [initializer_name(raw) for raw in graph.initializers] == [
            i.name for i in model.graph.initializer
        ]

    def test_a_cut_graph_runs_in_onnxruntime(self) -> None:
        """The tail of a graph, written from copied bytes, computes what the whole did."""
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])
        whole = helper.make_model(
            helper.make_graph(
                [
                    helper.make_node("Abs", ["x"], ["middle"]),
                    helper.make_node("Mul", ["middle", "two"], ["scaled"]),
                    helper.make_node("Sigmoid", ["scaled"], ["y"]),
                ],
                "g",
                [x],
                [y],
                [numpy_helper.from_array(np.array([2.0], np.float32), "two")],
            ),
            opset_imports=[helper.make_opsetid("", 17)],
            ir_version=8,
        ).SerializeToString()
        graph = read_model(whole)
        tail = write_model(graph, graph.nodes[1:], [("middle", 2)], graph.initializers)
        onnx.checker.check_model(onnx.load_from_string(tail))
        rows = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
        (want,) = ort.InferenceSession(whole).run(["y"], {"x": rows})
        (got,) = ort.InferenceSession(tail).run(["y"], {"middle": np.abs(rows)})
        assert np.array_equal(want, got)

    @settings(max_examples=300, deadline=None)
    @given(st.binary(max_size=200))
    def test_garbage_is_a_wire_error_or_a_graph(self, data: bytes) -> None:
        with contextlib.suppress(WireError):
            read_model(data)

    @settings(max_examples=200, deadline=None)
    @given(st.data())
    def test_a_truncated_model_is_a_wire_error_or_a_graph(self, data: st.DataObject) -> None:
        model_bytes = logistic_onnx(np.arange(4, dtype=np.float32), 0.0)
        cut = data.draw(st.integers(min_value=0, max_value=len(model_bytes) - 1))
        with contextlib.suppress(WireError):
            read_model(model_bytes[:cut])
