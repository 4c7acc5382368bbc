"""Constants for the TTLock Gateway integration."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "ttlock_gateway"
LOGGER = logging.getLogger(__package__)

CONF_PROVIDER: Final = "provider"
PROVIDER_TTLOCK: Final = "ttlock"
PROVIDER_TUYA: Final = "tuya"
PROVIDER_GATEWAY_SERVICE: Final = "gateway_service"
PROVIDER_DDING: Final = "dding"

# TTLock
CONF_CLIENT_ID: Final = "client_id"
CONF_CLIENT_SECRET: Final = "client_secret"
CONF_PASSWORD_MD5: Final = "password_md5"
CONF_REGION: Final = "region"
CONF_BASE_URL: Final = "base_url"
TTLOCK_REGIONS: Final = ("eu", "cn")

# Tuya
CONF_ACCESS_ID: Final = "access_id"
CONF_ACCESS_SECRET: Final = "access_secret"
CONF_DATA_CENTER: Final = "data_center"
CONF_USER_UID: Final = "user_uid"
# Only for tests and the simulator (never asked in the config flow): an explicit
# message-service endpoint (ws:// or wss://) for an entry with an API address.
CONF_PUSH_URL: Final = "push_url"
TUYA_DATA_CENTERS: Final = ("eu", "eu_west", "us", "us_east", "cn", "in", "sg")

# TTLock gateway service (seed 000): its URL is CONF_BASE_URL, the TTLock
# account's e-mail CONF_USERNAME and its password CONF_PASSWORD (the service's
# get_token takes the plain password every time it issues a token).
# Dding (client id / secret are CONF_CLIENT_ID / CONF_CLIENT_SECRET)
CONF_HOME_IDS: Final = "home_ids"
# Optional: the number new codes are texted to when a call gives none.
CONF_DEFAULT_PHONE: Final = "default_phone"

CONF_WEBHOOK_ID: Final = "webhook_id"
# Options-flow action (never stored): replace the webhook id.
CONF_NEW_WEBHOOK_URL: Final = "new_webhook_url"

# Polling schedules (the gateway service's documented schedulers, seed 000). Not
# options: Home Assistant's rule is that integrations choose the polling pace;
# pushed events make these only a safety net (README: API budget and polling).
LOCK_LIST_INTERVAL: Final = timedelta(hours=1)
ACTIVITY_INTERVAL: Final = timedelta(hours=6)
# While push is healthy (TTLock/Dding: an event callback within the last 24 h;
# Tuya: the message-service websocket connected) events arrive as they happen:
# the list and the per-lock activity poll are only a safety net (docs/budget.md).
PUSH_HEALTHY_WINDOW: Final = timedelta(hours=24)
LOCK_LIST_INTERVAL_PUSH: Final = timedelta(hours=2)
ACTIVITY_INTERVAL_PUSH: Final = timedelta(hours=24)
# A push connection down this long raises a repair (the poll carries on).
PUSH_DOWN_REPAIR_AFTER: Final = timedelta(hours=1)

# Options.
CONF_CLEANUP_INTERVAL: Final = "cleanup_interval"  # minutes
CONF_RETRY_INTERVAL: Final = "retry_interval"  # minutes
CONF_RETRY_ATTEMPTS: Final = "retry_attempts"
CONF_CLEANUP_ALL: Final = "cleanup_all_expired"
CONF_EXPOSE_CODES: Final = "expose_codes"
# What a custom upload falls back to when the gateway is offline: "offline"
# (an offline period code) or "none". New entries get "offline"; entries
# made before it existed have no value, which means "none".
CONF_FALLBACK: Final = "fallback"
FALLBACK_OFFLINE: Final = "offline"
FALLBACK_NONE: Final = "none"
# Calls a month the developer application may spend (0: no budget); the
# defaults are the free tiers (docs/budget.md).
CONF_API_BUDGET: Final = "api_budget"
DEFAULT_API_BUDGETS: Final[dict[str, int]] = {
    PROVIDER_TTLOCK: 30_000,
    PROVIDER_TUYA: 26_000,
    PROVIDER_DDING: 30_000,
    "gateway_service": 0,
}

DEFAULT_CLEANUP_INTERVAL: Final = 24 * 60
DEFAULT_RETRY_INTERVAL: Final = 20
DEFAULT_RETRY_ATTEMPTS: Final = 5

# After a failed refresh, try again sooner than the hourly schedule so an
# outage heals quickly; failed calls are cheap on the quota.
RETRY_AFTER_FAILURE: Final = timedelta(minutes=10)
# Codes that ended more than this long ago are removed by the daily clean-up.
CLEANUP_GRACE: Final = timedelta(hours=24)

EVENT_LOCK: Final = f"{DOMAIN}_event"
EVENT_JOB: Final = f"{DOMAIN}_job"
EVENT_CODE_ADDED: Final = f"{DOMAIN}_code_added"
# A code the cloud accepted (``code_added`` with ``delivered: false``) is on the lock.
EVENT_CODE_DELIVERED: Final = f"{DOMAIN}_code_delivered"
EVENT_CODE_FAILED: Final = f"{DOMAIN}_code_failed"
EVENT_CODE_UPDATED: Final = f"{DOMAIN}_code_updated"
EVENT_CODE_DELETED: Final = f"{DOMAIN}_code_deleted"
EVENT_CODE_USED: Final = f"{DOMAIN}_code_used"
# An offline code not entered 20 h after its start: the lock suspends it at 24 h.
EVENT_CODE_NOT_USED: Final = f"{DOMAIN}_code_not_used"
