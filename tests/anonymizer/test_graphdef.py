"""The GraphDef reader on hand-encoded protobuf messages: nodes, attributes and tensors in every encoding."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from anonymizer.detectors.graphdef import Graph, GraphError


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number: int, payload: bytes | int, wire: int = 2) -> bytes:
    key = varint(number << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    if wire == 5:
        return key + payload
    return key + varint(len(payload)) + payload


def shape(*dims: int) -> bytes:
    return b"".join(field(2, field(1, d, wire=0)) for d in dims)


def node(name: str, op: str, inputs=(), **attrs: bytes) -> bytes:
    body = field(1, name.encode()) + field(2, op.encode())
    body += b"".join(field(3, i.encode()) for i in inputs)
    body += b"".join(field(5, field(1, k.encode()) + field(2, v)) for k, v in attrs.items())
    return field(1, body)


def tensor_attr(tensor: bytes) -> bytes:
    return field(8, tensor)


def test_nodes_attributes_and_tensors_in_every_encoding(tmp_path):
    weights = np.arange(6, dtype=np.float32).reshape(2, 3)
    content = field(1, 1, 0) + field(2, shape(2, 3)) + field(4, weights.tobytes())
    packed = field(1, 1, 0) + field(2, shape(3)) + field(5, struct.pack("<3f", 0.5, -1.0, 2.0))
    unpacked = (field(1, 1, 0) + field(2, shape(2)) + field(5, struct.pack("<f", 1.5), 5)
                + field(5, struct.pack("<f", 2.5), 5))
    broadcast = field(1, 3, 0) + field(2, shape(2, 2)) + field(7, varint(7))  # one int fills the shape
    negative = field(1, 9, 0) + field(2, shape(2)) + field(10, varint(-3) + varint(4))
    strides = field(1, field(3, varint(1) + varint(2) + varint(2) + varint(1)))
    data = b"".join([
        node("w", "Const", value=tensor_attr(content)),
        node("w/read", "Identity", ["w"]),
        node("conv", "Conv2D", ["x", "w/read"], strides=strides, padding=field(2, b"SAME"),
             epsilon=field(4, struct.pack("<f", 0.001), 5), axis=field(3, 2, 0)),
        node("packed", "Const", value=tensor_attr(packed)),
        node("unpacked", "Const", value=tensor_attr(unpacked)),
        node("broadcast", "Const", value=tensor_attr(broadcast)),
        node("negative", "Const", value=tensor_attr(negative)),
    ])
    path = tmp_path / "graph.pb"
    path.write_bytes(data)
    graph = Graph.load(path)
    assert graph.node("conv:0").inputs == ["x", "w/read"]
    np.testing.assert_array_equal(graph.const("w/read"), weights)
    conv = graph.node("conv")
    assert conv.attr_ints("strides") == [1, 2, 2, 1]
    assert conv.attr_bytes("padding") == b"SAME"
    assert conv.attr_float("epsilon") == pytest.approx(0.001)
    assert conv.attr_int("axis") == 2
    np.testing.assert_array_equal(graph.const("packed"), [0.5, -1.0, 2.0])
    np.testing.assert_array_equal(graph.const("unpacked"), [1.5, 2.5])
    np.testing.assert_array_equal(graph.const("broadcast"), [[7, 7], [7, 7]])
    np.testing.assert_array_equal(graph.const("negative"), [-3, 4])
    with pytest.raises(GraphError, match="'conv' is a Conv2D"):
        graph.const("conv")


def test_a_file_that_is_no_graph_gives_an_error_naming_it(tmp_path):
    path = tmp_path / "broken.pb"
    path.write_bytes(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff")
    with pytest.raises(GraphError, match="broken.pb: not a TensorFlow GraphDef"):
        Graph.load(path)
    with pytest.raises(GraphError, match="missing.pb: cannot be read"):
        Graph.load(tmp_path / "missing.pb")
