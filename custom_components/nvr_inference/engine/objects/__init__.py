"""Objects: tracking, zones and lines, events, snapshots."""
