"""The one CityPersons reader/writer: round trip, byte-stable output, one clear error per malformed file."""

from __future__ import annotations

import json

import pytest

from data.citypersons import (
    CityPerson,
    CityPersonsError,
    CityPersonsFrame,
    annotation_files,
    citypersons_bytes,
    frame_key,
    parse_citypersons,
    read_citypersons,
    write_citypersons,
)

FRAME = CityPersonsFrame([CityPerson("pedestrian", (10, 20, 30, 60), (12, 20, 20, 40), 24000),
                          CityPerson("ignore", (100, 20, 30.5, 60), (100, 20, 30.5, 60))], (2048, 1024))


def test_round_trip_keeps_every_field_and_the_bytes(tmp_path):
    path = tmp_path / "gtBboxCityPersons" / "train" / "aachen" / "aachen_000000_000019_gtBboxCityPersons.json"
    write_citypersons(path, FRAME)
    assert read_citypersons(path) == FRAME
    document = json.loads(path.read_text())
    assert document["imgWidth"] == 2048 and document["objects"][0] == {
        "label": "pedestrian", "bbox": [10, 20, 30, 60], "bboxVis": [12, 20, 20, 40], "instanceId": 24000}
    assert "instanceId" not in document["objects"][1]  # absent stays absent
    write_citypersons(path, read_citypersons(path))
    assert path.read_bytes() == citypersons_bytes(FRAME)  # ints stay ints, the layout is fixed
    assert annotation_files(tmp_path) == {"aachen_000000_000019": path}


def test_the_official_key_order_reads_the_same_as_ours():
    official = {"imgHeight": 1024, "imgWidth": 2048, "objects": [
        {"instanceId": 24000, "bbox": [10, 20, 30, 60], "bboxVis": [12, 20, 20, 40], "label": "pedestrian"}]}
    frame = parse_citypersons(official, "x.json")
    assert frame.size == (2048, 1024) and frame.objects[0] == FRAME.objects[0]
    assert parse_citypersons({"objects": []}, "x.json").size is None


@pytest.mark.parametrize(("data", "problem"), [
    ([], "no 'objects' list"),
    ({"objects": [{"bbox": [1, 2, 3, 4]}]}, "object 0 is not an object with a 'label'"),
    ({"objects": [{"label": "pedestrian", "bbox": [1, 2, 3]}]}, "object 0 bbox must be [x, y, w, h]"),
    ({"objects": [{"label": "pedestrian", "bboxVis": [1, 2, float("nan"), 4]}]}, "object 0 bboxVis must be"),
    ({"objects": [{"label": "rider", "instanceId": "7"}]}, "object 0 instanceId must be an integer"),
    ({"imgWidth": 2048, "objects": []}, "imgWidth/imgHeight must be positive integers"),
    ({"imgWidth": 0, "imgHeight": 10, "objects": []}, "imgWidth/imgHeight must be positive integers"),
])
def test_malformed_annotations_name_the_file_and_the_problem(data, problem):
    with pytest.raises(CityPersonsError) as error:
        parse_citypersons(data, "frames/a_gtBboxCityPersons.json")
    assert str(error.value).startswith("frames/a_gtBboxCityPersons.json: ") and problem in str(error.value)


def test_unreadable_files_are_errors_not_tracebacks(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(CityPersonsError, match="bad.json: cannot be read as JSON"):
        read_citypersons(tmp_path / "bad.json")
    with pytest.raises(CityPersonsError, match="missing.json: cannot be read as JSON"):
        read_citypersons(tmp_path / "missing.json")


def test_frame_keys_pair_images_and_annotations():
    assert frame_key("aachen_000024_000019_leftImg8bit.png") == "aachen_000024_000019"
    assert frame_key("aachen_000024_000019_gtBboxCityPersons.json") == "aachen_000024_000019"
    assert frame_key("street.01.png") == "street"
