"""The repair issues a running entry raises: its saved pause unreadable, its base topic taken.

Both say the same kind of thing (this entry, and the error that holds it back), so they are
raised and cleared in one place, with their ids and translation keys (`strings.json`,
`issues`); the controller only says whether the error still holds. The issue of an entry
whose pipeline cannot live here at all is `worker_handoff.py`'s: it carries a worker YAML.
"""

from __future__ import annotations

from typing import Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN

ISSUE_PAUSE_STORE: Final = "pause_store_unreadable"
ISSUE_BASE_TOPIC: Final = "base_topic_in_use"


@callback
def async_sync_issue(
    hass: HomeAssistant, issue: str, entry_id: str, title: str, error: str | None
) -> None:
    """Raise `issue` for the entry while `error` holds; clear it once `error` is None."""
    issue_id = f"{issue}_{entry_id}"
    if error is None:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=issue,
        translation_placeholders={"entry": title, "error": error},
    )
