"""Independent references for the SSDLite port: OpenCV DNN on a text graph made from the frozen graph's own nodes,
and a numpy evaluation of the graph's constant anchor subgraph.

OpenCV runs a TF graph given a text description of its layers (``readNetFromTensorflow(pb, pbtxt)``), taking each
layer's weights from the binary graph by constant name. The text graph written here copies the network part of the
frozen graph (convolutions, batch norms, ReLU6, additions, biases) node by node, with Identity nodes bypassed.
"""

from __future__ import annotations

import numpy as np

from anonymizer.detectors.graphdef import Graph

NETWORK_OPS = {"Conv2D", "DepthwiseConv2dNative", "FusedBatchNorm", "Relu6", "Add", "AddV2", "BiasAdd"}
INPUT = "FeatureExtractor/MobilenetV2/MobilenetV2/input"


def _through_identities(graph: Graph, name: str) -> str:
    if name == INPUT:
        return "input"
    node = graph.node(name)
    while node.op == "Identity":
        if node.inputs[0].split(":")[0] == INPUT:
            return "input"
        node = graph.node(node.inputs[0])
    return node.name


def _attr_text(node, key: str) -> str:
    if key == "strides":
        values = " ".join(f"i: {v}" for v in node.attr_ints(key))
        return f'  attr {{ key: "{key}" value {{ list {{ {values} }} }} }}'
    if key in ("padding", "data_format"):
        return f'  attr {{ key: "{key}" value {{ s: "{node.attr_bytes(key).decode()}" }} }}'
    if key == "epsilon":
        return f'  attr {{ key: "{key}" value {{ f: {node.attr_float(key)!r} }} }}'
    raise KeyError(key)


def network_text_graph(graph: Graph) -> tuple[str, list[str]]:
    """(pbtxt text, the 12 predictor outputs: box then class per BoxPredictor_K). OpenCV fuses each BiasAdd
    into its convolution, so the outputs are named after the convolutions."""
    lines = ['node { name: "input" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }']
    for name, node in graph.nodes.items():
        if node.op not in NETWORK_OPS or not name.startswith(("FeatureExtractor/", "BoxPredictor_")):
            continue
        lines.append("node {")
        lines.append(f'  name: "{name}"')
        lines.append(f'  op: "{node.op}"')
        for source in node.inputs:
            lines.append(f'  input: "{_through_identities(graph, source)}"')
        for key in ("strides", "padding", "data_format", "epsilon"):
            if key in node.attrs:
                lines.append(_attr_text(node, key))
        lines.append("}")
    outputs = [f"BoxPredictor_{k}/{head}/Conv2D" for k in range(6)
               for head in ("BoxEncodingPredictor", "ClassPredictor")]
    return "\n".join(lines) + "\n", outputs


def constant_anchors(graph: Graph) -> np.ndarray:
    """``Concatenate/concat`` (all anchors, [ymin, xmin, ymax, xmax]) evaluated from the graph's constant ops."""
    cache: dict[str, list[np.ndarray]] = {}

    def value(ref: str) -> np.ndarray:
        name, _, port = ref.partition(":")
        return evaluate(name)[int(port or 0)]

    def evaluate(name: str) -> list[np.ndarray]:
        if name in cache:
            return cache[name]
        node = graph.node(name)
        args = [value(i) for i in node.inputs if not i.startswith("^")]
        op = node.op
        if op == "Const":
            out = [node.value()]
        elif op == "Identity":
            out = [args[0]]
        elif op == "Cast":
            out = [args[0].astype(np.float32)]
        elif op in ("RealDiv", "Mul", "Add", "Sub", "Minimum", "Maximum"):
            fn = {"RealDiv": np.divide, "Mul": np.multiply, "Add": np.add, "Sub": np.subtract,
                  "Minimum": np.minimum, "Maximum": np.maximum}[op]
            out = [fn(args[0], args[1]).astype(np.result_type(args[0], args[1]))]
        elif op == "Sqrt":
            out = [np.sqrt(args[0])]
        elif op == "Range":
            out = [np.arange(args[0], args[1], args[2], dtype=np.int32)]
        elif op == "StridedSlice":
            # Only the forms the anchor generator uses: one axis, shrink_axis_mask 1.
            begin, end = int(args[1][0]), int(args[2][0])
            sliced = args[0][begin:end]
            out = [sliced[0] if node.attr_int("shrink_axis_mask") & 1 else sliced]
        elif op == "ExpandDims":
            out = [np.expand_dims(args[0], int(args[1]))]
        elif op == "Slice":
            begin, size = args[1].astype(int), args[2].astype(int)
            index = tuple(slice(b, None if s == -1 else b + s) for b, s in zip(begin, size, strict=True))
            out = [args[0][index]]
        elif op == "Reshape":
            out = [args[0].reshape(args[1].astype(int))]
        elif op == "Fill":
            out = [np.full(args[0].astype(int), args[1])]
        elif op == "ConcatV2":
            out = [np.concatenate(args[:-1], axis=int(args[-1]))]
        elif op == "Tile":
            out = [np.tile(args[0], args[1].astype(int))]
        elif op == "Pack":
            out = [np.stack(args, axis=node.attr_int("axis"))]
        elif op == "Shape":
            out = [np.asarray(args[0].shape, dtype=np.int32)]
        elif op == "Rank":
            out = [np.asarray(args[0].ndim, dtype=np.int32)]
        else:
            raise NotImplementedError(f"{op} ({name})")
        cache[name] = out
        return out

    return value("Concatenate/concat")
