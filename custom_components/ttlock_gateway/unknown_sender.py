"""A logbook line for a pushed event no lock of the account owns.

Events of known locks get one logbook row from their event entity (translated,
with the lock's name); the integration adds none of its own, or every event
would show twice with different casing. An event from a sender we cannot match
to a lock (a Dding uuid or MAC that is not in the account) has no entity, so it
gets one ``logbook_entry`` row, named by the sender's own nickname when it is a
real name, else "Unknown lock".
"""

from __future__ import annotations

import re
from typing import Any, Final

from homeassistant.const import ATTR_DOMAIN, ATTR_NAME, EVENT_LOGBOOK_ENTRY
from homeassistant.core import HomeAssistant, callback

from .const import DOMAIN
from .providers.models import LockEvent

_WHAT: Final[dict[str, str]] = {
    "unlocked": "unlocked",
    "locked": "locked",
    "unlock_failed": "failed to unlock",
    "wrong_code": "wrong code entered",
    "tamper": "tamper alarm",
    "battery_low": "battery low",
    "battery_ok": "battery recovered",
    "door_opened": "door opened",
    "door_closed": "door closed",
    "offline": "went offline",
    "online": "came back online",
    "gateway_offline": "gateway went offline",
    "gateway_online": "gateway came back online",
    "code_added": "code added at the lock",
    "code_deleted": "code deleted at the lock",
    "code_changed": "code changed at the lock",
    "codes_synced": "codes synchronised",
    "doorbell": "doorbell rang",
    "other": "other event",
}

# A sender that cannot encode its lock's name sends "??" (or U+FFFD): no name.
_NO_NAME = re.compile(r"^[\s?\ufffd]*$")


def sender_name(raw: dict[str, Any]) -> str:
    """The sender's nickname for the lock, when it is one."""
    nickname = raw.get("nickname")
    if isinstance(nickname, str) and not _NO_NAME.match(nickname):
        return nickname.strip()
    return "Unknown lock"


def describe(event: LockEvent) -> str:
    """Lower case after the name, as Home Assistant's logbook lines read."""
    return _WHAT.get(event.type.value, "other event")


@callback
def async_log_unknown_sender(hass: HomeAssistant, event: LockEvent) -> None:
    """One logbook row for an event no lock of the account owns."""
    hass.bus.async_fire(
        EVENT_LOGBOOK_ENTRY,
        {
            ATTR_NAME: sender_name(event.raw),
            "message": describe(event),
            ATTR_DOMAIN: DOMAIN,
        },
    )
