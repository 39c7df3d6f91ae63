"""What the event engine (events.py) keeps of each tracked object, and what hosts are told.

A `TrackedObject` is followed from its first frame; it becomes an event (`new`) once seen in
enough frames, and carries what was last sent about it, so an `update` goes out only when
something changed. Each message sent makes an `EventRecord`: what a host shows of it (Home
Assistant's event entity, the source's last event image), told after the fence is left.

An event's type says what happened to what: `<class>_<kind>` (`person_new`, `person_update`,
`person_end`). Home Assistant's Activity list shows only the type ("detected an event
person_new"), so a type of the class alone made an arrival and a departure look the same.
Both hosts' event entities (the embedded one, the worker's discovered one) list their types
from `event_types`, so they fire the same types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..contract.messages import Detection
from .filters import SCORE_HISTORY
from .zone_rules import ZonePresence
from .zones import ANY_CLASS, ZoneConfig

EVENT_KINDS = ("new", "update", "end")
"""What can happen to a tracked object, in the order it happens (events.py)."""


def event_type(object_class: str, kind: str) -> str:
    """Return the event type of a `kind` event of an object of `object_class`: `person_new`."""
    return f"{object_class}_{kind}"


def event_types(classes: Sequence[str]) -> tuple[str, ...]:
    """Return every event type of a source whose detector reports `classes`, class by class.

    No classes (a model whose classes are not known): `object_new`, `object_update`,
    `object_end`, which its events then fire whatever their class (`label` names it).
    """
    return tuple(
        event_type(c, kind) for c in tuple(classes) or (ANY_CLASS,) for kind in EVENT_KINDS
    )


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event as hosts show it (Home Assistant's event entity, the source's last image)."""

    source_id: int
    event_type: str  # `<class>_<kind>`; the class is `object` when the classes are not known
    kind: str  # new, update or end
    attributes: dict[str, Any]
    snapshot: bytes | None  # a new best frame came with this event


@dataclass(slots=True)
class TrackedObject:
    """A tracked object while it is followed, and what was last sent about it."""

    event_id: str
    tracker_id: int
    label: str
    class_id: int
    score: float
    top_score: float
    start: datetime
    last_seen: datetime
    frames: int
    seen_as: Detection  # the last sighting (its box goes out with the event, when one does)
    centre: tuple[float, float]
    diagonal: float
    current_zones: tuple[str, ...] = ()
    entered_zones: list[str] = field(default_factory=list)
    stationary: bool = False
    still_anchor: tuple[float, float] = (0.0, 0.0)
    still_since: datetime | None = None
    announced: bool = False
    last_sent: datetime | None = None
    sent_top_score: float = 0.0
    sent_zones: tuple[str, ...] = ()
    sent_stationary: bool = False
    snapshot: bytes | None = None
    snapshot_fresh: bool = False
    before: dict[str, Any] | None = None
    scores: list[float] = field(default_factory=list)  # recent ones, for the threshold's median
    presence: ZonePresence = field(default_factory=ZonePresence)  # inertia, loitering

    def sighted(
        self, score: float, inside: Sequence[str], zones: Sequence[ZoneConfig], now: datetime
    ) -> None:
        """Keep a sighting's score (for the threshold's median) and its zones by the zone rules."""
        self.scores.append(score)
        del self.scores[:-SCORE_HISTORY]
        self.current_zones = self.presence.update(inside, zones, now)
        for zone in self.current_zones:
            if zone not in self.entered_zones:
                self.entered_zones.append(zone)
