"""``DetectionEngine.on_frames``: a batch judged with the fall detectors run together gives the same outcomes, in
the same order, as ``on_frame`` frame after frame (real ``FallDetector``s, mixed devices, late and repeated frames)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from services.detection import ConfigResolver, DetectionEngine, Outcome, Raise, heat_rules
from services.detection.engine import FrameInput
from services.model import Frame, Imu, Received
from tests.unit.test_detection_support import T0, ScriptedFalls, engine
from tests.unit.test_falls_support import Body, everyday, fall


def real_engine() -> DetectionEngine:
    return DetectionEngine(ConfigResolver().config_for)  # services.falls.FallDetector by default


def imu_seconds(acc: np.ndarray, rate_hz: int) -> list[Imu]:
    return [Imu(float(rate_hz), acc[k : k + rate_hz].astype(np.float32)) for k in range(0, len(acc), rate_hz)]


def device_frames(device_id: str, agent_id: str | None, imus: list[Imu | None], *, lag_s: float = 0.3,
                  late_from: int | None = None, sos_at: int | None = None,
                  cancel_at: int | None = None) -> list[Received]:  # fmt: skip
    out = []
    for seq, imu in enumerate(imus):
        ts = T0 + timedelta(seconds=seq)
        late = late_from is not None and seq >= late_from
        received_at = ts + timedelta(hours=1 if late else 0, seconds=lag_s)
        frame = Frame(device_id, seq, ts, imu=imu, hr_bpm=95.0, battery_pct=80.0 - seq / 10, sos=seq == sos_at,
                      cancel=seq == cancel_at)  # fmt: skip
        out.append(Received(frame, received_at, agent_id, late=late))
    return out


def fleet() -> list[list[Received]]:
    """Per device, the frames it sends, in the order it sends them."""
    walk, still = everyday("walking", 50).acc_ms2(), Body(50, 60.0).acc_ms2()
    falls = [fall(50, lead_s=0.3 * i, after_s=30.0).acc_ms2() for i in range(3)]
    devices = [device_frames(f"fall-{i}", f"agent-{i}", imu_seconds(acc, 50)) for i, acc in enumerate(falls)]
    devices.append(device_frames("fall-cancelled", "agent-c", imu_seconds(falls[0], 50), cancel_at=20))
    devices.append(device_frames("fall-100hz", "agent-h", imu_seconds(fall(100, after_s=30.0).acc_ms2(), 100)))
    devices.append(device_frames("walker", "agent-w", imu_seconds(walk, 50), sos_at=5))
    devices.append(device_frames("still", None, imu_seconds(still, 50)))
    devices.append(device_frames("no-imu", "agent-n", [None] * 30))
    buffered = device_frames("buffered-fall", "agent-b", imu_seconds(falls[1], 50), late_from=0)
    devices.append(buffered)
    gappy = device_frames("gappy", "agent-g", imu_seconds(falls[2], 50))
    devices.append(gappy[:5] + gappy[9:14] + [gappy[10], gappy[12]] + gappy[14:])  # a gap, then repeats
    return devices


def batches_in_time(devices: list[list[Received]]) -> list[list[Received]]:
    longest = max(len(d) for d in devices)
    return [[d[k] for d in devices if k < len(d)] for k in range(longest)]


def batches_at_random(devices: list[list[Received]], seed: int) -> list[list[Received]]:
    """Devices' frames interleaved at random (each device's in order), in batches of 1 to 40."""
    rng = np.random.default_rng(seed)
    owners = np.concatenate([np.full(len(d), i) for i, d in enumerate(devices)])
    rng.shuffle(owners)
    sent = [0] * len(devices)
    order = []
    for i in owners.tolist():
        order.append(devices[i][sent[i]])
        sent[i] += 1
    cuts = np.cumsum(rng.integers(1, 41, len(order))).tolist()
    return [order[a:b] for a, b in zip([0, *cuts], cuts, strict=False) if a < len(order)]


def inputs(batch: list[Received]) -> list[FrameInput]:
    return [FrameInput(r, "crew-a" if r.agent_id else None, 20.0, 1.5) for r in batch]


def frame_by_frame(detection: DetectionEngine, batch: list[Received]) -> list[Outcome]:
    return [o for item in inputs(batch) for o in detection.on_frame(*item)]


def judged_both_ways(batches: list[list[Received]]) -> tuple[list[list[Outcome]], list[list[Outcome]], DetectionEngine]:
    one, many = real_engine(), real_engine()
    by_frame, by_batch = [], []
    for batch in batches:
        by_frame.append(frame_by_frame(one, batch))
        by_batch.append(many.on_frames(inputs(batch)))
        now = max(r.received_at for r in batch if not r.late) if any(not r.late for r in batch) else T0
        by_frame[-1] += one.tick(now + timedelta(seconds=1))
        by_batch[-1] += many.tick(now + timedelta(seconds=1))
    assert one.tracked() == many.tracked()
    return by_frame, by_batch, many


def test_a_batch_judged_at_once_gives_the_outcomes_of_frame_after_frame():
    by_frame, by_batch, batched = judged_both_ways(batches_in_time(fleet()))

    assert by_batch == by_frame
    raised = [o for batch in by_frame for o in batch if isinstance(o, Raise)]
    assert {o.draft.rule for o in raised} >= {"fall", "sos"}  # falls (live and buffered) went through the detector
    assert sum(o.draft.rule == "fall" for o in raised) >= 4
    assert batched.fall_bank.vectorised > 2 * batched.fall_bank.one_by_one


@pytest.mark.parametrize("seed", range(4))
def test_any_batching_of_the_frames_gives_the_same_outcomes(seed):
    by_frame, by_batch, batched = judged_both_ways(batches_at_random(fleet(), seed))

    assert by_batch == by_frame
    assert batched.fall_bank.vectorised > 0


def test_a_frame_the_detector_refuses_fails_the_batch_where_on_frame_would():
    walk = everyday("walking", 50).acc_ms2()
    devices = [device_frames(f"d{i}", f"a{i}", imu_seconds(walk[:300], 50)) for i in range(3)]
    bad = devices[1][3]
    refused = Frame(bad.frame.device_id, bad.frame.seq, bad.frame.ts, imu=Imu(50.0, np.zeros((50, 2), np.float32)))
    devices[1][3] = Received(refused, bad.received_at, bad.agent_id)
    batches = batches_in_time(devices)
    for k, r in enumerate(device_frames("newcomer", "a9", imu_seconds(walk[:150], 50), lag_s=3.3)):
        shifted = Frame(r.frame.device_id, r.frame.seq, r.frame.ts + timedelta(seconds=3), imu=r.frame.imu)
        batches[3 + k].append(Received(shifted, r.received_at, r.agent_id))  # first seen in the refused batch
    one, many = real_engine(), real_engine()
    for k, batch in enumerate(batches):
        if k == 3:
            with pytest.raises(ValueError, match=r"\(n, 3\)"):
                frame_by_frame(one, batch)
            with pytest.raises(ValueError, match=r"\(n, 3\)"):
                many.on_frames(inputs(batch))
            assert one.tracked() == many.tracked() and "newcomer" not in many.tracked()[0]
            continue
        assert many.on_frames(inputs(batch)) == frame_by_frame(one, batch)
    assert one.tick(T0 + timedelta(seconds=60)) == many.tick(T0 + timedelta(seconds=60))


def retried_in_halves(judge: Callable[[list[Received]], list[Outcome]], batch: list[Received]) -> list[Outcome]:
    """As the ingest stores a batch: a failed one is retried in halves, a single failing frame dropped."""
    try:
        return judge(batch)
    except RuntimeError:
        if len(batch) == 1:
            return []
        return retried_in_halves(judge, batch[: len(batch) // 2]) + retried_in_halves(judge, batch[len(batch) // 2 :])


def test_a_rule_failing_midway_leaves_the_same_outcomes_once_the_batch_is_retried(monkeypatch):
    on_frame = heat_rules.on_frame

    def failing_for_the_walker(*args: Any) -> list[Outcome]:
        if args[3].device_id == "walker":  # a bug in a later rule, on one device's frames only
            raise RuntimeError("a rule failed")
        return on_frame(*args)

    monkeypatch.setattr(heat_rules, "on_frame", failing_for_the_walker)
    one, many = real_engine(), real_engine()
    by_frame, by_batch = [], []
    for batch in batches_in_time(fleet()):  # the devices after the walker: their frames judged on the retry
        by_frame += retried_in_halves(lambda b: frame_by_frame(one, b), batch)
        by_batch += retried_in_halves(lambda b: many.on_frames(inputs(b)), batch)

    assert by_batch == by_frame
    raised = {(o.draft.device_id, o.draft.rule) for o in by_frame if isinstance(o, Raise)}
    assert ("buffered-fall", "fall") in raised  # a fall of a device judged after the walker, so on the retry
    # The walker's failing frames were dropped, never retried: their kept fall events went once passed.
    assert many.pending_fall_frames == 0


def test_a_detector_of_another_kind_is_still_called_frame_by_frame():
    falls = ScriptedFalls()
    scripted = engine(falls=falls)
    assert scripted.on_frames([]) == []

    scripted.on_frames(inputs(device_frames("d1", "a1", imu_seconds(everyday("walking", 50).acc_ms2()[:150], 50))))

    assert falls.updates == 3
    assert scripted.fall_bank.vectorised + scripted.fall_bank.one_by_one == 0
