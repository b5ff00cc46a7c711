"""The accident-risk rule engine: frames, robot states, device links and the clock in; outcomes out.

Stateful but pure: no I/O, no clock of its own (``tick(now)`` brings the time), per-device and per-subject
state in small dataclasses. Data-driven rules run in ``on_frame`` / ``on_robot_state``; time-driven ones
(the fall cancel window, offline by silence, missed check-ins, no motion) in ``tick``.

Time: timers run on the gateway's clock (``received_at``, ``now``), value runs on the frames' own time.
Late (backfilled) frames may raise — marked late — but never start a timer: no confirmation, offline,
check-in or no-motion judgement comes from history. Stateful rules judge each device's frames in time order:
a frame older than the newest one already judged only counts for SOS.

``on_frames`` judges a batch as ``on_frame`` frame after frame would, with every device's fall detector run
first, all together (``services.falls_batch``): a detector's state depends on its own frames only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from services.alerts import SubjectType
from services.detection import exposure_rules, fall_rules, heat_rules, robot_rules, wearer_rules
from services.detection.config import RuleConfig
from services.detection.episodes import Episodes, Source, Subject
from services.detection.exposure_rules import HavTrack, LiftTrack, NoiseTrack
from services.detection.fall_rules import FallDetectorLike, FallTrack, MotionTrack
from services.detection.heat_rules import CoreTempEstimate, HeatTrack
from services.detection.outcomes import Outcome
from services.detection.wearer_rules import CheckinTrack
from services.exposure.heat_strain import CoreTempFilter
from services.falls import FallDetector, FallEvent
from services.falls_batch import FallDetectorBank, FallFrame, RefusedFrame
from services.model import DeviceLink, Received, RobotState


class FrameInput(NamedTuple):
    """One wearable frame and its context, the arguments of ``DetectionEngine.on_frame``."""

    received: Received
    crew_id: str | None = None
    wbgt_ref_c: float | None = None
    hav_points_today: float | None = None


@dataclass(slots=True)
class _Device:
    """One wearable: its fall detector (one IMU stream, in order), what it last sent, where its offline alerts went."""

    detector: FallDetectorLike
    latest_ts: datetime | None = None
    sos_pressed: bool = False
    last_live_at: datetime | None = None
    last_live_ts: datetime | None = None
    wearer: Source | None = None
    crew_id: str | None = None
    offline: set[Subject] = field(default_factory=set)


@dataclass(slots=True)
class _Wearer:
    """One subject of wearable alerts (an agent, or an unassigned device) and every rule's running state."""

    src: Source
    crew_id: str | None
    heat: HeatTrack
    fall: FallTrack = field(default_factory=FallTrack)
    motion: MotionTrack = field(default_factory=MotionTrack)
    noise: NoiseTrack = field(default_factory=NoiseTrack)
    lifts: LiftTrack = field(default_factory=LiftTrack)
    hav: HavTrack = field(default_factory=HavTrack)
    checkin: CheckinTrack = field(default_factory=CheckinTrack)


