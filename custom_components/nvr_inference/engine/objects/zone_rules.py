"""When an object counts as in a zone: Frigate's `inertia` and `loitering_time`.

The tracker says which zones a box's bottom centre is in, frame by frame (tracking.py). A box
jitters, so an object walking along a zone's edge would be in, out and in again, and each would
be an `update` and a count change. Frigate's two rules, per zone:

* `inertia` (default 3): the object must have been inside for this many frames before it
  counts as in the zone. A frame outside takes one off (so a one-frame slip out of a zone it
  has been in for a while does not take it out), and it is out of the zone for as long as its
  bottom centre is outside;
* `loitering_time` (seconds, default 0): it must also have been inside this long (since it
  came in, not counting slips shorter than its inertia): "a person has stood at the door for
  10 s", not "someone walked past it".

What counts is what events say (`current_zones`, `entered_zones`, `entered`, `left`) and what
zone counts count; the detection message's `zones` stay what the frame shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from .zones import ZoneConfig


class ZonePresence:
    """One tracked object's standing in each zone of its camera."""

    __slots__ = ("_frames", "_since")

    def __init__(self) -> None:
        """Start outside every zone."""
        self._frames: dict[str, int] = {}
        self._since: dict[str, datetime] = {}

    def update(
        self, inside: Iterable[str], zones: Sequence[ZoneConfig], now: datetime
    ) -> tuple[str, ...]:
        """Take the zones the object's box is in at `now`; return the zones it counts in."""
        here = set(inside)
        counted = []
        for zone in zones:
            name = zone.name
            frames = self._frames.get(name, 0)
            if name in here:
                frames = min(frames + 1, zone.inertia)
                since = self._since.setdefault(name, now)
                stayed = (now - since).total_seconds()
                if frames >= zone.inertia and stayed >= zone.loitering_time:
                    counted.append(name)
            else:
                frames = max(frames - 1, 0)
                if frames == 0:
                    self._since.pop(name, None)
            self._frames[name] = frames
        return tuple(counted)
