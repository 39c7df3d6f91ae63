"""Compatibility shims for running `inference` under Home Assistant's pinned packages.

Filled in from measurements of `inference` 1.8.3 under pydantic 2.12 (see the README).
"""

from __future__ import annotations


def apply_pydantic_shim() -> None:
    """Make `inference`'s usage-tracking config import under pydantic 2.12 (idempotent)."""
