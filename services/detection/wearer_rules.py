"""The wearer's device: SOS, battery, offline (Last Will or silence), lone-worker check-ins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.alerts import Severity
from services.detection.config import RuleConfig
from services.detection.episodes import Episodes, Source, Subject, make_raise
from services.detection.outcomes import Outcome, RuleId


def sos(src: Source, pressed: bool, pressed_before: bool) -> list[Outcome]:
    """The wearer pressed the SOS button: always critical, raised on every press, never cleared by data.

    A held button is one press (the frames of one press are consecutive seconds with ``sos``); a new press
    after a release raises again even while the first alert is open — the gateway counts it on that alert —
    because only a person may decide that an SOS is over. ``pressed_before`` is False when the previous second
    is unknown (first frame, or a frame older than the newest one seen), so an SOS is never lost.
    """
    if not pressed or pressed_before:
        return []
    return [make_raise(src, RuleId.SOS, Severity.CRITICAL, "SOS button pressed")]


def wearable_battery(episodes: Episodes, src: Source, battery_pct: float | None, cfg: RuleConfig) -> list[Outcome]:
    """Raise at ≤ ``wearable_battery_raise_pct``, clear at ≥ ``wearable_battery_clear_pct``."""
    if battery_pct is None:
        return []
    return episodes.hysteresis(
        src,
        RuleId.WEARABLE_BATTERY_LOW,
        raise_if=battery_pct <= cfg.wearable_battery_raise_pct,
        clear_if=battery_pct >= cfg.wearable_battery_clear_pct,
        severity=Severity.WARNING,
        message=f"Wearable battery low ({battery_pct:.0f} %): swap or charge the device",
        clear_reason=f"battery back to {battery_pct:.0f} %",
        details={"battery_pct": battery_pct},
    )


def offline_by_last_will(episodes: Episodes, src: Source) -> list[Outcome]:
    """The broker published the device's Last Will: its connection dropped without a clean goodbye."""
    return episodes.raise_(src, RuleId.WEARABLE_OFFLINE, Severity.WARNING,
                           "Wearable offline: connection lost (Last Will)", {"cause": "last_will"})  # fmt: skip


def offline_by_silence(episodes: Episodes, src: Source, last_frame_ts: datetime, silent_s: float) -> list[Outcome]:
    """No frame for ``silent_s`` seconds from a device that sends one a second."""
    return episodes.raise_(
        src, RuleId.WEARABLE_OFFLINE, Severity.WARNING, f"Wearable offline: no data for {silent_s:.0f} s",
        {"cause": "silence", "last_frame_ts": last_frame_ts.isoformat(), "silent_s": silent_s},
    )  # fmt: skip


def frames_resumed(episodes: Episodes, subject: Subject, at: datetime) -> list[Outcome]:
    return episodes.clear(subject, RuleId.WEARABLE_OFFLINE, at, "frames resumed")


@dataclass(slots=True)
class CheckinTrack:
    """When the lone worker's next check-in is counted from (gateway clock): the last one, or their first frame."""

    since: datetime | None = None


def checkin_seen(track: CheckinTrack, episodes: Episodes, subject: Subject, received_at: datetime,
                 checked_in: bool) -> list[Outcome]:  # fmt: skip
    """Book-keep a live frame: the first one starts the clock, a check-in restarts it and clears a missed one."""
    if track.since is None:
        track.since = received_at
    if not checked_in:
        return []
    track.since = received_at
    return episodes.clear(subject, RuleId.MISSED_CHECKIN, received_at, "the wearer checked in")


def checkin_due(track: CheckinTrack, episodes: Episodes, src: Source, now: datetime, cfg: RuleConfig) -> list[Outcome]:
    """A lone worker who has not checked in for ``checkin_interval_s``: call them (CNAMTS R416)."""
    if not cfg.lone_worker:
        return episodes.clear(src.subject, RuleId.MISSED_CHECKIN, now, "the crew no longer works alone")
    if track.since is None or (now - track.since).total_seconds() < cfg.checkin_interval_s:
        return []
    minutes = cfg.checkin_interval_s / 60.0
    return episodes.raise_(src, RuleId.MISSED_CHECKIN, Severity.WARNING,
                           f"Lone worker missed the {minutes:.0f}-min check-in: call them",
                           {"counted_since": track.since.isoformat()})  # fmt: skip
