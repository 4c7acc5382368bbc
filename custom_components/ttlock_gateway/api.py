"""Build the provider client an entry describes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util

from .budget import async_meter_for
from .const import (
    CONF_ACCESS_ID,
    CONF_ACCESS_SECRET,
    CONF_BASE_URL,
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_DATA_CENTER,
    CONF_DEFAULT_PHONE,
    CONF_HOME_IDS,
    CONF_PASSWORD_MD5,
    CONF_PROVIDER,
    CONF_REGION,
    CONF_USER_UID,
    PROVIDER_DDING,
    PROVIDER_GATEWAY_SERVICE,
    PROVIDER_TUYA,
)
from .providers.dding import DdingClient
from .providers.gateway_service import GatewayServiceClient
from .providers.jobs import DEFAULT_TIMEOUT
from .providers.models import LockProvider
from .providers.ttlock import TTLockClient
from .providers.tuya import TuyaClient

# How long an action waits for a gateway-service job's result before it says
# "sent, result pending" (issue 20: 30 s). Tests shorten it where no answer comes.
GATEWAY_JOB_TIMEOUT: float = DEFAULT_TIMEOUT
# Source name the service records for the account (create_user ``source``).
GATEWAY_SOURCE = "home_assistant"


def _now_timestamp() -> float:
    return dt_util.utcnow().timestamp()


def create_provider(hass: HomeAssistant, data: Mapping[str, Any]) -> LockProvider:
    """Return a client for the cloud named in ``data`` on HA's shared session.

    Every request it sends is counted in its developer application's ledger
    (``budget``), the config flow's sign-in included.
    """
    session = async_get_clientsession(hass)
    meter = async_meter_for(hass, data)
    base_url = data.get(CONF_BASE_URL) or None
    if data.get(CONF_PROVIDER) == PROVIDER_GATEWAY_SERVICE:
        return GatewayServiceClient(
            session,
            base_url=data[CONF_BASE_URL],
            email=data[CONF_USERNAME],
            password=data[CONF_PASSWORD],
            source=GATEWAY_SOURCE,
            job_timeout=GATEWAY_JOB_TIMEOUT,
            # Job ages on Home Assistant's clock (the one its timers follow).
            clock=_now_timestamp,
            meter=meter,
        )
    if data.get(CONF_PROVIDER) == PROVIDER_TUYA:
        return TuyaClient(
            session,
            access_id=data[CONF_ACCESS_ID],
            access_secret=data[CONF_ACCESS_SECRET],
            data_center=data.get(CONF_DATA_CENTER, "eu"),
            base_url=base_url,
            user_uid=data.get(CONF_USER_UID) or None,
            meter=meter,
        )
    if data.get(CONF_PROVIDER) == PROVIDER_DDING:
        return DdingClient(
            session,
            client_id=data[CONF_CLIENT_ID],
            client_secret=data[CONF_CLIENT_SECRET],
            home_ids=list(data[CONF_HOME_IDS]),
            base_url=base_url,
            default_phone=data.get(CONF_DEFAULT_PHONE) or None,
            meter=meter,
        )
    return TTLockClient(
        session,
        client_id=data[CONF_CLIENT_ID],
        client_secret=data[CONF_CLIENT_SECRET],
        username=data[CONF_USERNAME],
        password_md5=data[CONF_PASSWORD_MD5],
        region=data.get(CONF_REGION, "eu"),
        base_url=base_url,
        meter=meter,
    )
