"""The call ledger: every request counted once, per application, kept across
restarts and months, and the budget's repairs and schedule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.ttlock_gateway.budget import (
    DATA_LEDGERS,
    CallLedger,
    application_of,
    ledger_digest,
)
from custom_components.ttlock_gateway.const import CONF_API_BUDGET, DOMAIN
from tests.common import (
    restart_entry,
    seed_ttlock_home,
    setup_entry,
    ttlock_data,
    tuya_data,
)
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud

SENSOR = "sensor.test_account_api_calls_this_month"


async def _advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def _run_for(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    total: timedelta,
    step: timedelta = timedelta(minutes=10),
) -> None:
    elapsed = timedelta(0)
    while elapsed < total:
        await _advance(hass, freezer, step)
        elapsed += step


def _ledger(hass: HomeAssistant, data: dict[str, Any]) -> CallLedger:
    return hass.data[DATA_LEDGERS].ledgers[ledger_digest(*application_of(data))]


def _storage_key(data: dict[str, Any]) -> str:
    return f"{DOMAIN}.ledger.{ledger_digest(*application_of(data))}"


def _month(hass: HomeAssistant, data: dict[str, Any]) -> int:
    return _ledger(hass, data).view(dt_util.utcnow()).month


async def test_every_request_counted_like_the_cloud_counts(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Setup, a day of polls, a token refresh and an unlock: the ledger agrees
    with the fake to the call, and the sensor shows it."""
    freezer.move_to("2026-05-10 08:00:00+00:00")
    home = seed_ttlock_home(ttlock_cloud)
    data = ttlock_data(ttlock_cloud)
    await setup_entry(hass, data)
    await _run_for(hass, freezer, timedelta(hours=12), timedelta(minutes=30))
    ttlock_cloud.revoke_tokens()
    await hass.services.async_call(
        "lock", "unlock", {"entity_id": "lock.front_door"}, blocking=True
    )
    await _advance(hass, freezer, timedelta(seconds=30))

    ledger = _ledger(hass, data)
    view = ledger.view(dt_util.utcnow())
    assert view.month == ttlock_cloud.total_calls
    assert view.today == ttlock_cloud.total_calls
    by_path = {label.split(" ", 1)[1]: n for label, n in view.top.items()}
    assert by_path["/v3/lock/list"] == ttlock_cloud.calls["/v3/lock/list"]
    state = hass.states.get(SENSOR)
    assert state is not None
    assert int(state.state) == ttlock_cloud.total_calls
    assert state.attributes["budget"] == 30_000
    assert state.attributes["calls_today"] == ttlock_cloud.total_calls
    assert state.attributes["projected_month_end"] > ttlock_cloud.total_calls
    assert state.attributes["last_reset"] == "2026-05-01T00:00:00+00:00"
    assert str(home.front) not in str(state.attributes)


