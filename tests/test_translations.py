"""Every translation key the code uses exists, and every language has the same keys.

The keys are found by reading the integration's Python sources (AST), not by
listing them here: entity translation keys, exception keys, repair issue keys,
selector translation keys, config/options flow step ids, menu options, form
errors and abort reasons. A key passed through a variable is resolved from
the constants and call sites of the same package; a key that cannot be
resolved fails the test, so new code has to keep its keys discoverable.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
import json
from pathlib import Path
import re
from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.ttlock_gateway.const import DOMAIN
from tests.common import seed_ttlock_home, setup_entry, ttlock_data
from tests.fakes.ttlock_cloud import FakeTTLockCloud

COMPONENT = Path(__file__).parent.parent / "custom_components" / "ttlock_gateway"
STRINGS = COMPONENT / "strings.json"
TRANSLATIONS = COMPONENT / "translations"
LANGUAGES = ("en", "ru", "zh-Hans")
PLATFORMS = {
    "binary_sensor",
    "button",
    "event",
    "lock",
    "number",
    "select",
    "sensor",
    "switch",
    "text",
    "time",
}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


class _Module:
    """One parsed source file with parent links."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.stem
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node

    def enclosing(self, node: ast.AST, kind: type[ast.AST]) -> ast.AST | None:
        while (node := self.parents.get(node)) is not None:  # type: ignore[assignment]
            if isinstance(node, kind):
                return node
        return None


