"""Dding homes seen in callbacks but not configured: a repair offers to add them.

The SaaS has no list of homes (seed 003, 5.1): the entry manages the home ids
the user entered. A section-9 callback names its ``home_id``; one that is not
configured is a home of the same partner account that Home Assistant does not
show yet. Whoever knows the webhook URL can post, so the repair only offers:
the fix flow asks the SaaS before the home is added, and at most
``MAX_OFFERS`` such repairs exist per entry.
"""

from __future__ import annotations

import hashlib
from typing import Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import CONF_HOME_IDS, DOMAIN
from .coordinator import TTLockGatewayConfigEntry

ISSUE_UNKNOWN_HOME: Final = "dding_unknown_home"
MAX_OFFERS: Final = 5
_MAX_HOME_ID: Final = 128


def issue_id(entry_id: str, home_id: str) -> str:
    """One repair per entry and home (a digest: ids are the partner's own text)."""
    digest = hashlib.sha256(home_id.encode()).hexdigest()[:12]
    return f"{ISSUE_UNKNOWN_HOME}_{entry_id}_{digest}"


@callback
def async_note_home(
    hass: HomeAssistant, entry: TTLockGatewayConfigEntry, home_id: object
) -> None:
    """A callback named ``home_id``: offer it when the entry does not manage it."""
    if not isinstance(home_id, str) or not home_id or len(home_id) > _MAX_HOME_ID:
        return
    if home_id in entry.data.get(CONF_HOME_IDS, ()):
        return
    registry = ir.async_get(hass)
    wanted = issue_id(entry.entry_id, home_id)
    if registry.async_get_issue(DOMAIN, wanted) is not None:
        return
    prefix = f"{ISSUE_UNKNOWN_HOME}_{entry.entry_id}_"
    offered = sum(
        1
        for (domain, other) in registry.issues
        if domain == DOMAIN and other.startswith(prefix)
    )
    if offered >= MAX_OFFERS:
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        wanted,
        is_fixable=True,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_UNKNOWN_HOME,
        translation_placeholders={"account": entry.title, "home_id": home_id},
        data={"entry_id": entry.entry_id, "home_id": home_id},
    )


@callback
def async_clear_configured(
    hass: HomeAssistant, entry: TTLockGatewayConfigEntry
) -> None:
    """Drop the offers of homes the entry now manages (added by reconfigure)."""
    for home_id in entry.data.get(CONF_HOME_IDS, ()):
        ir.async_delete_issue(hass, DOMAIN, issue_id(entry.entry_id, home_id))
