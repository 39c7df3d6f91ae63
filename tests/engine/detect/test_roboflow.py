"""Roboflow models by model_id. The conversion is pure; the rest needs the full profile.

Tests marked `full` run in `.venv-full` (scripts/test does it): the real `inference` 1.8.3,
offline, as far as the model lookup, which fails at once without network.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from custom_components.nvr_inference.engine.detect.roboflow import (
    detections_from_prediction,
    map_roboflow_error,
)
from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.errors import (
    InvalidApiKeyError,
    ModelNotFoundError,
)
from custom_components.nvr_inference.engine.fence.gate import PauseGate
from custom_components.nvr_inference.engine.fence.publisher import FencedPublisher
from custom_components.nvr_inference.engine.pipeline.engine import Engine
from custom_components.nvr_inference.engine.pipeline.runner import RunnerOptions
from custom_components.nvr_inference.engine.video.sources import SourceConfig

from ...conftest import CallbackTransport


def test_roboflow_predictions_become_detections() -> None:
    prediction = {
        "image": {"width": 640, "height": 480},
        "predictions": [
            {
                "x": 100.5,
                "y": 50,
                "width": 20,
                "height": 40,
                "confidence": 0.87,
                "class": "person",
                "class_id": 0,
                "detection_id": "abc",
            },
            {
                "x": 1,
                "y": 2,
                "width": 3,
                "height": 4,
                "confidence": 0.5,
                "class": "car",
                "class_id": 2,
                "tracker_id": 9,
            },
        ],
    }
    found = detections_from_prediction(prediction)
    assert [d.as_dict() for d in found] == [
        {
            "class": "person",
            "class_id": 0,
            "confidence": 0.87,
            "x": 100.5,
            "y": 50.0,
            "width": 20.0,
            "height": 40.0,
        },
        {
            "class": "car",
            "class_id": 2,
            "confidence": 0.5,
            "x": 1.0,
            "y": 2.0,
            "width": 3.0,
            "height": 4.0,
            "tracker_id": 9,
        },
    ]
    assert detections_from_prediction(None) == []


def test_roboflow_errors_are_mapped_by_name() -> None:
    class RoboflowAPINotAuthorizedError(Exception):
        pass

    class RoboflowAPIConnectionError(Exception):
        pass

    assert isinstance(
        map_roboflow_error(RoboflowAPINotAuthorizedError(), "m/1"), InvalidApiKeyError
    )
    offline = map_roboflow_error(RoboflowAPIConnectionError(), "m/1")
    assert isinstance(offline, ModelNotFoundError)
    assert "cannot reach Roboflow" in str(offline)


@pytest.mark.full
def test_full_profile_pipeline_is_roboflows_subclass() -> None:
    from custom_components.nvr_inference.engine.pipeline.loader import (
        full_profile_available,
        inference_pipeline_class,
    )

    assert full_profile_available()
    cls = inference_pipeline_class()  # first: it imports inference before streamvision
    from streamvision.stream.pipeline import InferencePipeline as Base

    assert issubclass(cls, Base) and cls is not Base
    assert callable(cls.init)


@pytest.mark.full
@pytest.mark.usefixtures("no_thread_left_behind")
def test_model_lookup_offline_is_a_clear_error(sample_video: Path) -> None:
    gate = PauseGate([0])
    engine = Engine(
        [SourceConfig(0, str(sample_video))],
        parse_detector("roboflow:yolov8n-640", confidence=0.4),
        FencedPublisher(gate, CallbackTransport()),
        gate=gate,
        options=RunnerOptions(api_key="rf_not_a_real_key"),
    )
    with pytest.raises(ModelNotFoundError) as err:
        engine.start()
    assert "cannot reach Roboflow to load model 'yolov8n-640'" in str(err.value)
    assert "rf_not_a_real_key" not in str(err.value)
    assert type(err.value.__cause__).__name__ == "RoboflowAPIConnectionError"


@pytest.mark.full
def test_config_probe_looks_the_model_up() -> None:
    from custom_components.nvr_inference.engine.video.probe import check_roboflow_model

    spec = parse_detector("roboflow:my-project/3")
    with pytest.raises(InvalidApiKeyError):
        check_roboflow_model(spec, None)
    with pytest.raises(ModelNotFoundError, match="my-project/3"):
        check_roboflow_model(spec, "rf_not_a_real_key")
