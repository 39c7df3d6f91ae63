"""Object filters and masks as people write them: YAML mappings, and the options flow's text.

One grammar, read and written here, so what the worker's YAML, the integration's stored options
and the YAML export hold is the same thing (filters.py says what each filter does):

    masks:                                  # every class; a polygon as text or [x, y] pairs
      - "0,0 1,0 1,0.25 0,0.25"
    filters:
      person: {min_score: 0.6, threshold: 0.7, min_area: 0.01, max_ratio: 1.2,
               masks: ["0.8,0.5 1,0.5 1,1 0.8,1"]}

The options flow writes the same as lines: `person: min_score=0.6 threshold=0.7` for filters,
`0,0 1,0 1,0.25 0,0.25` (every class) or `person: 0.8,0.5 1,0.5 1,1 0.8,1` for masks. Every
mistake is a `FilterError` naming the class or mask and what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import math
from typing import Any

from ..errors import EngineError
from ..objects.filters import CameraFilters, Mask, ObjectFilter
from ..objects.zones import Point, ZoneError, check_polygon

FILTER_KEYS = ("min_score", "threshold", "min_area", "max_area", "min_ratio", "max_ratio")
"""The numbers a class's filter takes (besides `masks`)."""


class FilterError(EngineError):
    """An object filter or mask is wrong; the message names it and says how."""


def _number(value: Any, where: str) -> float:
    try:
        number = math.nan if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise FilterError(f"{where} must be a number >= 0, got {value!r}")
    return number


def _point(text: str, where: str, index: int) -> Point:
    try:
        x, y = (float(part) for part in text.split(","))
    except ValueError:
        raise FilterError(
            f"{where}: point {index} {text!r} is not x,y (two numbers from 0 to 1)"
        ) from None
    return x, y


def mask_from(value: Any, where: str) -> Mask:
    """Read one mask: `"x,y x,y x,y"` or a list of [x, y] pairs; check it is a polygon."""
    if isinstance(value, str):
        points = tuple(_point(p, where, i + 1) for i, p in enumerate(value.split()))
    elif isinstance(value, list | tuple):
        pairs = []
        for index, pair in enumerate(value, start=1):
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise FilterError(f"{where}: point {index} must be [x, y]")
            pairs.append((_number(pair[0], where), _number(pair[1], where)))
        points = tuple(pairs)
    else:
        raise FilterError(f"{where}: a mask is 'x,y x,y x,y' or a list of [x, y] points")
    try:
        check_polygon(points, where)
    except ZoneError as err:
        raise FilterError(str(err)) from None
    return Mask(points)


