"""``hass`` for development: only the integrations that can set up cleanly here.

``python -m simulator.devhass -c config --skip-pip`` takes Home Assistant's own
arguments and starts Home Assistant exactly as ``hass`` does, with one change:
the integrations Home Assistant always sets up (``bootstrap.DEFAULT_INTEGRATIONS``:
every entity platform, voice, camera, ...) lose those that cannot set up in this
venv, so they are not set up at all instead of failing.

Why: since 2026.10 the defaults include ``ai_task``, ``assist_satellite``,
``camera``, ``conversation``, ``image_processing``, ``infrared``,
``radio_frequency`` and ``tts``. Their packages (hassil, PyTurboJPEG,
ha-ffmpeg, rf-protocols, ...) are not test dependencies, ``--skip-pip`` keeps
Home Assistant from installing them into the shared venv, and ``camera`` and
``ffmpeg`` also need system parts (libturbojpeg, the ``ffmpeg`` binary). Each
failed setup logs an ERROR (some a traceback) and together they leave a
persistent "Invalid config" notification: noise that tells a newcomer something
is broken when nothing this integration uses is. Neither the dev config nor
this integration needs any of them.

An integration is left out when a package its manifest requires is not
installed, when it needs a system part that is missing, or when it depends on
one left out. Whatever can load still loads: install the packages (and the
system parts) and it is back. The config file cannot do this: Home Assistant
has no option to skip a default integration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
import ctypes.util
from functools import cache
import json
import logging
from pathlib import Path
import shutil
import sys
from typing import Any

# Integrations that import fine but fail at setup without a system part.
SYSTEM_PARTS: dict[str, tuple[str, Callable[[], bool]]] = {
    "camera": (
        "libturbojpeg",
        lambda: ctypes.util.find_library("turbojpeg") is not None,
    ),
    "ffmpeg": ("the ffmpeg binary", lambda: shutil.which("ffmpeg") is not None),
}


@cache
def _manifest(domain: str) -> dict[str, Any]:
    from homeassistant import components

    path = Path(components.__file__).parent / domain / "manifest.json"
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def why_not(domain: str, seen: frozenset[str] = frozenset()) -> str | None:
    """Why ``domain`` cannot set up here, or None when it can."""
    from homeassistant.util import package as pkg_util

    manifest = _manifest(domain)
    missing = [
        r for r in manifest.get("requirements", []) if not pkg_util.is_installed(r)
    ]
    if missing:
        return f"needs {', '.join(missing)}"
    if domain in SYSTEM_PARTS:
        part, present = SYSTEM_PARTS[domain]
        if not present():
            return f"needs {part}"
    for dependency in manifest.get("dependencies", []):
        if dependency in seen:
            continue
        if why_not(dependency, seen | {domain}) is not None:
            return f"depends on {dependency}"
    return None


def left_out(domains: Iterable[str]) -> dict[str, str]:
    """The domains that cannot set up here, with the reason."""
    reasons = {domain: why_not(domain) for domain in sorted(domains)}
    return {domain: reason for domain, reason in reasons.items() if reason is not None}


def _not_skip_pip_notice(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith("Skipping pip installation")


def main() -> int:
    """Start Home Assistant without the defaults that cannot set up here."""
    from homeassistant import bootstrap
    from homeassistant.__main__ import main as hass_main

    # scripts/develop passes --skip-pip on purpose (the shared .venv is not
    # Home Assistant's to change); its "may cause issues" warning comes before
    # the logger integration's filters apply, so it is dropped here.
    logging.getLogger("homeassistant.bootstrap").addFilter(_not_skip_pip_notice)

    defaults = getattr(bootstrap, "DEFAULT_INTEGRATIONS", None)
    if isinstance(defaults, set):
        skipped = left_out(defaults)
        defaults.difference_update(skipped)
        if skipped:
            print(
                "devhass: not setting up (not needed here): "
                + ", ".join(f"{d} ({r})" for d, r in skipped.items()),
                file=sys.stderr,
            )
    else:  # a Home Assistant that moved the set: start it unchanged
        print("devhass: bootstrap.DEFAULT_INTEGRATIONS not found", file=sys.stderr)
    return hass_main()


if __name__ == "__main__":
    sys.exit(main())
