"""The built-in pedestrian detector against independent references: the graph's own anchor constants, OpenCV DNN
running the same frozen graph, and a real photograph of a person."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from skimage import data as skimage_data

from anonymizer.detection import Frame
from anonymizer.detectors import _weights, builtin_person_detector
from anonymizer.detectors.graphdef import Graph
from anonymizer.detectors.ssdlite import PedestrianTileModel, SSDLiteDetector, same_padding

from .tf_reference import constant_anchors, network_text_graph


@pytest.fixture(scope="module")
def graph_and_model():
    path, _ = _weights("ssdlite_pedestrian")
    graph = Graph.load(path)
    return path, graph, SSDLiteDetector(graph).eval()


@pytest.fixture(scope="module")
def astronaut_input() -> torch.Tensor:
    image = cv2.resize(skimage_data.astronaut(), (300, 300), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(image).permute(2, 0, 1)[None].float()


def test_tf_same_padding_puts_the_odd_pixel_after():
    assert same_padding(300, 3, 2) == (0, 1)
    assert same_padding(75, 3, 2) == (1, 1)
    assert same_padding(19, 3, 1) == (1, 1)
    assert same_padding(2, 3, 2) == (0, 1)


def test_anchors_equal_the_graphs_constant_anchor_subgraph(graph_and_model):
    _, graph, model = graph_and_model
    reference = constant_anchors(graph)
    assert reference.shape == (1917, 4)
    np.testing.assert_allclose(model.anchors.numpy(), reference, atol=1e-6)


def test_heads_match_opencv_dnn_on_the_same_graph(graph_and_model, astronaut_input, tmp_path):
    path, graph, model = graph_and_model
    text, outputs = network_text_graph(graph)
    (tmp_path / "net.pbtxt").write_text(text)
    net = cv2.dnn.readNetFromTensorflow(path, str(tmp_path / "net.pbtxt"))
    net.setInput((astronaut_input * model.input_scale - model.input_shift).numpy())
    reference = net.forward(outputs)
    ours = []
    for predictor in model.network.predictors:
        predictor.box.register_forward_hook(lambda module, args, out: ours.append(out))
        predictor.cls.register_forward_hook(lambda module, args, out: ours.append(out))
    with torch.no_grad():
        model(astronaut_input)
    # Heads on the 19, 10, 5, 3 and 2 px maps agree to float precision. On the 1×1 map OpenCV 5.0 differs (by
    # ~0.4 logit): there a SAME-padded 3×3 depthwise convolution can only use its centre tap, which is what we
    # compute; OpenCV's output there equals no choice of padding or tap, so that head is not compared.
    for name, theirs, mine in list(zip(outputs, reference, ours, strict=True))[:10]:
        scale = float(np.abs(theirs).max())
        assert np.abs(theirs - mine.numpy()).max() <= 1e-5 * max(scale, 1.0) * 10, name


def test_finds_the_astronaut(graph_and_model, astronaut_input):
    _, _, model = graph_and_model
    with torch.no_grad():
        boxes, scores = model(astronaut_input)
    best = int(scores[0].argmax())
    assert float(scores[0, best]) > 0.9
    x1, y1, x2, y2 = (boxes[0, best] * 512).tolist()
    # She fills the left three quarters of the 512 px picture, head near the top, cut off at the bottom.
    assert x1 < 40 and y1 < 60 and 330 < x2 < 420 and y2 > 360


def test_the_cpu_runtime_gives_the_torch_modules_outputs(graph_and_model, astronaut_input):
    path, _, model = graph_and_model
    runtime = PedestrianTileModel(path, "0" * 64, "cpu")
    assert runtime.session is not None  # onnxruntime on the CPU
    ((boxes, scores),) = runtime(astronaut_input.permute(0, 2, 3, 1).numpy().astype(np.uint8))
    with torch.no_grad():
        expected_boxes, expected_scores = model(astronaut_input)
    np.testing.assert_allclose(scores, expected_scores[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(boxes, expected_boxes[0].numpy(), atol=1e-5)


def test_the_builtin_detector_from_code_gives_frame_boxes():
    image = skimage_data.astronaut()
    (found,) = builtin_person_detector(min_person_height=200).detect([Frame(image, "astronaut.png")])
    best = max(found, key=lambda d: d.score)
    assert best.label == "person" and best.score > 0.9
    x1, y1, x2, y2 = best.box  # frame pixels of the 512 px picture, grown by the 5 % margin
    assert x1 < 40 and y1 < 60 and x2 > 330 and y2 > 360


def test_a_batch_spread_over_threads_gives_each_tiles_own_outputs(graph_and_model, astronaut_input):
    """On the CPU a batch's tiles run as concurrent one-thread calls: the results are those of each tile alone,
    in the batch's order."""
    path, _, _ = graph_and_model
    runtime = PedestrianTileModel(path, "0" * 64, "cpu")
    tile = astronaut_input.permute(0, 2, 3, 1).numpy().astype(np.uint8)[0]
    tiles = np.stack([tile, tile[:, ::-1], tile[::-1], tile])
    runtime.workers = 1
    alone = [runtime(t[None])[0] for t in tiles]
    runtime.workers = 3
    together = runtime(tiles)
    assert len(together) == 4
    for (boxes, scores), (expected_boxes, expected_scores) in zip(together, alone, strict=True):
        np.testing.assert_array_equal(scores, expected_scores)
        np.testing.assert_array_equal(boxes, expected_boxes)
    assert not np.array_equal(together[0][1], together[2][1])  # the flipped tile is a different input
