"""Write a development Home Assistant config directory wired to the simulator.

``python -m simulator.devconfig --config config`` creates (only what is missing):

- ``configuration.yaml``: the parts of ``default_config`` the dev setup needs, the
  debug logger for this integration (Home Assistant itself is started through
  ``simulator.devhass``, which skips the default integrations that cannot set up);
- ``custom_components`` -> the repository's ``custom_components`` (symlink);
- ``.storage/onboarding``: every onboarding step done, so ``/`` shows the login page;
- ``.storage/core.config_entries``: a TTLock, a Tuya and a Dding entry pointing at
  the simulator (the Tuya one also at its message service), with fixed webhook ids (``--no-entries`` skips them, for real clouds).

The login user itself is created with Home Assistant's own tool
(``hass --script auth -c config add dev dev``), see ``scripts/develop``.
Everything written here uses the simulator's public test credentials only.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import sys
from typing import Any

from custom_components.ttlock_gateway.providers.ttlock import md5_password
from tests.fakes.dding_cloud import FakeDdingCloud
from tests.fakes.ttlock_cloud import FakeTTLockCloud
from tests.fakes.tuya_cloud import FakeTuyaCloud

REPO = Path(__file__).resolve().parent.parent
DOMAIN = "ttlock_gateway"
TTLOCK_WEBHOOK_ID = "sim-ttlock-webhook"
TUYA_WEBHOOK_ID = "sim-tuya-webhook"
TTLOCK_ENTRY_ID = "01SIMTTLOCK0000000000000000"
TUYA_ENTRY_ID = "01SIMTUYA000000000000000000"
GATEWAY_WEBHOOK_ID = "sim-gateway-service-webhook"
GATEWAY_ENTRY_ID = "01SIMGATEWAYSERVICE00000000"
DDING_WEBHOOK_ID = "sim-dding-webhook"
DDING_ENTRY_ID = "01SIMDDING00000000000000000"
DDING_HOME_ID = "sim-dding-home"  # simulator.DDING_HOME_ID

# The web UI: the frontend, and the integrations whose modules Home Assistant's
# service helper imports to read every services.yaml (``_base_components`` in
# homeassistant/helpers/service.py: ai_task, camera, assist_satellite, ...). They
# need not be set up (simulator.devhass skips the ones that cannot), but they
# must import, or the frontend's service list fails and the UI stays on
# "Loading...". Read from the installed Home Assistant; this list is the
# fallback for a release that moved it.
UI_DOMAINS_FALLBACK = (
    "ai_task",
    "assist_satellite",
    "camera",
)

# ``default_config`` minus what needs packages this venv does not have
# (assist_pipeline, conversation, cloud, dhcp, ssdp, stream, go2rtc, usb, file...).
CONFIGURATION_YAML = """\
# Development config written by scripts/develop (python -m simulator.devconfig).
homeassistant:
  name: TTLock Gateway dev
  latitude: 52.37
  longitude: 4.89
  elevation: 0
  unit_system: metric
  currency: EUR
  country: NL
  time_zone: Europe/Amsterdam
  language: en

# The part of default_config that loads without packages missing from this venv
# (no mobile_app: it pulls in camera, conversation, tts and ffmpeg).
frontend:
config:
history:
logbook:
energy:
my:
person:
sun:
system_health:
webhook:

logger:
  default: warning
  logs:
    custom_components.ttlock_gateway: debug
    homeassistant.components.webhook: info
  # zlib_ng/isal only speed up compression: nothing a developer needs to fix.
  filters:
    aiohttp_fast_zlib:
      - "^zlib_ng and isal are not available"