class _Scanner:
    """Collects (section path, key) pairs used by the package's code."""

    def __init__(self) -> None:
        self.modules = [
            _Module(path)
            for path in sorted(COMPONENT.rglob("*.py"))
            if "__pycache__" not in path.parts
        ]
        # Module-level string constants of the whole package (NAME = "value").
        self.constants: dict[str, set[str]] = {}
        for module in self.modules:
            for node in module.tree.body:
                target, value = None, None
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target, value = node.targets[0], node.value
                elif isinstance(node, ast.AnnAssign):
                    target, value = node.target, node.value
                if (
                    isinstance(target, ast.Name)
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    self.constants.setdefault(target.id, set()).add(value.value)
        self.used: set[tuple[str, ...]] = set()
        self.unresolved: list[str] = []

    # -- resolving expressions to the strings they can take --------------------

    def resolve(self, module: _Module, expr: ast.expr, depth: int = 0) -> set[str]:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.IfExp):
            return self.resolve(module, expr.body, depth) | self.resolve(
                module, expr.orelse, depth
            )
        if isinstance(expr, ast.Name) and depth < 4:
            values = self._resolve_local(module, expr, depth)
            if values:
                return values
            return set(self.constants.get(expr.id, set()))
        return set()

    def _resolve_local(self, module: _Module, name: ast.Name, depth: int) -> set[str]:
        func = module.enclosing(name, ast.FunctionDef) or module.enclosing(
            name, ast.AsyncFunctionDef
        )
        if func is None:
            return set()
        assert isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef)
        values: set[str] = set()
        # Assignments to the name inside the function (key = "x").
        for node in ast.walk(func):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == name.id:
                        values |= self.resolve(module, node.value, depth + 1)
        # A parameter: the values passed at the call sites in the same module.
        params = [arg.arg for arg in func.args.args]
        if name.id in params:
            index = params.index(name.id)
            if params and params[0] in ("self", "cls"):
                index -= 1
            for call in ast.walk(module.tree):
                if not isinstance(call, ast.Call):
                    continue
                callee = call.func
                called = (
                    callee.id
                    if isinstance(callee, ast.Name)
                    else callee.attr
                    if isinstance(callee, ast.Attribute)
                    else None
                )
                if called != func.name:
                    continue
                if 0 <= index < len(call.args):
                    values |= self.resolve(module, call.args[index], depth + 1)
                for keyword in call.keywords:
                    if keyword.arg == name.id:
                        values |= self.resolve(module, keyword.value, depth + 1)
        return values

    def _keys(self, module: _Module, expr: ast.expr, what: str) -> set[str]:
        values = self.resolve(module, expr)
        if not values:
            self.unresolved.append(
                f"{module.path.name}:{expr.lineno}: {what} {ast.unparse(expr)}"
            )
        return values

    # -- the kinds of keys ------------------------------------------------------

    def _flow_section(self, module: _Module, node: ast.AST) -> tuple[str, ...]:
        cls = module.enclosing(node, ast.ClassDef)
        assert cls is None or isinstance(cls, ast.ClassDef)
        if cls is not None and any(
            "OptionsFlow" in ast.unparse(base) for base in cls.bases
        ):
            return ("options",)
        if cls is not None and any(
            "RepairsFlow" in ast.unparse(base) for base in cls.bases
        ):
            # A repair's fix flow: its issue key is the class's ``issue``.
            for item in cls.body:
                if (
                    isinstance(item, ast.Assign | ast.AnnAssign)
                    and isinstance(
                        target := (
                            item.targets[0]
                            if isinstance(item, ast.Assign)
                            else item.target
                        ),
                        ast.Name,
                    )
                    and target.id == "issue"
                    and item.value is not None
                ):
                    keys = self._keys(module, item.value, "repair issue")
                    assert len(keys) == 1, cls.name
                    return ("issues", next(iter(keys)), "fix_flow")
            raise AssertionError(f"{cls.name} names no issue")
        return ("config",)

    def scan(self) -> None:
        for module in self.modules:
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Call):
                    self._scan_call(module, node)
                elif isinstance(node, ast.Assign):
                    self._scan_assign(module, node)

    def _scan_assign(self, module: _Module, node: ast.Assign) -> None:
        for target in node.targets:
            # _attr_translation_key = "..." in an entity class.
            if isinstance(target, ast.Name) and target.id == "_attr_translation_key":
                for key in self._keys(module, node.value, "entity translation key"):
                    self.used.add(("entity", module.name, key, "name"))
            # errors["base"] = "cannot_connect" in a flow.
            if (
                isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Name)
                and target.value.id == "errors"
            ):
                section = self._flow_section(module, node)
                for key in self._keys(module, node.value, "flow error"):
                    self.used.add((*section, "error", key))

    def _scan_call(self, module: _Module, call: ast.Call) -> None:
        func = call.func
        called = (
            func.id
            if isinstance(func, ast.Name)
            else func.attr
            if isinstance(func, ast.Attribute)
            else ""
        )
        keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
        # OfflineCodeError("key", message, ...): the provider layer's key,
        # raised translated by the services (providers/offline_codes.py).
        if called == "OfflineCodeError" and call.args:
            for key in self._keys(module, call.args[0], "offline code error key"):
                self.used.add(("exceptions", key, "message"))
        if "translation_key" in keywords:
            expr = keywords["translation_key"]
            if "translation_domain" in keywords:
                for key in self._keys(module, expr, "exception key"):
                    self.used.add(("exceptions", key, "message"))
            elif called == "async_create_issue":
                for key in self._keys(module, expr, "issue key"):
                    self.used.add(("issues", key, "title"))
            elif called.endswith("SelectorConfig"):
                for key in self._keys(module, expr, "selector key"):
                    self.used.add(("selector", key, "options"))
            elif called.endswith("Description") and module.name in PLATFORMS:
                for key in self._keys(module, expr, "entity translation key"):
                    self.used.add(("entity", module.name, key, "name"))
            elif called in ("UpdateFailed", "ConfigEntryNotReady"):
                for key in self._keys(module, expr, "exception key"):
                    self.used.add(("exceptions", key, "message"))
            else:
                self.unresolved.append(
                    f"{module.path.name}:{call.lineno}: translation_key in {called}()"
                )
        section = self._flow_section(module, call)
        if called in ("async_show_form", "async_show_menu") and "step_id" in keywords:
            for step in self._keys(module, keywords["step_id"], "step id"):
                self.used.add((*section, "step", step))
                if called == "async_show_menu" and "menu_options" in keywords:
                    options = keywords["menu_options"]
                    if isinstance(options, ast.List | ast.Tuple):
                        for option in options.elts:
                            for value in self._keys(module, option, "menu option"):
                                self.used.add(
                                    (*section, "step", step, "menu_options", value)
                                )
        if called in ("async_abort", "_abort_if_unique_id_mismatch") and (
            "reason" in keywords
        ):
            for reason in self._keys(module, keywords["reason"], "abort reason"):
                self.used.add((*section, "abort", reason))
        if called == "_abort_if_unique_id_configured":
            self.used.add((*section, "abort", "already_configured"))
        # async_update_reload_and_abort without a reason aborts with Home
        # Assistant's own reauth_successful / reconfigure_successful strings
        # (translation domain "homeassistant"), not ours.

    @staticmethod
    def _calls(module: _Module, name: str) -> bool:
        return any(
            isinstance(node, ast.Attribute) and node.attr == name
            for node in ast.walk(module.tree)
        )


