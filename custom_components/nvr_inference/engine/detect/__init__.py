"""Detectors: the registry, one module per detector, motion gating."""
