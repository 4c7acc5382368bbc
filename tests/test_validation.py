"""What hassfest and the HACS action check for a custom integration, as tests.

Manifest, hacs.json, repository layout, services.yaml against the services
really registered, service and entity strings and icons, quality_scale.yaml
against Home Assistant's own rule list, and the brand images (served by
Home Assistant's brands view).
"""

from __future__ import annotations

import ast
from http import HTTPStatus
import json
from pathlib import Path
import re
import subprocess
import sys
from typing import Any

from awesomeversion import AwesomeVersion
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from PIL import Image
import pytest
import yaml

from custom_components.ttlock_gateway.const import DOMAIN
from custom_components.ttlock_gateway.providers.models import EventType
from tests.common import seed_ttlock_home, setup_entry, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud

ROOT = Path(__file__).parent.parent
COMPONENT = ROOT / "custom_components" / DOMAIN
HA_COMPONENTS = Path(__import__("homeassistant").__file__).parent / "components"


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _yaml(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return data


# -- manifest.json ------------------------------------------------------------

MANIFEST = _json(COMPONENT / "manifest.json")
# hassfest's iot_class and integration_type values.
IOT_CLASSES = {
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
}
INTEGRATION_TYPES = {
    "device",
    "entity",
    "hardware",
    "helper",
    "hub",
    "service",
    "system",
    "virtual",
}


def test_manifest_keys_sorted_domain_name_first() -> None:
    keys = list(MANIFEST)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_manifest_required_keys() -> None:
    for key in (
        "domain",
        "name",
        "codeowners",
        "config_flow",
        "dependencies",
        "documentation",
        "integration_type",
        "iot_class",
        "issue_tracker",
        "requirements",
        "version",
    ):
        assert key in MANIFEST, key
    assert MANIFEST["domain"] == DOMAIN == COMPONENT.name
    assert MANIFEST["config_flow"] is True
    assert MANIFEST["iot_class"] in IOT_CLASSES
    assert MANIFEST["integration_type"] in INTEGRATION_TYPES
    assert {"http", "webhook"} <= set(MANIFEST["dependencies"])
    assert MANIFEST["codeowners"]
    assert all(re.fullmatch(r"@[\w.-]+(/[\w.-]+)?", c) for c in MANIFEST["codeowners"])
    for key in ("documentation", "issue_tracker"):
        assert re.fullmatch(r"https://\S+", MANIFEST[key]), key
    assert isinstance(MANIFEST["requirements"], list)


def test_manifest_version_is_semver() -> None:
    """Custom integrations must have a version AwesomeVersion understands."""
    version = AwesomeVersion(MANIFEST["version"])
    assert version.valid
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?\w+)?", MANIFEST["version"])


def test_manifest_dependencies_exist_in_home_assistant() -> None:
    for dep in [*MANIFEST["dependencies"], *MANIFEST.get("after_dependencies", [])]:
        assert (HA_COMPONENTS / dep / "manifest.json").exists(), dep


def test_domain_matches_const_and_config_flow() -> None:
    tree = ast.parse((COMPONENT / "config_flow.py").read_text(encoding="utf-8"))
    flows = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any(
            kw.arg == "domain" and ast.unparse(kw.value) == "DOMAIN"
            for kw in node.keywords
        )
    ]
    assert len(flows) == 1


# -- hacs.json and the repository layout --------------------------------------

HACS_KEYS = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
    "render_readme",
}


def test_hacs_json() -> None:
    hacs = _json(ROOT / "hacs.json")
    assert hacs["name"]
    assert set(hacs) <= HACS_KEYS
    minimum = AwesomeVersion(hacs["homeassistant"])
    assert minimum.valid
    # The tests run against a Home Assistant at least this new.
    assert AwesomeVersion(HA_VERSION) >= minimum
    assert not hacs.get("content_in_root", False)


def test_readme_for_hacs() -> None:
    """HACS renders README.md (render_readme) as the integration's page."""
    hacs = _json(ROOT / "hacs.json")
    if not hacs.get("render_readme"):
        assert (ROOT / "info.md").exists() or (ROOT / "README.md").exists()
        return
    readme = ROOT / "README.md"
    assert readme.exists(), "hacs.json sets render_readme but README.md is missing"
    text = readme.read_text(encoding="utf-8").lower()
    assert "hacs" in text
    assert "remov" in text or "uninstall" in text


def test_repository_layout_one_integration() -> None:
    integrations = [
        path.name
        for path in (ROOT / "custom_components").iterdir()
        if path.is_dir() and path.name != "__pycache__"
    ]
    assert integrations == [DOMAIN]
    for name in ("__init__.py", "manifest.json", "config_flow.py", "strings.json"):
        assert (COMPONENT / name).is_file(), name
    assert (COMPONENT / "translations" / "en.json").is_file()