def _has(tree: dict[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = tree
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


@pytest.fixture(scope="module")
def scanner() -> _Scanner:
    scanner = _Scanner()
    scanner.scan()
    return scanner


def test_scanner_finds_the_known_keys(scanner: _Scanner) -> None:
    """Guards the scanner itself: keys we know the code uses are found."""
    for expected in (
        ("entity", "lock", "lock", "name"),
        ("entity", "switch", "passage_mode", "name"),
        ("entity", "sensor", "last_activity", "name"),
        ("entity", "event", "activity", "name"),
        ("exceptions", "not_supported", "message"),  # via translate_error's key
        ("exceptions", "lock_busy", "message"),  # from an IfExp
        ("issues", "webhook_no_external_url", "title"),
        ("issues", "rate_limited", "title"),  # through _raise_issue(kind)
        ("selector", "data_center", "options"),  # through _select(options, key)
        ("config", "error", "invalid_client"),
        ("config", "abort", "wrong_account"),
        ("config", "step", "user", "menu_options", "tuya"),
        ("options", "step", "init"),
    ):
        assert expected in scanner.used, expected


def test_every_key_used_in_code_is_resolvable(scanner: _Scanner) -> None:
    assert scanner.unresolved == []


def test_every_key_used_in_code_is_in_strings(scanner: _Scanner) -> None:
    strings = _load(STRINGS)
    missing = sorted(".".join(path) for path in scanner.used if not _has(strings, path))
    assert missing == []


def test_every_issue_has_a_description(scanner: _Scanner) -> None:
    strings = _load(STRINGS)
    for path in scanner.used:
        if path[0] == "issues":
            assert _has(strings, ("issues", path[1], "description")), path


def test_en_is_an_exact_copy_of_strings() -> None:
    assert (TRANSLATIONS / "en.json").read_bytes() == STRINGS.read_bytes()


def _language_files() -> Iterator[Path]:
    return iter(sorted(TRANSLATIONS.glob("*.json")))


def test_languages_present() -> None:
    assert {path.stem for path in _language_files()} >= set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_has_exactly_the_keys_of_strings(language: str) -> None:
    source = _flatten(_load(STRINGS))
    found = _flatten(_load(TRANSLATIONS / f"{language}.json"))
    assert sorted(set(source) - set(found)) == [], "missing keys"
    assert sorted(set(found) - set(source)) == [], "extra keys"


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_keeps_placeholders_and_has_no_empty_strings(language: str) -> None:
    source = _flatten(_load(STRINGS))
    found = _flatten(_load(TRANSLATIONS / f"{language}.json"))
    for key, text in found.items():
        assert text.strip(), key
        if key in source:
            assert set(PLACEHOLDER.findall(text)) == set(
                PLACEHOLDER.findall(source[key])
            ), key


def test_translated_languages_are_translated() -> None:
    """ru and zh-Hans are not English copies (names like "Access ID" may stay)."""
    source = _flatten(_load(STRINGS))
    for language, script in (
        ("ru", r"[\u0400-\u04ff]"),
        ("zh-Hans", r"[\u4e00-\u9fff]"),
    ):
        found = _flatten(_load(TRANSLATIONS / f"{language}.json"))
        untranslated = [
            key
            for key, text in found.items()
            if text == source.get(key) and not re.search(script, text)
        ]
        # A few product terms are the same in every language.
        assert len(untranslated) <= 6, (language, untranslated)
        assert sum(bool(re.search(script, text)) for text in found.values()) >= (
            0.9 * len(found)
        ), language


def test_no_references_custom_integrations_cannot_resolve() -> None:
    """[%key:...%] references only work for core integrations."""
    for path in _language_files():
        assert "[%key:" not in path.read_text(encoding="utf-8"), path.name
    assert "[%key:" not in STRINGS.read_text(encoding="utf-8")


def test_every_event_type_is_translated() -> None:
    """The event entity's event types, from the provider contract."""
    from custom_components.ttlock_gateway.providers.models import EventType

    states = _load(STRINGS)["entity"]["event"]["activity"]["state_attributes"][
        "event_type"
    ]["state"]
    assert sorted(states) == sorted(event_type.value for event_type in EventType)


def test_every_device_trigger_type_is_translated() -> None:
    """Device trigger types need device_automation.trigger_type strings."""
    from custom_components.ttlock_gateway.device_trigger import TRIGGERS

    strings = _load(STRINGS).get("device_automation", {}).get("trigger_type", {})
    assert sorted(set(TRIGGERS) - set(strings)) == []


def test_no_orphan_strings(scanner: _Scanner) -> None:
    """Exception, issue and flow strings that no code uses are dead text."""
    strings = _load(STRINGS)
    orphans = []
    for section in ("exceptions", "issues"):
        used = {path[1] for path in scanner.used if path[0] == section}
        orphans += [
            f"{section}.{key}" for key in strings.get(section, {}) if key not in used
        ]
    for flow in ("config", "options"):
        for part in ("error", "abort", "step"):
            used = {p[2] for p in scanner.used if p[:2] == (flow, part)}
            orphans += [
                f"{flow}.{part}.{key}"
                for key in strings.get(flow, {}).get(part, {})
                if key not in used
            ]
    assert orphans == []


async def test_every_form_field_has_a_label_and_description(
    hass: HomeAssistant, ttlock_cloud: FakeTTLockCloud
) -> None:
    """Fields of the forms the flows really show have data and data_description."""
    strings = _load(STRINGS)
    shown: list[tuple[str, str, list[str]]] = []

    def fields(result: Any) -> list[str]:
        return [str(key.schema) for key in result["data_schema"].schema]

    for provider in ("ttlock", "tuya"):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USER}
        )
        assert result["type"] is FlowResultType.MENU
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": provider}
        )
        assert result["type"] is FlowResultType.FORM
        shown.append(("config", result["step_id"], fields(result)))
        hass.config_entries.flow.async_abort(result["flow_id"])

    seed_ttlock_home(ttlock_cloud)
    entry = await setup_entry(hass, ttlock_data(ttlock_cloud))
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    shown.append(("options", result["step_id"], fields(result)))

    assert {step for _, step, _ in shown} >= {"ttlock", "tuya", "init"}
    for flow, step, names in shown:
        assert names, step
        for name in names:
            assert _has(strings, (flow, "step", step, "data", name)), (step, name)
            assert _has(strings, (flow, "step", step, "data_description", name)), (
                step,
                name,
            )