async def test_ledger_survives_a_restart(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    freezer.move_to("2026-05-10 08:00:00+00:00")
    seed_ttlock_home(ttlock_cloud)
    data = ttlock_data(ttlock_cloud)
    entry = await setup_entry(hass, data)
    before = ttlock_cloud.total_calls
    assert _month(hass, data) == before

    await restart_entry(hass, entry)
    # Unloading wrote the file at once (not only after the save delay).
    stored = hass_storage[_storage_key(data)]["data"]
    assert sum(stored["months"]["2026-05"].values()) == before
    # The restart itself was free (fresh stored data): nothing new to count.
    assert ttlock_cloud.total_calls == before
    assert _month(hass, data) == before

    await _run_for(hass, freezer, timedelta(hours=3))
    assert _month(hass, data) == ttlock_cloud.total_calls > before


async def test_calls_before_the_ledger_loads_are_kept(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """The config flow's sign-in counts too (added when the ledger loads)."""
    seed_ttlock_home(ttlock_cloud)
    data = ttlock_data(ttlock_cloud)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "ttlock"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "client_id": data["client_id"],
            "client_secret": data["client_secret"],
            "username": data["username"],
            "password": ttlock_cloud.PASSWORD,
            "region": "eu",
            "base_url": data["base_url"],
        },
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    flow_and_setup = ttlock_cloud.total_calls
    assert _month(hass, data) == flow_and_setup


async def test_month_boundary_starts_a_new_count(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    freezer.move_to("2026-05-31 20:00:00+00:00")
    seed_ttlock_home(ttlock_cloud)
    data = ttlock_data(ttlock_cloud)
    entry = await setup_entry(hass, data)
    await _run_for(hass, freezer, timedelta(hours=3, minutes=50))
    may = ttlock_cloud.total_calls
    ttlock_cloud.reset_calls()
    assert _month(hass, data) == may

    await _run_for(hass, freezer, timedelta(hours=3))  # into June
    june = ttlock_cloud.total_calls
    assert june > 0
    assert _month(hass, data) == june
    state = hass.states.get(SENSOR)
    assert state is not None
    assert int(state.state) == june
    assert state.attributes["last_reset"] == "2026-06-01T00:00:00+00:00"

    assert await hass.config_entries.async_unload(entry.entry_id)
    stored = hass_storage[_storage_key(data)]["data"]
    assert sum(stored["months"]["2026-05"].values()) == may
    assert sum(stored["months"]["2026-06"].values()) == june


async def test_clock_jumps_do_not_break_the_ledger(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Back two days and forward again: counts stay whole, the rate is never
    negative, and a file written in the 'future' is not believed."""
    freezer.move_to("2026-05-10 08:00:00+00:00")
    seed_ttlock_home(ttlock_cloud)
    data = ttlock_data(ttlock_cloud)
    entry = await setup_entry(hass, data)
    counted = ttlock_cloud.total_calls

    freezer.move_to("2026-05-08 08:00:00+00:00")
    coordinator = entry.runtime_data.coordinator
    # The schedule runs on the loop's clock; a refresh now counts "two days ago".
    await coordinator.async_refresh()
    await _advance(hass, freezer, timedelta(seconds=30))
    ledger = _ledger(hass, data)
    view = ledger.view(dt_util.utcnow())
    assert view.month == ttlock_cloud.total_calls > counted
    assert view.rate_per_day >= 0
    assert view.projected >= view.month

    freezer.move_to("2026-07-20 08:00:00+00:00")
    await coordinator.async_refresh()
    await _advance(hass, freezer, timedelta(seconds=30))
    july = ledger.view(dt_util.utcnow()).month
    assert 0 < july < ttlock_cloud.total_calls
    assert await hass.config_entries.async_unload(entry.entry_id)

    # Back to May: July's buckets lie ahead and are dropped on load.
    freezer.move_to("2026-05-11 08:00:00+00:00")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    ledger = _ledger(hass, data)
    assert all(key <= "2026-05-12" for key in ledger.days)
    assert "2026-07" not in ledger.months


async def test_two_entries_of_one_application_share_one_ledger(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    freezer.move_to("2026-05-10 08:00:00+00:00")
    seed_ttlock_home(ttlock_cloud)
    data = ttlock_data(ttlock_cloud)
    first = await setup_entry(hass, data, unique_id="first")
    second = await setup_entry(
        hass, {**data, "webhook_id": "second-webhook"}, unique_id="second"
    )
    assert second.state is ConfigEntryState.LOADED
    await _run_for(hass, freezer, timedelta(hours=2))
    await _advance(hass, freezer, timedelta(seconds=30))  # sensors hear of it

    assert len(hass.data[DATA_LEDGERS].ledgers) == 1
    assert _month(hass, data) == ttlock_cloud.total_calls
    values = {
        state.state
        for state in hass.states.async_all("sensor")
        if state.entity_id.endswith("api_calls_this_month")
        or state.entity_id.endswith("api_calls_this_month_2")
    }
    assert values == {str(ttlock_cloud.total_calls)}

    # One entry goes: the other keeps counting into the same ledger.
    assert await hass.config_entries.async_unload(first.entry_id)
    await _run_for(hass, freezer, timedelta(hours=2))
    assert _month(hass, data) == ttlock_cloud.total_calls

    # Removing one keeps the file (the other uses it); removing both drops it.
    await hass.config_entries.async_remove(first.entry_id)
    await hass.async_block_till_done()
    digest = ledger_digest(*application_of(data))
    assert digest in hass.data[DATA_LEDGERS].ledgers
    assert _storage_key(data) in hass_storage  # written when `first` unloaded
    await hass.config_entries.async_remove(second.entry_id)
    await hass.async_block_till_done()
    assert _storage_key(data) not in hass_storage
    assert digest not in hass.data[DATA_LEDGERS].ledgers


async def test_budget_repair_and_stretched_list_switch_both_ways(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Projection past 80 %: a repair and the list every 3 hours; a larger
    budget: the hourly list again and the repair gone."""
    freezer.move_to("2026-05-20 08:00:00+00:00")
    seed_ttlock_home(ttlock_cloud)
    data = ttlock_data(ttlock_cloud)
    entry = await setup_entry(hass, data, options={CONF_API_BUDGET: 1000})
    coordinator = entry.runtime_data.coordinator
    issue_id = f"api_budget_{entry.entry_id}"
    issues = ir.async_get(hass)
    assert coordinator.update_interval == timedelta(hours=1)
    assert issues.async_get_issue(DOMAIN, issue_id) is None

    # Some 25 calls in the last day, 11.7 days left: ~300 projected. A
    # budget it passes 80 % of:
    hass.config_entries.async_update_entry(entry, options={CONF_API_BUDGET: 200})
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    await _run_for(hass, freezer, timedelta(hours=3))
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders["budget"] == "200"
    assert coordinator.schedule.budget_level >= 1
    assert coordinator.update_interval >= timedelta(hours=3)
    lists_before = ttlock_cloud.calls["/v3/lock/list"]
    await _run_for(hass, freezer, timedelta(hours=2, minutes=50))
    assert ttlock_cloud.calls["/v3/lock/list"] - lists_before <= 1
    # User actions are never held back by the budget.
    await hass.services.async_call(
        "lock", "unlock", {"entity_id": "lock.front_door"}, blocking=True
    )
    assert ttlock_cloud.unlocks

    hass.config_entries.async_update_entry(entry, options={CONF_API_BUDGET: 100_000})
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    await _run_for(hass, freezer, timedelta(hours=1))
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    assert coordinator.schedule.budget_level == 0
    assert coordinator.update_interval == timedelta(hours=1)


async def test_budget_zero_is_off(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(
        hass, ttlock_data(ttlock_cloud), options={CONF_API_BUDGET: 0}
    )
    await _run_for(hass, freezer, timedelta(hours=2))
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.attributes["budget"] is None
    assert entry.runtime_data.coordinator.schedule.budget_level == 0
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, f"api_budget_{entry.entry_id}")
        is None
    )


async def test_ttlock_limit_reached_repair_names_the_reset_for_every_entry(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """30007 on a user action: both entries of the application get the repair
    at once, with the reset date; a call that works again clears it."""
    freezer.move_to("2026-05-20 12:00:00+00:00")
    seed_ttlock_home(ttlock_cloud)
    data = ttlock_data(ttlock_cloud)
    first = await setup_entry(hass, data, unique_id="first")
    second = await setup_entry(
        hass, {**data, "webhook_id": "second-webhook"}, unique_id="second"
    )
    ttlock_cloud.monthly_calls_left = 0
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "lock", "unlock", {"entity_id": "lock.front_door"}, blocking=True
        )
    assert err.value.translation_key == "rate_limited"
    await _advance(hass, freezer, timedelta(seconds=1))
    issues = ir.async_get(hass)
    for entry in (first, second):
        issue = issues.async_get_issue(DOMAIN, f"rate_limited_monthly_{entry.entry_id}")
        assert issue is not None
        assert issue.translation_placeholders["until"] == "2026-06-01 00:00"
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.attributes["limit_reached"] is True
    assert state.attributes["limit_resets"] == "2026-06-01T00:00:00+00:00"

    # June: the quota is back; the next list works and clears both.
    ttlock_cloud.monthly_calls_left = None
    freezer.move_to("2026-06-01 00:30:00+00:00")
    await _run_for(hass, freezer, timedelta(hours=1))
    for entry in (first, second):
        assert (
            issues.async_get_issue(DOMAIN, f"rate_limited_monthly_{entry.entry_id}")
            is None
        )


async def test_tuya_quota_used_up_repair_without_a_date(
    hass: HomeAssistant,
    tuya_cloud: FakeTuyaCloud,
    freezer: FrozenDateTimeFactory,
) -> None:
    """28841004: Tuya names no reset date; retried hourly, cleared when it works."""
    tuya_cloud.add_device(name="Front gate")
    entry = await setup_entry(hass, tuya_data(tuya_cloud))
    tuya_cloud.quota_left = 0
    tuya_cloud.reset_calls()
    await _run_for(hass, freezer, timedelta(hours=3))
    issues = ir.async_get(hass)
    issue = issues.async_get_issue(DOMAIN, f"rate_limited_quota_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_key == "rate_limited_quota"
    # Hourly, not every 10 minutes: refused calls are not hammered.
    assert tuya_cloud.total_calls <= 4

    tuya_cloud.quota_left = None
    await _run_for(hass, freezer, timedelta(hours=1, minutes=10))
    assert (
        issues.async_get_issue(DOMAIN, f"rate_limited_quota_{entry.entry_id}") is None
    )


async def test_a_damaged_ledger_file_costs_only_what_it_held(
    hass: HomeAssistant,
    ttlock_cloud: FakeTTLockCloud,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Wrong types, negative and huge counts, bad keys: dropped one by one."""
    freezer.move_to("2026-05-10 08:00:00+00:00")
    seed_ttlock_home(ttlock_cloud)
    data = ttlock_data(ttlock_cloud)
    hass_storage[_storage_key(data)] = {
        "version": 1,
        "minor_version": 1,
        "key": _storage_key(data),
        "data": {
            "days": {
                "2026-05-09": {"GET /v3/lock/list": 7, "bad": -1, "x": "3"},
                "yesterday": {"GET /v3/lock/list": 5},
                "2026-05-08": ["not", "a", "dict"],
            },
            "months": {"2026-05": {"GET /v3/lock/list": 40, "y": 10**12}, "05": {}},
            "hours": {"2026-05-10T07": 3, "noon": 4, "2026-05-10T06": True},
            "limit": {"since": "not a date"},
        },
    }
    await setup_entry(hass, data)
    ledger = _ledger(hass, data)
    assert dict(ledger.days["2026-05-09"]) == {"GET /v3/lock/list": 7}
    assert "yesterday" not in ledger.days
    assert "2026-05-08" not in ledger.days
    assert ledger.view(dt_util.utcnow()).month == 40 + ttlock_cloud.total_calls
    assert ledger.limit is None
    assert hass.states.get(SENSOR) is not None
