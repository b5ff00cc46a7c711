"""Falls and man-down: a suspected fall the wearer may cancel, its confirmation, and motionless wearers.

A fall suspected on live data opens an episode and a cancel window (``fall_cancel_window_s``, gateway clock):
a ``cancel`` frame within it resolves the alert as a false alarm (``Cancel``); otherwise the window's end
escalates it to a man-down alarm (``Confirm``). Once confirmed, the wearer's cancel or their moving again for
``motion_clear_s`` ends the episode (``Clear``). A fall found in buffered (late) data starts no timer: the
same window is judged in the frames' own time, ending in ``Cancel`` or, when the buffered data holds no
cancel, ``Clear`` ("check on the wearer"); the live no-motion rule still watches the wearer.

Man-down (no motion) comes from the detector's ``no_motion`` event, or from ``no_motion_raise_s`` of still
live frames; it is not raised while a live fall episode is open (its confirmation is the man-down alarm).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from services.alerts import Severity
from services.detection.config import RuleConfig
from services.detection.episodes import Episodes, Source, Subject
from services.detection.outcomes import DetailValue, Outcome, RuleId
from services.falls import FallEvent, FallEventKind
from services.model import Imu

FRAME = timedelta(seconds=1)  # contract v1: one frame covers one second
STAGE_MEMORY = timedelta(seconds=60)  # stages older than this before a suspicion belong to something else
_STAGES = (FallEventKind.IMPACT, FallEventKind.LYING, FallEventKind.INACTIVE)


class FallDetectorLike(Protocol):
    """What the engine needs of ``services.falls.FallDetector``: one stream of IMU frames per device, in order."""

    def update(self, ts: datetime, acc_ms2: npt.NDArray[Any], gyr_rads: npt.NDArray[Any] | None,
               rate_hz: float) -> Sequence[FallEvent]: ...  # fmt: skip


def frame_motion_ms2(imu: Imu) -> float:
    """Standard deviation of the acceleration norm over the frame (m/s²): near 0 for a motionless body."""
    norm = imu.acc_norm_ms2()
    return float(np.std(norm)) if norm.size else 0.0


@dataclass(slots=True)
class MotionTrack:
    """Live motion: still and moving runs (gateway clock for the still run, frame time for the moving run)."""

    still_since: datetime | None = None
    last_imu_at: datetime | None = None
    moving_since: datetime | None = None


@dataclass(slots=True)
class FallTrack:
    """The stages seen before a suspicion, and the open episode's timer (gateway clock or, buffered, frame time)."""

    stages: dict[FallEventKind, FallEvent] = field(default_factory=dict)
    confirm_at: datetime | None = None
    confirmed: bool = False
    buffered_deadline_ts: datetime | None = None

    def live_open(self, episodes: Episodes, subject: Subject) -> bool:
        return episodes.is_open(subject, RuleId.FALL) and self.buffered_deadline_ts is None

    def close(self) -> None:
        self.confirm_at, self.confirmed, self.buffered_deadline_ts = None, False, None


def on_events(track: FallTrack, episodes: Episodes, src: Source, events: Sequence[FallEvent],
              received_at: datetime, cfg: RuleConfig) -> list[Outcome]:  # fmt: skip
    """Apply the detector's events of one frame: remember stages, raise a suspected fall or a man-down."""
    out: list[Outcome] = []
    for event in events:
        if event.kind in _STAGES:
            track.stages[event.kind] = event
        elif event.kind == FallEventKind.FALL_SUSPECTED:
            out += _suspect(track, episodes, replace(src, ts=event.ts), event, received_at, cfg)
        elif event.kind == FallEventKind.NO_MOTION and not track.live_open(episodes, src.subject):
            details: dict[str, DetailValue] = {"source": "detector", "detail": event.detail}
            out += episodes.raise_(replace(src, ts=event.ts), RuleId.MAN_DOWN, Severity.CRITICAL,
                                   "Man down: no motion detected", details)  # fmt: skip
    return out


