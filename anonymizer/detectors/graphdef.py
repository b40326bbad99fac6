"""Read a TensorFlow frozen graph (a ``GraphDef`` protobuf) without TensorFlow: nodes, attributes, constants.

Only the protobuf wire format is decoded (varint keys ``field << 3 | wire_type``; wire types 0 varint, 1 fixed64,
2 length-delimited, 5 fixed32). The field numbers are those of TensorFlow's ``graph.proto`` (GraphDef.node = 1),
``node_def.proto`` (name 1, op 2, input 3, attr 5 as a map of key 1 / value 2), ``attr_value.proto`` (list 1,
s 2, i 3, f 4, b 5, type 6, shape 7, tensor 8; a list holds s 2, i 3, f 4 as repeated fields) and
``tensor.proto`` (dtype 1, tensor_shape 2, tensor_content 4, float_val 5, double_val 6, int_val 7, int64_val 10,
bool_val 11; a shape holds dims 2, each with size 1). Repeated numbers may be packed or not; both are read.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# tensorflow/core/framework/types.proto
DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8, 9: np.int64, 10: np.bool_}
DT_STRING = 7  # string_val (field 8), one bytes entry per element
# TensorProto field holding the values of each dtype when tensor_content is empty, and its fixed-width format
# (None: varint).
_VALUE_FIELDS = {np.float32: (5, "<f"), np.float64: (6, "<d"), np.int32: (7, None), np.uint8: (7, None),
                 np.int16: (7, None), np.int8: (7, None), np.int64: (10, None), np.bool_: (11, None)}


class GraphError(ValueError):
    """The file is not a GraphDef this reader understands; the message names the file."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise GraphError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of one message: an int for varints, the raw bytes otherwise."""
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            value, pos = data[pos:pos + width], pos + width
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        else:
            raise GraphError(f"unsupported wire type {wire}")
        if pos > end:
            raise GraphError("truncated message")
        yield number, wire, value


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _repeated(data: list[tuple[int, int | bytes]], fmt: str | None) -> list:
    """Values of one repeated scalar field, packed (one bytes blob) or not (one entry each)."""
    out: list = []
    for wire, value in data:
        if wire == 2:  # packed
            if fmt is None:
                pos = 0
                while pos < len(value):
                    number, pos = _varint(value, pos)
                    out.append(_signed(number))
            else:
                out.extend(v[0] for v in struct.iter_unpack(fmt, value))
        elif fmt is None:
            out.append(_signed(value))
        else:
            out.append(struct.unpack(fmt, value)[0])
    return out


def _group(data: bytes) -> dict[int, list[tuple[int, int | bytes]]]:
    grouped: dict[int, list[tuple[int, int | bytes]]] = {}
    for number, wire, value in fields(data):
        grouped.setdefault(number, []).append((wire, value))
    return grouped


def shape(data: bytes) -> tuple[int, ...]:
    """A TensorShapeProto's dimensions."""
    dims = []
    for _, dim in _group(data).get(2, []):
        size = _group(dim).get(1, [(0, 0)])[0][1]
        dims.append(_signed(size))
    return tuple(dims)


def tensor(data: bytes) -> np.ndarray:
    """A TensorProto as a numpy array (tensor_content, or the typed value list broadcast as TF does)."""
    grouped = _group(data)
    code = grouped.get(1, [(0, 0)])[0][1]
    dims = shape(grouped[2][0][1]) if 2 in grouped else ()
    if code == DT_STRING:
        return np.asarray([value for _, value in grouped.get(8, [])], dtype=object)
    if code not in DTYPES:
        raise GraphError(f"tensor dtype {code} is not supported")
    dtype = DTYPES[code]
    count = int(np.prod(dims)) if dims else 1
    if 4 in grouped:
        return np.frombuffer(grouped[4][0][1], dtype=dtype).reshape(dims).copy()
    number, fmt = _VALUE_FIELDS[dtype]
    values = _repeated(grouped.get(number, []), fmt)
    if not values:
        return np.zeros(dims, dtype=dtype)
    if len(values) < count:  # TF repeats the last value to fill the shape
        values = values + [values[-1]] * (count - len(values))
    return np.asarray(values, dtype=dtype).reshape(dims)


@dataclass
class Node:
    name: str
    op: str
    inputs: list[str] = field(default_factory=list)
    attrs: dict[str, bytes] = field(default_factory=dict)  # raw AttrValue messages

    def _attr(self, key: str) -> dict[int, list[tuple[int, int | bytes]]]:
        if key not in self.attrs:
            raise GraphError(f"node {self.name} ({self.op}) has no attribute {key!r}")
        return _group(self.attrs[key])

    def attr_ints(self, key: str) -> list[int]:
        """A list(int) attribute such as ``strides``."""
        return _repeated(_group(self._attr(key)[1][0][1]).get(3, []), None)

    def attr_bytes(self, key: str) -> bytes:
        """A string attribute such as ``padding`` or ``data_format``."""
        return self._attr(key)[2][0][1]

    def attr_int(self, key: str) -> int:
        """A scalar int attribute such as ``axis`` (0 when unset, the protobuf default)."""
        return _signed(self._attr(key).get(3, [(0, 0)])[0][1])

    def attr_float(self, key: str) -> float:
        return struct.unpack("<f", self._attr(key)[4][0][1])[0]

    def value(self) -> np.ndarray:
        """The tensor of a Const node."""
        return tensor(self._attr("value")[8][0][1])


def _node(data: bytes) -> Node:
    node = Node("", "")
    for number, _, value in fields(data):
        if number == 1:
            node.name = value.decode("utf-8")
        elif number == 2:
            node.op = value.decode("utf-8")
        elif number == 3:
            node.inputs.append(value.decode("utf-8"))
        elif number == 5:
            entry = _group(value)
            node.attrs[entry[1][0][1].decode("utf-8")] = entry.get(2, [(2, b"")])[0][1]
    return node


class Graph:
    """The nodes of a frozen graph by name."""

    def __init__(self, nodes: list[Node], source: str) -> None:
        self.nodes = {node.name: node for node in nodes}
        self.source = source

    @classmethod
    def load(cls, path: str | Path) -> Graph:
        path = Path(path)
        try:
            data = path.read_bytes()
            nodes = [_node(value) for number, wire, value in fields(data) if number == 1 and wire == 2]
        except OSError as error:
            raise GraphError(f"{path}: cannot be read ({error})") from None
        except (GraphError, UnicodeDecodeError, struct.error, IndexError, KeyError) as error:
            raise GraphError(f"{path}: not a TensorFlow GraphDef ({error})") from None
        if not nodes or not all(n.name and n.op for n in nodes):
            raise GraphError(f"{path}: not a TensorFlow GraphDef (no named nodes)")
        return cls(nodes, str(path))

    def node(self, name: str) -> Node:
        name = name.lstrip("^").split(":")[0]
        if name not in self.nodes:
            raise GraphError(f"{self.source}: no node named {name!r}")
        return self.nodes[name]

    def resolve(self, name: str) -> Node:
        """The node behind a chain of Identity nodes (``weights/read`` -> ``weights``)."""
        node = self.node(name)
        while node.op == "Identity":
            node = self.node(node.inputs[0])
        return node

    def const(self, name: str) -> np.ndarray:
        node = self.resolve(name)
        if node.op != "Const":
            raise GraphError(f"{self.source}: {name!r} is a {node.op}, not a constant")
        return node.value()

    def has(self, name: str) -> bool:
        return name in self.nodes

    def names_with_prefix(self, prefix: str) -> list[str]:
        return sorted(name for name in self.nodes if name.startswith(prefix))