"""


def _storage(key: str, version: int, minor: int, data: Any) -> dict[str, Any]:
    return {"version": version, "minor_version": minor, "key": key, "data": data}


def _entry(
    entry_id: str, title: str, unique_id: str, data: dict[str, Any]
) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    # The fields ``ConfigEntry.as_dict`` writes (config entries storage 1.5).
    return {
        "created_at": now,
        "data": data,
        "discovery_keys": {},
        "disabled_by": None,
        "domain": DOMAIN,
        "entry_id": entry_id,
        "minor_version": 1,
        "modified_at": now,
        "options": {},
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "subentries": [],
        "title": title,
        "unique_id": unique_id,
        "version": 1,
    }


def config_entries(
    ttlock_url: str,
    tuya_url: str,
    tuya_push_url: str | None = None,
    gateway_service_url: str | None = None,
    dding_url: str | None = None,
) -> dict[str, Any]:
    """The simulator entries, as the config flow would have stored them (the
    gateway service's only with its URL: it needs Home Assistant's external URL;
    Dding's only with its URL)."""
    ttlock = _entry(
        TTLOCK_ENTRY_ID,
        FakeTTLockCloud.USERNAME,
        f"{FakeTTLockCloud.CLIENT_ID}_{FakeTTLockCloud.UID}",
        {
            "provider": "ttlock",
            "client_id": FakeTTLockCloud.CLIENT_ID,
            "client_secret": FakeTTLockCloud.CLIENT_SECRET,
            "username": FakeTTLockCloud.USERNAME,
            "password_md5": md5_password(FakeTTLockCloud.PASSWORD),
            "region": "eu",
            "base_url": ttlock_url,
            "webhook_id": TTLOCK_WEBHOOK_ID,
        },
    )
    tuya = _entry(
        TUYA_ENTRY_ID,
        "Tuya Cloud (simulator)",
        f"{FakeTuyaCloud.ACCESS_ID}_{FakeTuyaCloud.USER_UID}",
        {
            "provider": "tuya",
            "access_id": FakeTuyaCloud.ACCESS_ID,
            "access_secret": FakeTuyaCloud.ACCESS_SECRET,
            "data_center": "eu",
            "user_uid": "",
            "base_url": tuya_url,
            "webhook_id": TUYA_WEBHOOK_ID,
            # The simulator's message service: Tuya events arrive live.
            **({"push_url": tuya_push_url} if tuya_push_url else {}),
        },
    )
    entries = [ttlock, tuya]
    if gateway_service_url:
        # The same TTLock account, through the simulator's gateway service;
        # unique id as the flow makes it (<host:port>_<service user id>).
        host = gateway_service_url.split("://", 1)[-1].rstrip("/")
        entries.append(
            _entry(
                GATEWAY_ENTRY_ID,
                f"{FakeTTLockCloud.USERNAME} (gateway service)",
                f"{host}_1",
                {
                    "provider": "gateway_service",
                    "base_url": gateway_service_url.rstrip("/"),
                    "username": FakeTTLockCloud.USERNAME,
                    "password": FakeTTLockCloud.PASSWORD,
                    "webhook_id": GATEWAY_WEBHOOK_ID,
                },
            )
        )
    if dding_url:
        entries.append(
            _entry(
                DDING_ENTRY_ID,
                "Dding (simulator)",
                FakeDdingCloud.CLIENT_ID,
                {
                    "provider": "dding",
                    "client_id": FakeDdingCloud.CLIENT_ID,
                    "client_secret": FakeDdingCloud.CLIENT_SECRET,
                    "home_ids": [DDING_HOME_ID],
                    "default_phone": "",
                    "base_url": dding_url,
                    "webhook_id": DDING_WEBHOOK_ID,
                },
            )
        )
    return _storage("core.config_entries", 1, 5, {"entries": entries})


def http_storage(port: int) -> dict[str, Any]:
    """Confirmed (``stable``) HTTP settings: loopback on ``port``."""
    stable = {
        "server_port": port,
        "server_host": ["127.0.0.1"],
        "cors_allowed_origins": ["https://cast.home-assistant.io"],
        "login_attempts_threshold": -1,
        "ip_ban_enabled": True,
        "ssl_profile": "modern",
        "use_x_frame_options": True,
        "created_at": datetime.now(UTC).isoformat(),
        "error": None,
        "error_message": None,
    }
    return _storage(
        "http", 2, 2, {"stable": stable, "pending": None, "yaml_migration_done": True}
    )


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def write_config(
    config: Path,
    *,
    port: int,
    ttlock_url: str,
    tuya_url: str,
    entries: bool,
    tuya_push_url: str | None = None,
    gateway_service_url: str | None = None,
    dding_url: str | None = None,
) -> list[str]:
    """Create what is missing; return what was created (for the log)."""
    created: list[str] = []
    storage = config / ".storage"
    storage.mkdir(parents=True, exist_ok=True)

    yaml_path = config / "configuration.yaml"
    if not yaml_path.exists():
        text = CONFIGURATION_YAML
        if gateway_service_url:
            # The gateway service POSTs its job results to the webhook: it
            # needs an address for Home Assistant (loopback: the simulator's).
            text = text.replace(
                "homeassistant:\n",
                f"homeassistant:\n  external_url: http://127.0.0.1:{port}\n",
                1,
            )
        yaml_path.write_text(text, encoding="utf-8")
        created.append(str(yaml_path))

    link = config / "custom_components"
    if not link.exists() and not link.is_symlink():
        target = REPO / "custom_components"
        rel = os.path.relpath(target, config.resolve())
        link.symlink_to(rel, target_is_directory=True)
        created.append(f"{link} -> {rel}")

    # Since 2026.10 the HTTP settings live in storage; YAML would be migrated as an
    # unconfirmed trial that reverts after five minutes. Loopback only: the dev
    # login is weak.
    http_path = storage / "http"
    current = json.loads(http_path.read_text("utf-8")) if http_path.exists() else None
    if current is None or current["data"]["stable"].get("server_port") != port:
        _write_json(http_path, http_storage(port))
        created.append(f"{http_path} (port {port})")

    onboarding = storage / "onboarding"
    if not onboarding.exists():
        done = ["user", "core_config", "analytics", "integration"]
        _write_json(onboarding, _storage("onboarding", 4, 1, {"done": done}))
        created.append(str(onboarding))

    entries_path = storage / "core.config_entries"
    if entries and not entries_path.exists():
        _write_json(
            entries_path,
            config_entries(
                ttlock_url,
                tuya_url,
                tuya_push_url,
                gateway_service_url=gateway_service_url,
                dding_url=dding_url,
            ),
        )
        created.append(str(entries_path))
    return created


def service_helper_domains() -> list[str]:
    """The integrations ``homeassistant.helpers.service`` imports for features."""
    import ast
    import inspect

    from homeassistant.helpers import service

    base = getattr(service, "_base_components", None)
    if base is None:
        return list(UI_DOMAINS_FALLBACK)
    tree = ast.parse(inspect.getsource(inspect.unwrap(base)))
    return [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module == "homeassistant.components"
        for alias in node.names
    ] or list(UI_DOMAINS_FALLBACK)


def missing_ui_requirements() -> list[str]:
    """Pinned packages the web UI needs that are not installed.

    The frontend's, and those of the integrations the service helper imports,
    with the integrations they depend on (importing ai_task imports
    conversation): their manifests' pinned requirements.
    """
    from homeassistant import components
    from homeassistant.util import package as pkg_util

    base = Path(components.__file__).parent
    wanted: list[str] = []
    todo = ["frontend", *service_helper_domains()]
    seen: set[str] = set()
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        seen.add(domain)
        path = base / domain / "manifest.json"
        if not path.exists():
            continue
        manifest = json.loads(path.read_text("utf-8"))
        wanted.extend(manifest.get("requirements", []))
        todo.extend(manifest.get("dependencies", []))
    return [r for r in dict.fromkeys(wanted) if not pkg_util.is_installed(r)]


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=REPO / "config")
    parser.add_argument("--port", type=int, default=8123, help="Home Assistant port")
    parser.add_argument("--ttlock-url", default="http://127.0.0.1:8901")
    parser.add_argument("--tuya-url", default="http://127.0.0.1:8902")
    parser.add_argument(
        "--tuya-push-url",
        default="ws://127.0.0.1:8903/",
        help="the simulator's Tuya message service ('' for none)",
    )
    parser.add_argument(
        "--gateway-service-url",
        default="",
        help="the simulator's gateway service, e.g. http://127.0.0.1:8905 "
        "('' for none; also sets external_url in a new configuration.yaml)",
    )
    parser.add_argument(
        "--dding-url",
        default="http://127.0.0.1:8904",
        help="the simulator's Dding SaaS ('' for no Dding entry)",
    )
    parser.add_argument(
        "--no-entries",
        action="store_true",
        help="do not pre-create the simulator entries (real clouds: add from the UI)",
    )
    parser.add_argument(
        "--missing-ui-requirements",
        action="store_true",
        help="print the web UI's missing packages, one a line, and exit",
    )
    args = parser.parse_args(argv)
    if args.missing_ui_requirements:
        for requirement in missing_ui_requirements():
            print(requirement)
        return 0
    created = write_config(
        args.config,
        port=args.port,
        ttlock_url=args.ttlock_url,
        tuya_url=args.tuya_url,
        entries=not args.no_entries,
        tuya_push_url=args.tuya_push_url or None,
        gateway_service_url=args.gateway_service_url or None,
        dding_url=args.dding_url or None,
    )
    for item in created:
        print(f"created {item}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