class DetectionEngine:
    """Per-subject accident-risk rules with hysteresis; ``config_for(crew_id)`` gives each crew's thresholds."""

    def __init__(
        self,
        config_for: Callable[[str | None], RuleConfig],
        fall_detector_factory: Callable[[], FallDetectorLike] = FallDetector,
        core_temp: Callable[[], CoreTempEstimate] = CoreTempFilter,
    ) -> None:
        self._config_for = config_for
        self._new_detector = fall_detector_factory
        self._new_core_temp = core_temp
        self._episodes = Episodes()
        self._devices: dict[str, _Device] = {}
        self._wearers: dict[Subject, _Wearer] = {}
        self._robot_ts: dict[str, datetime] = {}
        self.fall_bank = FallDetectorBank()
        self._unjudged: dict[tuple[str, datetime], list[FallEvent]] = {}  # see ``on_frames``

    def tracked(self) -> tuple[frozenset[str], frozenset[str]]:
        """The devices and robots this engine holds state for (with several ingest workers: the ones it owns)."""
        return frozenset(self._devices), frozenset(self._robot_ts)

    def on_frame(self, received: Received, crew_id: str | None, wbgt_ref_c: float | None = None,
                 hav_points_today: float | None = None) -> list[Outcome]:  # fmt: skip
        """Judge one wearable frame; ``wbgt_ref_c`` is the agent's ISO 7243 reference, ``hav_points_today``
        today's HSE points from the ledger (None when unknown)."""
        return self._on_frame(FrameInput(received, crew_id, wbgt_ref_c, hav_points_today), None)

    def on_frames(self, frames: Sequence[FrameInput]) -> list[Outcome]:
        """``on_frame`` of each frame in turn (the same outcomes, in the same order), fall detectors batched.

        Should a rule raise midway, the detectors have already taken the frames not judged yet: their events are
        kept for when those frames come again (the ingest retries a failed batch), as ``on_frame`` would find them.
        """
        newest: dict[str, datetime | None] = {}
        created = [f.received.frame.device_id for f in frames if f.received.frame.device_id not in self._devices]
        jobs: list[FallFrame] = []
        at: list[int] = []
        found: dict[int, list[FallEvent]] = {}
        for k, f in enumerate(frames):  # which frames ``on_frame`` will give the detector: the in-order ones
            frame, device = f.received.frame, self._device(f.received.frame.device_id)
            latest = newest.get(frame.device_id, device.latest_ts)
            if latest is None or frame.ts > latest:
                newest[frame.device_id] = frame.ts
                if self._unjudged and (frame.device_id, frame.ts) in self._unjudged:
                    found[k] = self._unjudged[(frame.device_id, frame.ts)]
                elif frame.imu is not None and isinstance(device.detector, FallDetector):
                    jobs.append(FallFrame(device.detector, frame.ts, frame.imu.acc_ms2, frame.imu.rate_hz))
                    at.append(k)
        try:
            found.update(zip(at, self.fall_bank.update(jobs), strict=True))
        except RefusedFrame:  # no detector moved: fail where ``on_frame`` would, after the frames before it
            for device_id in created:
                self._devices.pop(device_id, None)
        out: list[Outcome] = []
        k = 0
        try:
            for k, f in enumerate(frames):
                out += self._on_frame(f, found.get(k))
        except BaseException:
            self._unjudged.update({(frames[i].received.frame.device_id, frames[i].received.frame.ts): events
                                   for i, events in found.items() if i >= k})  # fmt: skip
            raise
        if self._unjudged:
            for i in found:
                self._unjudged.pop((frames[i].received.frame.device_id, frames[i].received.frame.ts), None)
            self._forget_unjudged_passed()
        return out

    @property
    def pending_fall_frames(self) -> int:
        """Frames whose fall events wait for a retry of the batch that failed on them (see ``on_frames``)."""
        return len(self._unjudged)

    def _forget_unjudged_passed(self) -> None:
        """Drop the kept events of frames no retry can bring back to the detector: their device has since judged a
        frame at or after them (a retried frame that old is out of order, and out-of-order frames skip the
        detector), or is gone. Without this, a frame never retried (dropped as poison) would stay for good."""
        for device_id, ts in list(self._unjudged):
            device = self._devices.get(device_id)
            if device is None or (device.latest_ts is not None and ts <= device.latest_ts):
                del self._unjudged[(device_id, ts)]

    def _on_frame(self, item: FrameInput, fall_events: list[FallEvent] | None) -> list[Outcome]:
        """``on_frame``; ``fall_events``: what the frame's fall detector gave, when already run (``on_frames``)."""
        received, crew_id, wbgt_ref_c, hav_points_today = item
        cfg = self._config_for(crew_id)
        frame, episodes, src = received.frame, self._episodes, Source.of(received)
        device = self._device(frame.device_id)
        wearer = self._wearer(src, crew_id)
        in_order = device.latest_ts is None or frame.ts > device.latest_ts
        out = wearer_rules.sos(src, frame.sos, device.sos_pressed and in_order)
        out += fall_rules.expire(wearer.fall, episodes, src.subject, received.received_at, cfg)
        if not received.late:
            out += self._seen_live(device, wearer, received, src, crew_id)
        if hav_points_today is not None:
            out += exposure_rules.hav_points(wearer.hav, episodes, src, hav_points_today, cfg)
        if not in_order:
            return out
        device.latest_ts, device.sos_pressed = frame.ts, frame.sos
        out += fall_rules.buffered_window_over(wearer.fall, episodes, src)
        if frame.imu is not None:
            imu = frame.imu
            events = fall_events if fall_events is not None else device.detector.update(
                frame.ts, imu.acc_ms2, imu.gyr_rads, imu.rate_hz)  # fmt: skip
            out += fall_rules.on_events(wearer.fall, episodes, src, events, received.received_at, cfg)
            if not received.late:
                motion_ms2 = fall_rules.frame_motion_ms2(imu)
                out += fall_rules.on_motion(wearer.motion, wearer.fall, episodes, src, received.received_at,
                                            motion_ms2, cfg)  # fmt: skip
        if frame.cancel:
            out += fall_rules.on_cancel(wearer.fall, episodes, src)
        out += heat_rules.on_frame(wearer.heat, episodes, src, frame, wbgt_ref_c, cfg)
        out += exposure_rules.noise_peak(wearer.noise, episodes, src, frame, cfg)
        out += exposure_rules.lifting(wearer.lifts, episodes, src, frame, cfg)
        out += wearer_rules.wearable_battery(episodes, src, frame.battery_pct, cfg)
        return out

    def on_robot_state(self, state: RobotState, late: bool, crew_id: str | None) -> list[Outcome]:
        """Judge one robot state (states older than the newest one judged are ignored)."""
        newest = self._robot_ts.get(state.robot_id)
        if newest is not None and state.ts <= newest:
            return []
        self._robot_ts[state.robot_id] = state.ts
        src = Source(Subject(SubjectType.ROBOT, state.robot_id), state.ts, late, robot_id=state.robot_id)
        return robot_rules.on_state(self._episodes, src, state, self._config_for(crew_id))

    def on_link(self, device_id: str, agent_id: str | None, link: DeviceLink, at: datetime) -> list[Outcome]:
        """The device's retained status: ``offline`` is its Last Will (raise); ``online`` waits for frames."""
        if link is not DeviceLink.OFFLINE:
            return []
        device = self._device(device_id)
        subject = Subject(SubjectType.AGENT, agent_id) if agent_id else Subject(SubjectType.DEVICE, device_id)
        device.offline.add(subject)
        return wearer_rules.offline_by_last_will(self._episodes, Source(subject, at, False, agent_id, device_id))

    def tick(self, now: datetime) -> list[Outcome]:
        """Time-driven rules at ``now`` (gateway clock): call it every second or so."""
        out: list[Outcome] = []
        for device in self._devices.values():
            if device.last_live_at is None or device.last_live_ts is None or device.wearer is None:
                continue
            silent_s = (now - device.last_live_at).total_seconds()
            if silent_s >= self._config_for(device.crew_id).offline_after_s:
                device.offline.add(device.wearer.subject)
                out += wearer_rules.offline_by_silence(self._episodes, device.wearer.at(now), device.last_live_ts,
                                                       silent_s)  # fmt: skip
        for wearer in self._wearers.values():
            cfg, src = self._config_for(wearer.crew_id), wearer.src.at(now)
            out += fall_rules.expire(wearer.fall, self._episodes, src.subject, now, cfg)
            out += fall_rules.still_too_long(wearer.motion, wearer.fall, self._episodes, src, now, cfg)
            out += wearer_rules.checkin_due(wearer.checkin, self._episodes, src, now, cfg)
        return out

    def _seen_live(self, device: _Device, wearer: _Wearer, received: Received, src: Source,
                   crew_id: str | None) -> list[Outcome]:  # fmt: skip
        out: list[Outcome] = []
        for subject in sorted(device.offline, key=lambda s: (s.type.value, s.id)):
            out += wearer_rules.frames_resumed(self._episodes, subject, received.received_at)
        device.offline.clear()
        if device.last_live_at is None or received.received_at >= device.last_live_at:
            device.last_live_at, device.wearer, device.crew_id = received.received_at, src, crew_id
        if device.last_live_ts is None or received.frame.ts > device.last_live_ts:
            device.last_live_ts = received.frame.ts
        # ``checkin`` joins the frame contract; until ``Frame`` has the field, no frame checks in.
        checked_in = bool(getattr(received.frame, "checkin", False))
        if (checked_in or received.frame.cancel) and wearer.motion.still_since is not None:
            wearer.motion.still_since = received.received_at  # pressing a button is a sign of life
        out += wearer_rules.checkin_seen(wearer.checkin, self._episodes, src.subject, received.received_at,
                                         checked_in)  # fmt: skip
        return out

    def _device(self, device_id: str) -> _Device:
        device = self._devices.get(device_id)
        if device is None:
            device = self._devices[device_id] = _Device(self._new_detector())
        return device

    def _wearer(self, src: Source, crew_id: str | None) -> _Wearer:
        wearer = self._wearers.get(src.subject)
        if wearer is None:
            wearer = self._wearers[src.subject] = _Wearer(src.at(src.ts), crew_id, HeatTrack(self._new_core_temp()))
        elif not src.late:
            wearer.src, wearer.crew_id = src.at(src.ts), crew_id
        return wearer
