"""The shipped blueprints' entity pickers, read as Home Assistant's frontend applies them.

A blueprint's `entity` selector may carry a `filter` (one mapping, or a list of them): the
entity picker offers an entity when at least one filter matches it, and a filter matches when
every key it has does (`integration`: the entity's platform in the entity registry, `domain`:
one domain or a list). The backend does not apply filters when an automation is saved, so a
filter that leaves the worker's switches out shows only in the UI: these helpers let tests
check it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

BLUEPRINTS = Path(__file__).resolve().parents[1] / "blueprints" / "automation" / "nvr_inference"
FILTER_KEYS = {"integration", "domain"}
"""The filter keys the shipped blueprints use (anything else fails `selector_offers`)."""


def blueprint_paths() -> list[Path]:
    """Every shipped automation blueprint."""
    return sorted(BLUEPRINTS.glob("*.yaml"))


def load_blueprint(path: Path) -> dict[str, Any]:
    """A blueprint file as plain data (`!input x` read as the string x)."""

    class Loader(yaml.SafeLoader):  # type: ignore[misc]
        pass

    Loader.add_constructor("!input", lambda loader, node: loader.construct_scalar(node))
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)
    assert isinstance(data, dict), path
    return data


def _filters(selector: dict[str, Any]) -> list[dict[str, Any]]:
    found = (selector.get("entity") or {}).get("filter") or [{}]
    return [found] if isinstance(found, dict) else list(found)


def switch_pickers(blueprint: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The blueprint's inputs whose entity selector offers switches: input name -> selector."""
    found = {}
    for name, spec in (blueprint["blueprint"].get("input") or {}).items():
        selector = (spec or {}).get("selector") or {}
        if "entity" not in selector:
            continue
        domains = [f.get("domain") for f in _filters(selector)]
        if any(d == "switch" or (isinstance(d, list) and "switch" in d) for d in domains):
            found[name] = selector
    return found


def selector_offers(selector: dict[str, Any], entity_id: str, platform: str) -> bool:
    """Whether the entity picker of `selector` offers `entity_id` of integration `platform`."""
    domain = entity_id.split(".", 1)[0]
    for item in _filters(selector):
        unknown = set(item) - FILTER_KEYS
        assert not unknown, f"filter keys these helpers do not read: {unknown}"
        domains = item.get("domain")
        if isinstance(domains, str):
            domains = [domains]
        if "integration" in item and item["integration"] != platform:
            continue
        if domains is not None and domain not in domains:
            continue
        return True
    return False
