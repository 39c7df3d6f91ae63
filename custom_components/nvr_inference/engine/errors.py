"""Errors the engine raises, each one a message a person can act on.

Hosts map them: the config flow to form errors (`cannot_connect`, `invalid_auth`,
`model_not_found`, `inference_missing` for the full profile) or, for `PipelineMissingError`,
the `pipeline_missing` abort; the worker to a one-line exit; the integration to
`ConfigEntryNotReady`, or for `PipelineMissingError` a repair issue. Messages never contain
secrets: URLs are redacted before they get here and API keys are never formatted into text.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base class: something the user can fix."""


class PipelineMissingError(EngineError):
    """Neither `inference` nor `streamvision` can be imported in this Python environment."""


class SourceUnavailableError(EngineError):
    """A video source cannot be opened or read."""


class DetectorError(EngineError):
    """The detector cannot be built (unknown name, bad options)."""


class ModelNotFoundError(DetectorError):
    """Roboflow does not know the model id (or it cannot be reached to ask)."""


class InvalidApiKeyError(DetectorError):
    """Roboflow refused the API key."""


class FullProfileRequiredError(DetectorError):
    """A Roboflow model was asked for, but only the light profile (no `inference`) is here."""


class LocalModelError(DetectorError):
    """A local model folder is missing a file or holds a bad one; the message names the file."""
