"""scripts/develop's clean start: which defaults are skipped, and the log check.

The start itself is checked by scripts/e2e (CI): it runs scripts/develop, fails
on a persistent notification after login and runs simulator.logcheck on the log.
"""

from __future__ import annotations

from pathlib import Path

from homeassistant import bootstrap
from homeassistant.util import package as pkg_util
import pytest

from simulator import devhass, logcheck
from simulator.devconfig import missing_ui_requirements, service_helper_domains

NOTICE = (
    "2026-12-02 00:25:05.212 WARNING (SyncWorker_0) [homeassistant.loader] We found "
    "a custom integration ttlock_gateway which has not been tested by Home Assistant."
)
# Lines of a real start with plain hass in a venv without the voice packages.
SETUP_FAILED = (
    "2026-12-02 00:09:01.591 ERROR (MainThread) [homeassistant.setup] Setup failed "
    "for 'radio_frequency': Unable to import component: No module named 'rf_protocols'"
)
FFMPEG = "2026-12-02 00:30:24.660 WARNING (MainThread) [haffmpeg.tools] Error starting FFmpeg."


def test_a_clean_start_passes_with_the_custom_integration_notice() -> None:
    log = f"{NOTICE}\n2026-12-02 00:25:05.867 DEBUG (MainThread) [x] fine\n"
    assert logcheck.problems(log) == []


@pytest.mark.parametrize(
    "line",
    [
        SETUP_FAILED,
        FFMPEG,
        "Traceback (most recent call last):",
        "2026-12-02 00:09:01.591 CRITICAL (MainThread) [homeassistant.core] boom",
        "2026-12-02 00:09:01.591 WARNING (MainThread) [custom_components.ttlock_gateway] x",
    ],
)
def test_tracebacks_errors_and_other_warnings_fail(line: str) -> None:
    assert logcheck.problems(f"{NOTICE}\n{line}\n") == [line]


def test_logcheck_command_exit_status(tmp_path: Path) -> None:
    clean = tmp_path / "clean.log"
    clean.write_text(NOTICE + "\n")
    dirty = tmp_path / "dirty.log"
    dirty.write_text(f"{NOTICE}\n{SETUP_FAILED}\n")
    assert logcheck.main([str(clean)]) == 0
    assert logcheck.main([str(dirty)]) == 1
    assert logcheck.main([str(tmp_path / "missing.log")]) == 1


@pytest.fixture
def everything_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every package installed, every system part present."""
    monkeypatch.setattr(pkg_util, "is_installed", lambda requirement: True)
    monkeypatch.setattr(
        devhass,
        "SYSTEM_PARTS",
        {
            name: (part, lambda: True)
            for name, (part, _) in devhass.SYSTEM_PARTS.items()
        },
    )


@pytest.mark.usefixtures("everything_installed")
def test_nothing_is_skipped_when_everything_can_load() -> None:
    assert devhass.left_out(bootstrap.DEFAULT_INTEGRATIONS) == {}


@pytest.mark.usefixtures("everything_installed")
def test_a_missing_package_skips_the_integration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        pkg_util,
        "is_installed",
        lambda requirement: not requirement.startswith("rf-protocols"),
    )
    skipped = devhass.left_out(bootstrap.DEFAULT_INTEGRATIONS)
    assert list(skipped) == ["radio_frequency"]
    assert skipped["radio_frequency"].startswith("needs rf-protocols==")


@pytest.mark.usefixtures("everything_installed")
def test_a_missing_system_part_skips_it_and_what_depends_on_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(
        devhass.SYSTEM_PARTS, "ffmpeg", ("the ffmpeg binary", lambda: False)
    )
    assert devhass.why_not("ffmpeg") == "needs the ffmpeg binary"
    assert devhass.why_not("tts") == "depends on ffmpeg"
    skipped = devhass.left_out(bootstrap.DEFAULT_INTEGRATIONS)
    # tts and assist_satellite are defaults (base platforms); ffmpeg is only a
    # dependency, so it is never set up on its own.
    assert {"tts", "assist_satellite"} <= set(skipped)
    assert "lock" not in skipped
    assert "frontend" not in skipped


def test_the_ui_packages_are_read_from_the_service_helper() -> None:
    domains = service_helper_domains()
    # Home Assistant 2026.10's helpers/service.py imports these for features.
    assert {"ai_task", "assist_satellite", "camera", "lock"} <= set(domains)
    assert all(isinstance(r, str) and "==" in r for r in missing_ui_requirements())