def _masks(value: Any, where: str) -> tuple[Mask, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise FilterError(f"{where} must be a list of polygons")
    return tuple(mask_from(item, f"{where} {i}") for i, item in enumerate(value, start=1))


def object_filter(data: Any, where: str) -> ObjectFilter:
    """Read one class's filter from a mapping of `FILTER_KEYS` and `masks`; validate it."""
    if not isinstance(data, Mapping):
        raise FilterError(f"{where} must be a mapping of {', '.join(FILTER_KEYS)}, masks")
    unknown = sorted(set(data) - {*FILTER_KEYS, "masks"})
    if unknown:
        raise FilterError(
            f"{where}: unknown filter {', '.join(unknown)}; known: "
            f"{', '.join([*FILTER_KEYS, 'masks'])}"
        )
    numbers = {k: _number(data[k], f"{where}: {k}") for k in FILTER_KEYS if data.get(k) is not None}
    for key in ("min_score", "threshold"):
        if numbers.get(key, 0.0) > 1.0:
            raise FilterError(f"{where}: {key} is a score from 0 to 1, got {numbers[key]:g}")
    rule = ObjectFilter(**numbers, masks=_masks(data.get("masks"), f"{where}: mask"))
    if rule.max_ratio is not None and rule.max_ratio < rule.min_ratio:
        raise FilterError(f"{where}: max_ratio {rule.max_ratio:g} is below min_ratio")
    low, high = rule.min_area, rule.max_area
    if high is not None and (low <= 1.0) == (high <= 1.0) and high < low:
        raise FilterError(f"{where}: max_area {high:g} is below min_area {low:g}")
    return rule


def camera_filters(masks: Any, filters: Any, where: str) -> CameraFilters:
    """Read a camera's `masks` (every class) and `filters` (by class), as YAML holds them."""
    if filters is not None and not isinstance(filters, Mapping):
        raise FilterError(f"{where}: filters must be a mapping of class to filter")
    by_class = {
        str(name): object_filter(rule, f"{where}: filter {name!r}")
        for name, rule in (filters or {}).items()
    }
    return CameraFilters(_masks(masks, f"{where}: mask"), by_class)


def _mask_points(mask: Mask) -> list[list[float]]:
    return [list(point) for point in mask.points]


def filters_as_dict(filters: CameraFilters) -> dict[str, Any]:
    """Return `masks` and `filters` as `camera_filters` reads them (only what is set)."""
    out: dict[str, Any] = {}
    if filters.masks:
        out["masks"] = [_mask_points(m) for m in filters.masks]
    if filters.by_class:
        out["filters"] = {name: _rule_dict(rule) for name, rule in sorted(filters.by_class.items())}
    return out


def _rule_dict(rule: ObjectFilter) -> dict[str, Any]:
    defaults = ObjectFilter()
    out: dict[str, Any] = {
        key: getattr(rule, key)
        for key in FILTER_KEYS
        if getattr(rule, key) != getattr(defaults, key)
    }
    if rule.masks:
        out["masks"] = [_mask_points(m) for m in rule.masks]
    return out


# -- the options flow's text ---------------------------------------------------------------------


def _lines(text: str) -> Iterable[str]:
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            yield line


def parse_filter_lines(text: str) -> dict[str, dict[str, float]]:
    """Read `class: key=value key=value` lines into `filters` (masks come from the mask lines)."""
    out: dict[str, dict[str, float]] = {}
    for line in _lines(text):
        name, colon, rest = (part.strip() for part in line.partition(":"))
        if not colon or not name:
            raise FilterError(f"{line!r}: write a filter as `class: min_score=0.6 min_area=0.01`")
        values: dict[str, Any] = {}
        for item in rest.split():
            key, equals, value = item.partition("=")
            if not equals:
                raise FilterError(f"filter {name!r}: {item!r} is not key=value")
            values[key] = value
        object_filter(values, f"filter {name!r}")  # says what is wrong, before it is kept
        out[name] = {k: float(v) for k, v in values.items()}
    return out


def parse_mask_lines(text: str) -> tuple[list[str], dict[str, list[str]]]:
    """Read mask lines: `x,y x,y x,y` (every class) or `class: x,y x,y x,y` (one class)."""
    every: list[str] = []
    by_class: dict[str, list[str]] = {}
    for line in _lines(text):
        name, colon, rest = line.rpartition(":")
        if colon and "," not in name:
            mask_from(rest, f"mask for {name.strip()!r}")
            by_class.setdefault(name.strip(), []).append(rest.strip())
        else:
            mask_from(line, f"mask {len(every) + 1}")
            every.append(line)
    return every, by_class


def format_filter_lines(filters: CameraFilters) -> str:
    """Write the filters back as the lines `parse_filter_lines` reads."""
    out = []
    for name, rule in sorted(filters.by_class.items()):
        values = {k: v for k, v in _rule_dict(rule).items() if k != "masks"}
        if values:
            out.append(f"{name}: " + " ".join(f"{k}={v:g}" for k, v in values.items()))
    return "\n".join(out)


def format_mask_lines(filters: CameraFilters) -> str:
    """Write the masks back as the lines `parse_mask_lines` reads."""

    def text(mask: Mask) -> str:
        return " ".join(f"{x:g},{y:g}" for x, y in mask.points)

    out = [text(m) for m in filters.masks]
    for name, rule in sorted(filters.by_class.items()):
        out += [f"{name}: {text(m)}" for m in rule.masks]
    return "\n".join(out)


def combine_lines(filter_text: str, mask_text: str, where: str) -> CameraFilters:
    """Build a camera's filters from the options flow's two fields (filters, then masks)."""
    rules: dict[str, dict[str, Any]] = {
        k: dict(v) for k, v in parse_filter_lines(filter_text).items()
    }
    every, by_class = parse_mask_lines(mask_text)
    for name, masks in by_class.items():
        rules.setdefault(name, {})["masks"] = masks
    return camera_filters(every or None, rules or None, where)
