"""Zones and lines: where in a camera's picture an object is, and what crossed where.

A zone is a named polygon, a line a named segment, both in *normalised* coordinates (0-1 of the
frame's width and height) so they survive a change of resolution. An object is in a zone by the
bottom centre of its box (where it stands), through supervision's `PolygonZone`; a line counts
tracked objects crossing it in and out through supervision's `LineZone`. Either can be limited
to some classes.

Written the same way everywhere a person enters them (the options flow, the worker's YAML and
flags), one per line:

    driveway: 0.10,0.60 0.55,0.60 0.55,1 0.10,1 | person, car
    line gate: 0.2,0.5 0.8,0.5 | person

Every mistake is a `ZoneError` naming the zone and what is wrong with it: fewer than three
points, a point outside 0-1, a polygon whose edges cross, a class the detector never reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
import re
from typing import Any

from ..errors import EngineError

Point = tuple[float, float]

_NAME = re.compile(r"^[\w][\w .'-]{0,39}$", re.UNICODE)
DEFAULT_INERTIA = 3
"""Frames an object must be inside a zone before it counts there (Frigate's default)."""
ZONE_RULES = ("inertia", "loitering_time")
ANY_CLASS = "object"
"""The class a zone counts under when neither the zone nor the detector names any."""


class ZoneError(EngineError):
    """A zone or line definition is wrong; the message names it and says how."""


@dataclass(frozen=True, slots=True)
class ZoneConfig:
    """A named polygon, normalised, optionally for some classes only."""

    name: str
    points: tuple[Point, ...]
    classes: frozenset[str] = field(default_factory=frozenset)
    inertia: int = DEFAULT_INERTIA  # frames inside before an object counts (zone_rules.py)
    loitering_time: float = 0.0  # seconds inside before an object counts

    def rules(self) -> dict[str, Any]:
        """Return the zone rules that differ from the defaults (what configuration writes)."""
        out: dict[str, Any] = {}
        if self.inertia != DEFAULT_INERTIA:
            out["inertia"] = self.inertia
        if self.loitering_time:
            out["loitering_time"] = self.loitering_time
        return out

    def counted_classes(self, reported: Sequence[str]) -> tuple[str, ...]:
        """Return the classes this zone counts: its own, the detector's, or any object."""
        if self.classes:
            return tuple(sorted(self.classes))
        return tuple(reported) or (ANY_CLASS,)

    def as_dict(self) -> dict[str, Any]:
        """Return what configuration stores."""
        return {
            "name": self.name,
            "points": [list(p) for p in self.points],
            "classes": sorted(self.classes),
            **self.rules(),
        }


@dataclass(frozen=True, slots=True)
class LineConfig:
    """A named segment, normalised; objects crossing it are counted in and out."""

    name: str
    start: Point
    end: Point
    classes: frozenset[str] = field(default_factory=frozenset)

    def as_dict(self) -> dict[str, Any]:
        """Return what configuration stores."""
        return {
            "name": self.name,
            "start": list(self.start),
            "end": list(self.end),
            "classes": sorted(self.classes),
        }


@dataclass(frozen=True, slots=True)
class SourceZones:
    """Everything drawn on one source."""

    zones: tuple[ZoneConfig, ...] = ()
    lines: tuple[LineConfig, ...] = ()

    def __bool__(self) -> bool:
        """Return True when anything is drawn."""
        return bool(self.zones or self.lines)

    def as_dict(self) -> dict[str, Any]:
        """Return what configuration stores."""
        return {
            "zones": [z.as_dict() for z in self.zones],
            "lines": [line.as_dict() for line in self.lines],
        }


# -- parsing ------------------------------------------------------------------------------------


def _point(text: str, where: str, index: int) -> Point:
    parts = text.split(",")
    try:
        x, y = (float(part) for part in parts)
    except ValueError:
        raise ZoneError(
            f"{where}: point {index} {text!r} is not x,y (two numbers from 0 to 1, e.g. 0.25,0.8)"
        ) from None
    return x, y


def _classes(text: str) -> frozenset[str]:
    return frozenset(c.strip() for c in text.split(",") if c.strip())


def _rules(segments: Sequence[str], where: str) -> dict[str, Any]:
    """Read `inertia=5 loitering_time=10` segments into a zone's rules."""
    rules: dict[str, Any] = {}
    for segment in segments:
        for item in segment.split():
            key, _eq, value = item.partition("=")
            if key not in ZONE_RULES:
                raise ZoneError(
                    f"{where}: unknown rule {key!r}; a zone takes inertia=, loitering_time="
                )
            rules[key] = value
    return _checked_rules(rules, where)


def _checked_rules(rules: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rules.get("inertia") is not None:
        value = rules["inertia"]
        try:
            inertia = int(value) if not isinstance(value, bool | float) else -1
        except ValueError:
            inertia = -1
        if not 1 <= inertia <= 1000:
            raise ZoneError(f"{where}: inertia is 1 to 1000 frames, got {value!r}")
        out["inertia"] = inertia
    if rules.get("loitering_time") is not None:
        value = rules["loitering_time"]
        try:
            seconds = float(value) if not isinstance(value, bool) else -1.0
        except ValueError:
            seconds = -1.0
        if not 0.0 <= seconds <= 86400.0:
            raise ZoneError(f"{where}: loitering_time is 0 to 86400 seconds, got {value!r}")
        out["loitering_time"] = seconds
    return out


def parse_zone_line(line: str) -> ZoneConfig | LineConfig:
    """Parse one `name: x,y x,y x,y | classes | rules` (or `line name: x,y x,y | classes`).

    Rules are `inertia=N loitering_time=S` (zones only), in a segment of their own.
    """
    head, colon, rest = line.partition(":")
    if not colon:
        raise ZoneError(
            f"{line.strip()!r}: write a zone as `name: x,y x,y x,y [| class, ...]`"
            " or a line as `line name: x,y x,y [| class, ...]`"
        )
    is_line = head.strip().lower().startswith("line ")
    name = head.strip()[5:].strip() if is_line else head.strip()
    where = f"{'line' if is_line else 'zone'} {name!r}"
    body, *segments = rest.split("|")
    classes = ",".join(s for s in segments if "=" not in s)
    rules = _rules([s for s in segments if "=" in s], where)
    points = tuple(_point(p, where, i + 1) for i, p in enumerate(body.split()))
    if is_line:
        if len(points) != 2:
            raise ZoneError(f"{where}: a line has exactly 2 points, got {len(points)}")
        if rules:
            raise ZoneError(f"{where}: inertia and loitering_time are for zones, not lines")
        return LineConfig(name, points[0], points[1], _classes(classes))
    return ZoneConfig(name, points, _classes(classes), **rules)


def parse_zones(text: str) -> SourceZones:
    """Parse one zone or line per line; blank lines and `#` comments are skipped."""
    zones: list[ZoneConfig] = []
    lines: list[LineConfig] = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parsed = parse_zone_line(stripped)
        if isinstance(parsed, LineConfig):
            lines.append(parsed)
        else:
            zones.append(parsed)
    return SourceZones(tuple(zones), tuple(lines))


def format_zones(zones: SourceZones) -> str:
    """Write zones and lines back as the lines `parse_zones` reads."""
    out = []
    for zone in zones.zones:
        points = " ".join(f"{x:g},{y:g}" for x, y in zone.points)
        suffix = f" | {', '.join(sorted(zone.classes))}" if zone.classes else ""
        rules = zone.rules()
        if rules:
            suffix += " | " + " ".join(f"{k}={v:g}" for k, v in rules.items())
        out.append(f"{zone.name}: {points}{suffix}")
    for line in zones.lines:
        points = f"{line.start[0]:g},{line.start[1]:g} {line.end[0]:g},{line.end[1]:g}"
        suffix = f" | {', '.join(sorted(line.classes))}" if line.classes else ""
        out.append(f"line {line.name}: {points}{suffix}")
    return "\n".join(out)


def zones_from_dict(data: Mapping[str, Any] | None) -> SourceZones:
    """Read zones and lines from stored configuration or YAML; raise `ZoneError` when wrong."""
    if not data:
        return SourceZones()
    if not isinstance(data, Mapping):
        raise ZoneError("zones must be a mapping with `zones` and `lines` lists")
    zones = []
    for item in data.get("zones") or ():
        if not isinstance(item, Mapping) or "name" not in item or "points" not in item:
            raise ZoneError(
                f"a zone is a mapping with name, points and optionally classes: {item!r}"
            )
        where = f"zone {item['name']!r}"
        points = item["points"]
        if not isinstance(points, list | tuple):
            raise ZoneError(f"{where}: points must be a list of [x, y] pairs")
        unknown = sorted(set(item) - {"name", "points", "classes", *ZONE_RULES})
        if unknown:
            raise ZoneError(f"{where}: unknown key(s) {', '.join(unknown)}")
        zones.append(
            ZoneConfig(
                str(item["name"]),
                tuple(_pair(p, where, i + 1) for i, p in enumerate(points)),
                frozenset(str(c) for c in item.get("classes") or ()),
                **_checked_rules(item, where),
            )
        )
    lines = []
    for item in data.get("lines") or ():
        if not isinstance(item, Mapping) or not {"name", "start", "end"} <= set(item):
            raise ZoneError(
                f"a line is a mapping with name, start, end and optionally classes: {item!r}"
            )
        where = f"line {item['name']!r}"
        lines.append(
            LineConfig(
                str(item["name"]),
                _pair(item["start"], where, 1),
                _pair(item["end"], where, 2),
                frozenset(str(c) for c in item.get("classes") or ()),
            )
        )
    return SourceZones(tuple(zones), tuple(lines))


def _pair(value: Any, where: str, index: int) -> Point:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise ZoneError(f"{where}: point {index} must be [x, y] with numbers from 0 to 1")
    return float(value[0]), float(value[1])


# -- validation ---------------------------------------------------------------------------------


def validate_zones(zones: SourceZones, known_classes: Iterable[str] = ()) -> None:
    """Raise `ZoneError` for the first thing wrong; `known_classes` empty: any class goes."""
    known = frozenset(known_classes)
    names: set[str] = set()
    for kind, name, points, classes in [
        *(("zone", z.name, z.points, z.classes) for z in zones.zones),
        *(("line", line.name, (line.start, line.end), line.classes) for line in zones.lines),
    ]:
        where = f"{kind} {name!r}"
        if not _NAME.match(name):
            raise ZoneError(
                f"{where}: a name has 1-40 letters, digits, spaces, dots, dashes or quotes"
            )
        if name.lower() in names:
            raise ZoneError(f"{where}: the name is used twice on this camera")
        names.add(name.lower())
        if kind == "zone":
            check_polygon(points, where)
        else:
            _check_inside(points, where)
            if points[0] == points[1]:
                raise ZoneError(f"{where}: its two points are the same")
        unknown = sorted(classes - known) if known else []
        if unknown:
            raise ZoneError(
                f"{where}: unknown class {', '.join(map(repr, unknown))}; the detector "
                f"reports {', '.join(sorted(known))}"
            )


def check_polygon(points: Sequence[Point], where: str) -> None:
    """Raise `ZoneError` unless `points` make a polygon in the picture (zones, object masks)."""
    if len(points) < 3:
        raise ZoneError(f"{where}: a polygon needs at least 3 points, got {len(points)}")
    _check_inside(points, where)
    crossing = _self_intersection(points)
    if crossing is not None:
        a, b = crossing
        raise ZoneError(
            f"{where}: its edges {a}-{a % len(points) + 1} and {b}-{b % len(points) + 1}"
            " cross; list the points in order around it"
        )


def _check_inside(points: Sequence[Point], where: str) -> None:
    for index, (x, y) in enumerate(points, start=1):
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ZoneError(
                f"{where}: point {index} ({x:g}, {y:g}) is outside the picture; "
                "coordinates run from 0 to 1 (0,0 top left, 1,1 bottom right)"
            )


def _orientation(p: Point, q: Point, r: Point) -> float:
    return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])


def _segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Proper or touching intersection of segments ab and cd."""
    o1, o2 = _orientation(a, b, c), _orientation(a, b, d)
    o3, o4 = _orientation(c, d, a), _orientation(c, d, b)
    if o1 * o2 < 0 and o3 * o4 < 0:
        return True

    def on(p: Point, q: Point, r: Point) -> bool:
        return min(p[0], q[0]) <= r[0] <= max(p[0], q[0]) and min(p[1], q[1]) <= r[1] <= max(
            p[1], q[1]
        )

    return (
        (o1 == 0 and on(a, b, c))
        or (o2 == 0 and on(a, b, d))
        or (o3 == 0 and on(c, d, a))
        or (o4 == 0 and on(c, d, b))
    )


def _self_intersection(points: Sequence[Point]) -> tuple[int, int] | None:
    """Return the 1-based starting vertices of two crossing edges, or None."""
    n = len(points)
    edges = [(points[i], points[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue  # neighbours share a vertex
            if _segments_cross(*edges[i], *edges[j]):
                return i + 1, j + 1
    return None