# -- services -----------------------------------------------------------------

SERVICES_YAML = COMPONENT / "services.yaml"


def _services() -> dict[str, Any]:
    return _yaml(SERVICES_YAML) if SERVICES_YAML.exists() else {}


async def test_services_yaml_matches_registered_services(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    seed_ttlock_home(ttlock_cloud)
    await setup_entry(hass, ttlock_data(ttlock_cloud))
    registered = set(hass.services.async_services_for_domain(DOMAIN))
    assert registered == set(_services())
    assert {"add_code", "delete_code", "list_codes", "get_events"} <= registered


def test_strings_describe_every_service_and_field() -> None:
    strings = _json(COMPONENT / "strings.json").get("services", {})
    services = _services()
    assert set(strings) == set(services)
    for service, spec in services.items():
        assert strings[service].get("name"), service
        assert strings[service].get("description"), service
        fields = (spec or {}).get("fields", {}) or {}
        # Collapsible sections nest their fields one level down.
        flat_fields = {}
        for name, field in fields.items():
            if isinstance(field, dict) and "fields" in field:
                flat_fields.update(field["fields"])
            else:
                flat_fields[name] = field
        described = strings[service].get("fields", {})
        assert set(described) == set(flat_fields), service
        for name in flat_fields:
            assert described[name].get("name"), (service, name)
            assert described[name].get("description"), (service, name)


# -- icons.json ---------------------------------------------------------------

ICONS = _json(COMPONENT / "icons.json")
MDI = re.compile(r"mdi:[a-z0-9]+(-[a-z0-9]+)*")


def _icon_values(tree: Any) -> list[str]:
    if isinstance(tree, dict):
        return [value for item in tree.values() for value in _icon_values(item)]
    return [tree]


def test_icons_are_mdi_names() -> None:
    for value in _icon_values(ICONS):
        assert MDI.fullmatch(value), value


def test_icons_json_shape() -> None:
    """hassfest's icons schema: only these keys, per entity and per service."""
    assert set(ICONS) <= {"entity", "services"}
    for platform, entities in ICONS["entity"].items():
        for key, icon in entities.items():
            assert set(icon) <= {"default", "state", "range", "state_attributes"}, (
                platform,
                key,
            )
            for attribute in icon.get("state_attributes", {}).values():
                assert set(attribute) <= {"default", "state", "range"}, (platform, key)
    for service, icon in ICONS.get("services", {}).items():
        assert set(icon) <= {"service", "sections"}, service


def test_every_service_has_an_icon() -> None:
    assert set(ICONS.get("services", {})) == set(_services())
    for service in _services():
        assert MDI.fullmatch(ICONS["services"][service]["service"])


def test_every_entity_translation_key_has_an_icon() -> None:
    entities = _json(COMPONENT / "strings.json")["entity"]
    for platform, keys in entities.items():
        for key in keys:
            icon = ICONS["entity"].get(platform, {}).get(key)
            assert icon, f"{platform}.{key}"
            assert "default" in icon, f"{platform}.{key}"


def test_event_type_icons_cover_every_event_type() -> None:
    states = ICONS["entity"]["event"]["activity"]["state_attributes"]["event_type"][
        "state"
    ]
    assert set(states) == {event_type.value for event_type in EventType}


def test_passage_mode_icons() -> None:
    icon = ICONS["entity"]["switch"]["passage_mode"]
    assert icon["state"] == {"on": "mdi:door-open", "off": "mdi:door-closed-lock"}


# -- quality_scale.yaml -------------------------------------------------------

RULES = {
    "bronze": [
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow-test-coverage",
        "config-flow",
        "dependency-transparency",
        "docs-actions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ],
    "silver": [
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ],
    "gold": [
        "devices",
        "diagnostics",
        "discovery-update-info",
        "discovery",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ],
    "platinum": ["async-dependency", "inject-websession", "strict-typing"],
}


def _home_assistant_rules() -> set[str]:
    """The rules Home Assistant's own integrations list (hassfest requires all)."""
    rules: set[str] = set()
    for path in HA_COMPONENTS.glob("*/quality_scale.yaml"):
        rules |= set(_yaml(path).get("rules") or {})
    return rules


QUALITY = _yaml(COMPONENT / "quality_scale.yaml")["rules"]


def _status(rule: str) -> str:
    value = QUALITY[rule]
    return value if isinstance(value, str) else value["status"]


def test_quality_scale_lists_every_rule() -> None:
    expected = {rule for rules in RULES.values() for rule in rules}
    expected |= _home_assistant_rules()
    assert sorted(expected - set(QUALITY)) == []
    assert sorted(set(QUALITY) - expected) == []


def test_quality_scale_statuses_and_reasons() -> None:
    for rule, value in QUALITY.items():
        if isinstance(value, str):
            assert value == "done", rule
            continue
        assert value["status"] in ("done", "exempt", "todo"), rule
        if value["status"] != "done":
            assert str(value.get("comment", "")).strip(), f"{rule} needs a reason"


def test_quality_scale_platinum_typing_rules_done() -> None:
    for rule in RULES["platinum"]:
        assert _status(rule) == "done", rule


def test_quality_scale_claims_match_the_code() -> None:
    """Spot-check "done" claims that the files can prove."""
    source = {
        path.name: path.read_text(encoding="utf-8") for path in COMPONENT.glob("*.py")
    }
    claims = {
        "brands": (COMPONENT / "brand" / "icon.png").exists(),
        "diagnostics": "diagnostics.py" in source,
        "reauthentication-flow": "async_step_reauth" in source["config_flow.py"],
        "reconfiguration-flow": "async_step_reconfigure" in source["config_flow.py"],
        "config-flow-test-coverage": (ROOT / "tests" / "test_config_flow.py").exists(),
        "icon-translations": (COMPONENT / "icons.json").exists(),
        "inject-websession": "async_get_clientsession" in source["api.py"],
        "runtime-data": "runtime_data" in source["__init__.py"],
        "action-setup": "async_setup_services" in source["__init__.py"],
        "unique-config-entry": "_abort_if_unique_id_configured"
        in source["config_flow.py"],
        "repair-issues": bool(_json(COMPONENT / "strings.json").get("issues")),
        "docs-high-level-description": (ROOT / "README.md").exists(),
        "discovery": any(
            key in MANIFEST for key in ("zeroconf", "ssdp", "dhcp", "bluetooth")
        ),
    }
    for rule, proven in claims.items():
        if _status(rule) == "done":
            assert proven, f"{rule} is marked done but the code does not show it"
    if _status("docs-actions") == "done":
        docs = "".join(
            path.read_text(encoding="utf-8")
            for path in [*ROOT.glob("*.md"), *(ROOT / "docs").glob("*.md")]
        )
        for service in _services():
            assert service in docs, f"docs-actions: {service} is not documented"
    platforms = [
        name
        for name in source
        if name.removesuffix(".py")
        in ("binary_sensor", "event", "lock", "sensor", "switch")
    ]
    if _status("parallel-updates") == "done":
        for name in platforms:
            assert "PARALLEL_UPDATES" in source[name], name
    if _status("dependency-transparency") == "done":
        assert MANIFEST["requirements"] == [] or all(
            "==" in req for req in MANIFEST["requirements"]
        )


# -- brand images -------------------------------------------------------------

BRAND = COMPONENT / "brand"


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("icon.png", (256, 256)),
        ("icon@2x.png", (512, 512)),
        ("dark_icon.png", (256, 256)),
        ("dark_icon@2x.png", (512, 512)),
    ],
)
def test_brand_icons(name: str, size: tuple[int, int]) -> None:
    with Image.open(BRAND / name) as image:
        assert image.format == "PNG"
        assert image.size == size
        assert image.mode == "RGBA"
        alpha = image.getchannel("A")
        # Transparent background, trimmed: the mark touches two opposite edges.
        assert alpha.getpixel((0, 0)) == 0
        left, top, right, bottom = alpha.getbbox() or (0, 0, 0, 0)
        assert (top, bottom) == (0, size[1]) or (left, right) == (0, size[0])


@pytest.mark.parametrize(
    ("name", "height"),
    [
        ("logo.png", 256),
        ("logo@2x.png", 512),
        ("dark_logo.png", 256),
        ("dark_logo@2x.png", 512),
    ],
)
def test_brand_logos(name: str, height: int) -> None:
    with Image.open(BRAND / name) as image:
        assert image.format == "PNG"
        assert image.mode == "RGBA"
        width, actual = image.size
        # Landscape; the brands rules want the shortest side 128-256 (@2x: 256-512).
        assert actual == height
        assert width > height
        assert image.getchannel("A").getpixel((width - 1, 0)) == 0


def test_brand_images_are_what_the_script_draws() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "brand"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


async def test_brand_served_by_home_assistant(
    hass: HomeAssistant, hass_client: Any
) -> None:
    """Home Assistant serves our local brand images for the domain."""
    assert await async_setup_component(hass, "brands", {})
    client = await hass_client()
    for name in ("icon.png", "dark_logo@2x.png"):
        response = await client.get(f"/api/brands/integration/{DOMAIN}/{name}")
        assert response.status == HTTPStatus.OK
        assert await response.read() == (BRAND / name).read_bytes()
