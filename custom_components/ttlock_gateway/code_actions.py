"""Code actions some clouds offer: freeze / unfreeze a code, a dynamic code.

Which locks take them is said by ``Capabilities`` (``freeze_codes``,
``dynamic_codes``); today that is Dding (seed 003, 6.5, 6.9, 6.10). A freeze is
accepted by the cloud and carried out by the gateway later: the answer says
"freezing", and ``list_codes`` shows ``revoked`` once the lock confirmed.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import probatio as vol

from .codes.view import iso_local
from .const import DOMAIN
from .entity import call_cloud
from .services import ATTR_CODE_ID, Target, _listing, _resolve_targets

SERVICE_FREEZE_CODE = "freeze_code"
SERVICE_UNFREEZE_CODE = "unfreeze_code"
SERVICE_GET_DYNAMIC_CODE = "get_dynamic_code"

FREEZE_SCHEMA = cv.make_entity_service_schema({vol.Required(ATTR_CODE_ID): cv.string})
DYNAMIC_SCHEMA = cv.make_entity_service_schema({})


def _refuse(key: str, **placeholders: Any) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={k: str(v) for k, v in placeholders.items()},
    )


async def _cloud_id(target: Target, code_id: str) -> tuple[str, str]:
    """(our id or the cloud's, the cloud's id) of a code on the lock."""
    lock = target.lock
    record = target.ledger.find(lock.lock_id, code_id)
    if record is not None and not record.tombstone and record.present:
        if record.cloud_id is None:
            # Not on the lock yet: nothing to freeze.
            raise _refuse("code_not_on_lock", code_id=code_id, name=lock.name)
        return record.id, record.cloud_id
    if record is not None:
        raise _refuse("code_deleted", code_id=code_id, name=lock.name)
    codes = await call_cloud(_listing(target, fresh=None), lock.name)
    listed = next((c for c in codes if c.code_id == code_id), None)
    if listed is None:
        raise _refuse("code_id_not_found", code_id=code_id, name=lock.name)
    if listed.protected:
        raise _refuse("code_protected", code_id=code_id, name=lock.name)
    return code_id, code_id


async def _freeze(call: ServiceCall, *, frozen: bool) -> ServiceResponse:
    targets = await _resolve_targets(call)
    code_id: str = call.data[ATTR_CODE_ID].strip()
    for target in targets:
        if not target.lock.capabilities.freeze_codes:
            raise _refuse("freeze_not_supported", name=target.lock.name)
    # Every id is checked before the first lock is changed.
    plans = [(target, await _cloud_id(target, code_id)) for target in targets]
    results: dict[str, Any] = {}
    for target, (ours, cloud_id) in plans:
        provider = target.coordinator.provider
        action = provider.async_freeze_code if frozen else provider.async_unfreeze_code
        await call_cloud(action(target.lock.lock_id, cloud_id), target.lock.name)
        # The listing says when the lock carried it out.
        target.ledger.listings.pop(target.lock.lock_id, None)
        results[target.entity_id] = {
            "code_id": ours,
            "cloud_id": cloud_id,
            "status": "freezing" if frozen else "unfreezing",
        }
    return results


async def _async_freeze(call: ServiceCall) -> ServiceResponse:
    return await _freeze(call, frozen=True)


async def _async_unfreeze(call: ServiceCall) -> ServiceResponse:
    return await _freeze(call, frozen=False)


async def _async_dynamic(call: ServiceCall) -> ServiceResponse:
    """The digits go only to the caller (never logged, stored or fired)."""
    targets = await _resolve_targets(call)
    for target in targets:
        if not target.lock.capabilities.dynamic_codes:
            raise _refuse("dynamic_not_supported", name=target.lock.name)
    results: dict[str, Any] = {}
    for target in targets:
        dynamic = await call_cloud(
            target.coordinator.provider.async_get_dynamic_code(target.lock.lock_id),
            target.lock.name,
        )
        results[target.entity_id] = {
            "code": dynamic.code,
            "expires": iso_local(dynamic.expires),
        }
    return results


@callback
def async_setup_code_actions(hass: HomeAssistant) -> None:
    """Register freeze_code, unfreeze_code and get_dynamic_code."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_FREEZE_CODE,
        _async_freeze,
        schema=FREEZE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_UNFREEZE_CODE,
        _async_unfreeze,
        schema=FREEZE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_DYNAMIC_CODE,
        _async_dynamic,
        schema=DYNAMIC_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
