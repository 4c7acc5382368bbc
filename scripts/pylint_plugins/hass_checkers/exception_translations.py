"""Home Assistant errors carry translations (core's exception-translations rules).

Every construction of a ``HomeAssistantError`` (or subclass) in the integration
is checked, not only those written inside ``raise`` as in core: this
integration builds its errors in helpers (``translate_error``, ``_invalid``)
that return them.

- W7417: a positional (English) message instead of translation_key /
  translation_domain, when quality_scale.yaml claims exception-translations.
- W7419: a message and a translation_key (the message would win).
- E7408: only one of translation_key and translation_domain.
- E7406: a literal translation_key missing from strings.json's ``exceptions``.
- E7418: literal translation_placeholders keys that differ from the message's
  ``{placeholders}``.
"""

from __future__ import annotations

import string

from astroid import nodes
from pylint.checkers import BaseChecker
from pylint.lint import PyLinter

from .context import (
    HA_ERROR,
    ModuleInfo,
    const_str,
    derives_from,
    keyword,
    parse_module,
    rule_done,
    strings,
)


def ha_error_class(call: nodes.Call) -> str | None:
    """The name of the Home Assistant error class ``call`` constructs, if any."""
    try:
        for inferred in call.func.infer():
            if isinstance(inferred, nodes.ClassDef) and derives_from(
                inferred, HA_ERROR
            ):
                return str(inferred.name)
    except Exception:  # astroid inference may fail in many ways
        return None
    return None


def placeholders(message: str) -> set[str]:
    """The ``{names}`` of a translation message."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(message) if name}
    except ValueError:
        return set()


def dict_keys(node: nodes.NodeNG | None) -> set[str] | None:
    """The literal string keys of a dict display, or None when not literal."""
    if not isinstance(node, nodes.Dict):
        return None
    keys: set[str] = set()
    for key, _ in node.items:
        value = const_str(key)
        if value is None:
            return None
        keys.add(value)
    return keys


class ExceptionTranslationsChecker(BaseChecker):
    """Core's home_assistant_exception_translations, for a custom integration."""

    name = "home_assistant_exception_translations"
    msgs = {
        "W7417": (
            "%s is raised with an English message: give it translation_domain "
            "and translation_key",
            "home-assistant-exception-not-translated",
            "A Home Assistant error with an English message: the user sees it "
            "untranslated.",
        ),
        "W7419": (
            "%s has a translation_key and a message; the message would win",
            "home-assistant-exception-message-with-translation",
            "The positional message replaces the translated one.",
        ),
        "E7408": (
            "%s sets one of translation_key / translation_domain: Home Assistant "
            "translates only with both",
            "home-assistant-exception-translation-key-domain-mismatch",
            "Home Assistant translates an error only with both.",
        ),
        "E7406": (
            "exceptions.%s is not in the strings.json of %s",
            "home-assistant-exception-translation-key-missing",
            "The error would show its bare key.",
        ),
        "E7418": (
            "exceptions.%s: the code gives {%s}, the message uses {%s}",
            "home-assistant-exception-placeholder-mismatch",
            "A missing placeholder fails the translation; an extra one is unused.",
        ),
    }

    _info: ModuleInfo | None = None

    def visit_module(self, node: nodes.Module) -> None:
        """Note whether the module is the integration's."""
        self._info = parse_module(node)

    def visit_call(self, node: nodes.Call) -> None:
        """Check each construction of a Home Assistant error."""
        info = self._info
        if info is None:
            return
        name = ha_error_class(node)
        if name is None:
            return
        key_node = keyword(node, "translation_key")
        domain_node = keyword(node, "translation_domain")
        if node.args and key_node is None:
            if rule_done(info, "exception-translations"):
                self.add_message(
                    "home-assistant-exception-not-translated", node=node, args=(name,)
                )
            return
        if node.args:
            self.add_message(
                "home-assistant-exception-message-with-translation",
                node=node,
                args=(name,),
            )
            return
        if (key_node is None) != (domain_node is None):
            self.add_message(
                "home-assistant-exception-translation-key-domain-mismatch",
                node=node,
                args=(name,),
            )
            return
        key = const_str(key_node)
        domain = const_str(domain_node)
        if key is None or domain != info.domain:
            return  # not literal, or another integration's strings
        entry = strings(info).get("exceptions", {}).get(key)
        if not isinstance(entry, dict):
            self.add_message(
                "home-assistant-exception-translation-key-missing",
                node=node,
                args=(key, domain),
            )
            return
        expected = placeholders(str(entry.get("message", "")))
        given_node = keyword(node, "translation_placeholders")
        given = set() if given_node is None else dict_keys(given_node)
        if given is not None and given != expected:
            self.add_message(
                "home-assistant-exception-placeholder-mismatch",
                node=node,
                args=(
                    key,
                    ", ".join(sorted(given)) or "(none)",
                    ", ".join(sorted(expected)) or "(none)",
                ),
            )


def register(linter: PyLinter) -> None:
    """Register the checker."""
    linter.register_checker(ExceptionTranslationsChecker(linter))
