"""The counting hook of the API budget: every request a client sends, by endpoint.

The clouds bill (or cap) calls per developer application: TTLock about 30,000 a
month on the free tier, Tuya's trial resource pack about 26,000 (docs/budget.md).
Each client calls :meth:`CallMeter.count` once per HTTP request it sends, token
calls and retries included, and :meth:`CallMeter.limit_reached` when the cloud
says the period's quota is used up. What the counts mean, and where they are
kept, is the integration's business; nothing here imports Home Assistant.

Endpoint labels are ``"<METHOD> <path template>"``: ids in the path (device
ids, a refresh token) are replaced by ``{id}`` so that a label never holds a
secret or an identifier and the number of labels stays small.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from .models import RateLimitError

# Path segments followed by an identifier in the clouds' URL schemes (Tuya
# ``/v1.0/devices/{device_id}/…``, ``/v1.0/users/{uid}/devices``,
# ``/v1.0/token/{refresh_token}``, ``…/temp-passwords/{password_id}``).
_ID_AFTER: Final = frozenset(
    {"devices", "users", "token", "temp-passwords", "temp-password", "homes"}
)
MAX_LABEL: Final = 120


class CallMeter(Protocol):
    """Where a client reports the requests it sends."""

    def count(self, endpoint: str) -> None:
        """One request was sent to ``endpoint`` (a label from ``endpoint_label``)."""

    def limit_reached(self, error: RateLimitError) -> None:
        """The cloud refused a call because the period's quota is used up."""


class NullMeter:
    """Counts nothing (a client built without a meter)."""

    def count(self, endpoint: str) -> None:
        """Nothing to count."""

    def limit_reached(self, error: RateLimitError) -> None:
        """Nothing to note."""


NULL_METER: Final = NullMeter()


def endpoint_label(method: str, path: str) -> str:
    """``"GET /v1.0/devices/{id}/door-lock/open-logs"`` for any device id.

    The query is dropped; a segment after one of ``_ID_AFTER`` is ``{id}``; the
    label is bounded and printable whatever the path holds.
    """
    parts = path.split("?", 1)[0].split("/")
    out: list[str] = []
    previous = ""
    for part in parts:
        out.append("{id}" if previous in _ID_AFTER and part else part)
        previous = part
    label = f"{method.upper()} {'/'.join(out)}"
    return "".join(ch if ch.isprintable() else "?" for ch in label)[:MAX_LABEL]
