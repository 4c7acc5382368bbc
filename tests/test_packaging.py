"""What HACS and hassfest read: the files a published repository must get right."""

from __future__ import annotations

import json
from pathlib import Path

from homeassistant.const import __version__ as HA_VERSION
from homeassistant.util.yaml import load_yaml

ROOT = Path(__file__).resolve().parent.parent
COMPONENT = ROOT / "custom_components" / "ttlock_gateway"


def test_hacs_minimum_is_the_tested_harness() -> None:
    """hacs.json promises the oldest Home Assistant the suite actually runs on."""
    hacs = json.loads((ROOT / "hacs.json").read_text("utf-8"))
    assert hacs["homeassistant"] == HA_VERSION
    assert hacs["name"] == json.loads((COMPONENT / "manifest.json").read_text())["name"]


def test_manifest_as_hassfest_wants_it() -> None:
    """domain, name, then sorted keys; a version; push as the primary path."""
    manifest = json.loads((COMPONENT / "manifest.json").read_text("utf-8"))
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["version"]
    assert manifest["iot_class"] == "cloud_push"
    assert manifest["requirements"] == []


def test_license_is_the_apache_license() -> None:
    text = (ROOT / "LICENSE").read_text("utf-8")
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_quality_scale_names_every_rule_once_with_a_status() -> None:
    """Every rule has done / todo / exempt; exempt and todo say why."""
    scale = load_yaml(COMPONENT / "quality_scale.yaml")
    assert isinstance(scale, dict)
    rules = scale["rules"]
    for name, rule in rules.items():
        status = rule["status"] if isinstance(rule, dict) else rule
        assert status in ("done", "todo", "exempt"), name
        if status != "done":
            assert isinstance(rule, dict), name
            assert rule.get("comment"), name
