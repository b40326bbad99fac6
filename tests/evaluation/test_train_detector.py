"""evaluation.train_detector: the built-in detector's network made trainable on frames of any size."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from evaluation import train_detector as td


@pytest.fixture(scope="module")
def shipped():
    return td.shipped_detector()


@pytest.fixture
def model(shipped):
    """A trainable copy (training changes the network in place)."""
    return td.TrainableSSDLite(copy.deepcopy(shipped))


def test_anchors_on_a_300_input_are_the_shipped_ones(shipped, model):
    ours = model.anchors(300, 300)
    ymin, xmin, ymax, xmax = (shipped.anchors * 300).unbind(-1)
    assert torch.allclose(ours, torch.stack([xmin, ymin, xmax, ymax], -1), atol=1e-3)


def test_pretrained_outputs_match_the_shipped_detector_on_300_px(shipped, model):
    model.eval()
    image = torch.rand(1, 3, 300, 300, generator=torch.Generator().manual_seed(0)) * 255
    with torch.no_grad():
        boxes, scores = shipped(image)
        encodings, logits = model(image)
        ours = model.decode(encodings[0], model.anchors(300, 300)) / 300
    assert torch.allclose(torch.sigmoid(logits[0]), scores[0], atol=1e-6)
    assert torch.allclose(ours, boxes[0], atol=1e-5)


def test_any_frame_size_gives_one_anchor_per_output(model):
    for height, width in ((128, 256), (100, 172)):
        encodings, _ = model(torch.zeros(1, 3, height, width))
        assert encodings.shape[1] == model.anchors(height, width).shape[0]


def test_encode_inverts_decode(model):
    anchors = model.anchors(128, 256)[:50]
    boxes = anchors + torch.tensor([3.0, -2.0, 7.0, 11.0])
    assert torch.allclose(model.decode(model.encode(boxes, anchors), anchors), boxes, atol=1e-3)


def test_assignment_positives_negatives_and_ignored():
    anchors = torch.tensor([[0, 0, 10, 20], [0, 0, 10, 14], [50, 0, 60, 20], [100, 0, 110, 20], [0, 0, 30, 60.]])
    person = torch.tensor([[0, 0, 10, 20.]])
    ignore = torch.tensor([[95, -5, 120, 30.]])
    labels, matched = td.assign(anchors, person, ignore)
    # exact match: positive; IoU 0.7: positive; far away: negative; inside the ignore region: left out;
    # IoU 1/9 with the person: negative.
    assert labels.tolist() == [1, 1, 0, -1, 0]
    assert torch.equal(matched[0], person[0])
    # A person no anchor overlaps by 0.5 still gets its best anchor.
    small = torch.tensor([[0, 0, 5, 9.]])
    labels, _ = td.assign(anchors, small, torch.zeros(0, 4))
    assert labels[1] == 1 and (labels == 1).sum() == 1


def test_crop_turns_cut_people_into_ignore_regions():
    sample = td.Sample(np.zeros((100, 200, 3), np.uint8), np.array([[10, 10, 30, 60], [90, 10, 110, 60.]]),
                       np.zeros((0, 4)))
    rng = np.random.default_rng(0)
    for _ in range(20):
        crop, boxes, ignore = td.random_crop(sample, (100, 100), rng)
        assert crop.shape == (100, 100, 3)
        # the second person straddles x = 100 for some crops: at most one half of it is a target
        assert len(boxes) + len(ignore) <= 2
        assert all(b[2] - b[0] >= 10 for b in boxes)


def test_training_lowers_the_loss_on_a_tiny_set(shipped, model):
    rng = np.random.default_rng(1)
    image = rng.integers(60, 90, (128, 256, 3), dtype=np.uint8)
    image[30:110, 100:130] = (200, 40, 40)  # a red "person"
    sample = td.Sample(image, np.array([[100, 30, 130, 110.]]), np.zeros((0, 4)))
    schedule = td.Schedule(steps=8, batch_size=2, crop=(128, 256), lr=1e-3)
    history = td.train(model, [sample], schedule, seed=0)
    assert history[-1]["step"] == 8
    losses = []
    td.train(model, [sample], td.Schedule(steps=1, batch_size=1, crop=(128, 256), lr=0.0), 0,
             lambda step, values: losses.append(values["total"]))
    first = td.TrainableSSDLite(copy.deepcopy(shipped))
    before = []
    td.train(first, [sample], td.Schedule(steps=1, batch_size=1, crop=(128, 256), lr=0.0), 0,
             lambda step, values: before.append(values["total"]))
    assert losses[0] < before[0]
    boxes, scores = td.detect(model, image)
    assert len(boxes) and scores[0] == scores.max()


def test_same_seed_same_weights(shipped):
    rng = np.random.default_rng(2)
    sample = td.Sample(rng.integers(0, 255, (96, 160, 3), dtype=np.uint8), np.array([[20, 10, 50, 80.]]),
                       np.array([[100, 10, 140, 60.]]))
    schedule = td.Schedule(steps=2, batch_size=2, crop=(64, 96))
    weights = []
    for seed in (5, 5, 6):
        model = td.TrainableSSDLite(copy.deepcopy(shipped))
        td.train(model, [sample], schedule, seed)
        weights.append(model.network.predictors[0].cls[1].weight.detach().clone())
    assert torch.equal(weights[0], weights[1]) and not torch.equal(weights[0], weights[2])