def _suspect(track: FallTrack, episodes: Episodes, src: Source, event: FallEvent, received_at: datetime,
             cfg: RuleConfig) -> list[Outcome]:  # fmt: skip
    stages = [e for e in (*track.stages.values(), event) if e.ts >= event.ts - STAGE_MEMORY]
    track.stages.clear()
    if episodes.is_open(src.subject, RuleId.FALL):
        return []
    window_s = cfg.fall_cancel_window_s
    details: dict[str, DetailValue] = {f"{e.kind.value}_ts": e.ts.isoformat() for e in stages}
    details["cancel_window_s"] = window_s
    peaks = [e.peak_acc_ms2 for e in stages if e.peak_acc_ms2 is not None]
    if peaks:
        details["peak_acc_ms2"] = max(peaks)
    if event.detail:
        details["detail"] = event.detail
    if src.late:
        message = f"Fall suspected in buffered data (the wearer had {window_s:.0f} s to cancel)"
        track.confirm_at, track.buffered_deadline_ts = None, event.ts + timedelta(seconds=window_s)
    else:
        message = f"Fall suspected: waiting {window_s:.0f} s for the wearer to cancel"
        track.confirm_at, track.buffered_deadline_ts = received_at + timedelta(seconds=window_s), None
    track.confirmed = False
    return episodes.raise_(src, RuleId.FALL, Severity.WARNING, message, details)


def expire(track: FallTrack, episodes: Episodes, subject: Subject, now: datetime, cfg: RuleConfig) -> list[Outcome]:
    """The cancel window of a live suspicion has passed without a cancel: man-down alarm."""
    if track.confirm_at is None or now < track.confirm_at or not episodes.is_open(subject, RuleId.FALL):
        return []
    at, track.confirm_at, track.confirmed = track.confirm_at, None, True
    message = f"Man down: fall not cancelled within {cfg.fall_cancel_window_s:.0f} s"
    return episodes.confirm(subject, RuleId.FALL, at, message, Severity.CRITICAL)


def buffered_window_over(track: FallTrack, episodes: Episodes, src: Source) -> list[Outcome]:
    """An in-order frame past a buffered suspicion's window, without a cancel in it: end the episode.

    Judged before the frame's own events, so a live suspicion in the same frame opens a live episode.
    """
    deadline = track.buffered_deadline_ts
    if deadline is None or src.ts <= deadline or not episodes.is_open(src.subject, RuleId.FALL):
        return []
    track.close()
    reason = "buffered data hold no cancel within the window: check on the wearer"
    return episodes.clear(src.subject, RuleId.FALL, src.ts, reason)


def on_cancel(track: FallTrack, episodes: Episodes, src: Source) -> list[Outcome]:
    """The wearer pressed cancel (an in-order frame): a false alarm within the window, else the alarm is over."""
    subject = src.subject
    if not episodes.is_open(subject, RuleId.FALL):
        return []
    by = src.agent_id or src.device_id or subject.id
    deadline, confirmed = track.buffered_deadline_ts, track.confirmed
    track.close()
    if deadline is not None or not confirmed:  # a buffered window still open here, or a live one not yet expired
        return episodes.cancel(subject, RuleId.FALL, src.ts, by)
    return episodes.clear(subject, RuleId.FALL, src.ts, "the wearer pressed cancel after the man-down alarm")


def on_motion(motion: MotionTrack, track: FallTrack, episodes: Episodes, src: Source, received_at: datetime,
              motion_ms2: float, cfg: RuleConfig) -> list[Outcome]:  # fmt: skip
    """A live IMU frame: extend the still or the moving run; moving long enough ends a man-down."""
    motion.last_imu_at = received_at
    if motion_ms2 < cfg.motion_acc_std_ms2:
        motion.moving_since = None
        if motion.still_since is None:
            motion.still_since = received_at
        return []
    motion.still_since = None
    if motion.moving_since is None:
        motion.moving_since = src.ts
    if (src.ts + FRAME - motion.moving_since).total_seconds() < cfg.motion_clear_s:
        return []
    out = episodes.clear(src.subject, RuleId.MAN_DOWN, src.ts, "the wearer is moving again")
    if track.confirmed and track.live_open(episodes, src.subject):
        track.close()
        out += episodes.clear(src.subject, RuleId.FALL, src.ts, "the wearer is moving again after the man-down alarm")
    return out


def still_too_long(motion: MotionTrack, track: FallTrack, episodes: Episodes, src: Source, now: datetime,
                   cfg: RuleConfig) -> list[Outcome]:  # fmt: skip
    """Man-down when live frames have shown no motion for ``no_motion_raise_s`` (and are still arriving)."""
    if motion.still_since is None or motion.last_imu_at is None:
        return []
    if (now - motion.last_imu_at).total_seconds() > cfg.offline_after_s:
        return []  # no fresh data: the offline rule's business, not a judgement on motion
    still_s = (now - motion.still_since).total_seconds()
    if still_s < cfg.no_motion_raise_s or track.live_open(episodes, src.subject):
        return []
    return episodes.raise_(src, RuleId.MAN_DOWN, Severity.CRITICAL, f"Man down: no motion for {still_s:.0f} s",
                           {"source": "no_motion_timer", "still_since": motion.still_since.isoformat()})  # fmt: skip
