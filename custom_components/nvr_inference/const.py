"""Constants of the nvr_inference integration."""

from __future__ import annotations

import logging
from typing import Final

from .engine.config.camera import DEFAULT_MAX_FPS as ENGINE_MAX_FPS

DOMAIN: Final = "nvr_inference"
LOGGER = logging.getLogger(__package__)

# Config entry data (set by the user and reconfigure steps).
CONF_SOURCES: Final = "sources"  # list of {"source_id", "reference", "name", "loop"}
CONF_DETECTOR: Final = "detector"  # motion, face, person, objects, roboflow or local
CONF_MODEL_ID: Final = "model_id"  # Roboflow model id, or the local model's absolute folder
CONF_BASE_TOPIC: Final = "base_topic"
# CONF_API_KEY and CONF_NAME come from homeassistant.const.

# Options (options flow).
CONF_CONFIDENCE: Final = "confidence"
CONF_MAX_FPS: Final = "max_fps"
CONF_CLASSES: Final = "classes"  # list of class names to keep; empty keeps all
CONF_DISCOVERY: Final = "discovery"  # publish MQTT discovery for detection entities
CONF_TRACKING: Final = "tracking"  # TrackingOptions fields (engine/objects/tracking.py)
CONF_ZONES: Final = "zones"  # {"<source_id>": {"zones": [...], "lines": [...]}}
CONF_MOTION_GATING: Final = "motion_gating"  # face/person only where the picture changed
CONF_CAMERAS: Final = "cameras"  # {"<source_id>": CameraSettings.as_dict()}: each one's own

# Keys inside one source dict.
SOURCE_ID: Final = "source_id"
SOURCE_REFERENCE: Final = "reference"
SOURCE_NAME: Final = "name"
SOURCE_LOOP: Final = "loop"

DETECTOR_MOTION: Final = "motion"
DETECTOR_FACE: Final = "face"
DETECTOR_PERSON: Final = "person"
DETECTOR_OBJECTS: Final = "objects"  # COCO on LiteRT (its model fetched once, at set-up)
DETECTOR_ROBOFLOW: Final = "roboflow"
DETECTOR_LOCAL: Final = "local"  # your own model package in a folder (full profile, no key)
DETECTORS: Final = (
    DETECTOR_MOTION,
    DETECTOR_FACE,
    DETECTOR_PERSON,
    DETECTOR_OBJECTS,
    DETECTOR_ROBOFLOW,
    DETECTOR_LOCAL,
)

DEFAULT_BASE_TOPIC: Final = "nvr"
DEFAULT_CONFIDENCE: Final = 0.5
DEFAULT_MAX_FPS: Final = ENGINE_MAX_FPS  # one default for both hosts (engine/config/camera.py)
DEFAULT_DISCOVERY: Final = False
"""MQTT discovery off unless asked: in the Home Assistant that runs the entry, it would only
duplicate the native entities. Entries made before kept the `True` the flow wrote for them."""

PROBE_TIMEOUT: Final = 15.0
"""Seconds the config flow waits for a source to give its first frame."""
