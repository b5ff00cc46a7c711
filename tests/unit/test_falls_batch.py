"""``FallDetectorBank``: a batch of many devices' frames gives, frame by frame, exactly what each device's own
``FallDetector.update`` gives, and leaves every detector in exactly the same state (filtered samples bit for bit).

Synthetic streams always run; the SisFall dev split runs when it is beside the project (see the README).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

from services.falls import DEFAULT_FALL_PARAMS, FallDetector, FallEvent, FallEventKind, FallParams, motion_std_ms2
from services.falls_batch import FallDetectorBank, FallFrame, RefusedFrame
from tests.unit.test_falls_support import T0, Body, everyday, fall

SISFALL_DEV = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "falls" / "sisfall_dev.npz"
QUICK_NO_MOTION = replace(DEFAULT_FALL_PARAMS, no_motion_s=10.0)
EVEN_TAPS = replace(DEFAULT_FALL_PARAMS, lowpass_taps=20)  # never vectorised: its context is not len(taps) - 1


class Sent(NamedTuple):
    ts: datetime
    acc_ms2: np.ndarray
    rate_hz: float


class Device(NamedTuple):
    name: str
    params: FallParams
    frames: list[Sent]


def frames(acc: np.ndarray, rate_hz: float, *, start: datetime = T0, frame_s: float = 1.0) -> list[Sent]:
    per_frame = round(rate_hz * frame_s)
    return [Sent(start + timedelta(seconds=k / rate_hz), acc[k : k + per_frame], rate_hz)
            for k in range(0, len(acc), per_frame)]  # fmt: skip


def changing_rate() -> list[Sent]:
    """A fall recorded at 100 Hz, sent at 50 Hz for 6 s, at 100 Hz for 4 s, then at 25 Hz."""
    acc = fall(100).acc_ms2()
    return (frames(acc[:600:2], 50) + frames(acc[600:1000], 100, start=T0 + timedelta(seconds=6))
            + frames(acc[1000::4], 25, start=T0 + timedelta(seconds=10)))  # fmt: skip


def jittered(rate_hz: int) -> list[Sent]:
    jitter_s = np.random.default_rng(3).uniform(-0.005, 0.005, 40)
    return [Sent(s.ts + timedelta(seconds=jitter_s[k]), s.acc_ms2, s.rate_hz)
            for k, s in enumerate(frames(fall(rate_hz).acc_ms2(), rate_hz))]  # fmt: skip


def with_repeats() -> list[Sent]:
    """A fall whose device re-sends a frame it already sent, then one from further back (out of order)."""
    sent = frames(fall(50).acc_ms2(), 50)
    return [*sent[:6], sent[4], *sent[6:9], sent[2], sent[8], *sent[9:]]


def odd_sizes() -> list[Sent]:
    """Frames of 25, 0, 10 and 15 samples on the 50 Hz grid, then whole seconds."""
    acc, out, k = fall(50).acc_ms2(), [], 0
    for size in [50, 50, 25, 25, 0, 10, 15, 50, 25, 25, *[50] * 20]:
        out.append(Sent(T0 + timedelta(seconds=k / 50), acc[k : k + size], 50))
        k += size
    return out


def synthetic_fleet() -> list[Device]:
    """Falls, everyday movements and stillness at 25, 50 and 100 Hz, with gaps, repeats and rate changes."""
    fleet = [Device(f"fall lead {lead}", DEFAULT_FALL_PARAMS, frames(fall(50, lead_s=lead).acc_ms2(), 50))
             for lead in (0.0, 0.37, 0.81)]  # fmt: skip
    fleet += [Device(f"fall at {rate} Hz", DEFAULT_FALL_PARAMS, frames(fall(rate).acc_ms2(), rate))
              for rate in (25, 100)]  # fmt: skip
    fleet += [Device(kind, DEFAULT_FALL_PARAMS, frames(everyday(kind, 50).acc_ms2(), 50))
              for kind in ("walking", "jumping", "jogging", "sitting down hard")]  # fmt: skip
    bouncing = fall(50, after_s=40.0).pulse(9.3, 0.1, 3.5).pulse(12.0, 0.1, 2.5).pulse(45.0, 0.15, 6.0)
    fleet.append(Device("bouncing, then a second impact", DEFAULT_FALL_PARAMS, frames(bouncing.acc_ms2(), 50)))
    two_falls = np.concatenate((fall(50, after_s=35.0).acc_ms2(), fall(50).acc_ms2()))
    fleet.append(Device("two falls", DEFAULT_FALL_PARAMS, frames(two_falls, 50)))
    fleet.append(Device("still", QUICK_NO_MOTION, frames(Body(50, 45.0).acc_ms2(), 50)))
    fleet.append(Device("still, walks, still", QUICK_NO_MOTION, frames(Body(50, 45.0).walk(15.0, 20.0).acc_ms2(), 50)))
    lost = frames(fall(50).acc_ms2(), 50)
    fleet.append(Device("a lost frame", DEFAULT_FALL_PARAMS, lost[:9] + lost[10:]))
    gap = frames(everyday("walking", 50).acc_ms2()[:500], 50)
    gap += frames(fall(50).acc_ms2(), 50, start=T0 + timedelta(seconds=300))
    fleet.append(Device("a long gap", DEFAULT_FALL_PARAMS, gap))
    fleet += [Device("repeats", DEFAULT_FALL_PARAMS, with_repeats()),
              Device("changing rate", DEFAULT_FALL_PARAMS, changing_rate()),
              Device("jitter", DEFAULT_FALL_PARAMS, jittered(50)),
              Device("odd sizes", DEFAULT_FALL_PARAMS, odd_sizes()),
              Device("half-second frames", DEFAULT_FALL_PARAMS, frames(fall(50).acc_ms2(), 50, frame_s=0.5)),
              Device("still, at 100 Hz", QUICK_NO_MOTION, frames(Body(100, 30.0).acc_ms2(), 100)),
              Device("an even filter", EVEN_TAPS, frames(fall(50).acc_ms2(), 50))]  # fmt: skip
    return fleet


def one_by_one(fleet: Sequence[Device]) -> tuple[list[list[list[FallEvent]]], list[FallDetector]]:
    """The reference: each device's frames through its own detector's ``update``; events per frame, detectors."""
    out, detectors = [], [FallDetector(device.params) for device in fleet]
    for device, detector in zip(fleet, detectors, strict=True):
        out.append([detector.update(s.ts, s.acc_ms2, None, s.rate_hz) for s in device.frames])
    return out, detectors


def batches_in_time(fleet: Sequence[Device]) -> list[list[tuple[int, int]]]:
    """The gateway's usual batch: the k-th frame of every device, (device, frame) pairs."""
    longest = max(len(d.frames) for d in fleet)
    return [[(d, k) for d in range(len(fleet)) if k < len(fleet[d].frames)] for k in range(longest)]


def batches_at_random(fleet: Sequence[Device], seed: int) -> list[list[tuple[int, int]]]:
    """Devices' frames interleaved at random (each device's in order), cut into batches of 1 to 60 frames."""
    rng = np.random.default_rng(seed)
    owners = np.concatenate([np.full(len(d.frames), i) for i, d in enumerate(fleet)])
    rng.shuffle(owners)
    sent = [0] * len(fleet)
    order = []
    for d in owners.tolist():
        order.append((d, sent[d]))
        sent[d] += 1
    cuts = np.cumsum(rng.integers(1, 61, len(order)))
    return [order[a:b] for a, b in zip([0, *cuts.tolist()], cuts.tolist(), strict=False) if a < len(order)]


Run = tuple[list[list[list[FallEvent]]], list[FallDetector], FallDetectorBank]


def through_bank(fleet: Sequence[Device], batches: list[list[tuple[int, int]]], check_each_batch: bool = False) -> Run:
    """Each batch through one bank: events per device and frame, the detectors, the bank (and its counts)."""
    detectors = [FallDetector(d.params) for d in fleet]
    reference = [FallDetector(d.params) for d in fleet] if check_each_batch else []
    bank = FallDetectorBank()
    out: list[list[list[FallEvent]]] = [[] for _ in fleet]
    for batch in batches:
        sent = [fleet[d].frames[k] for d, k in batch]
        found = bank.update([FallFrame(detectors[d], s.ts, s.acc_ms2, s.rate_hz)
                             for (d, _), s in zip(batch, sent, strict=True)])  # fmt: skip
        for (d, _), events in zip(batch, found, strict=True):
            out[d].append(events)
        for (d, _), s in zip(batch, sent, strict=True) if check_each_batch else ():
            reference[d].update(s.ts, s.acc_ms2, None, s.rate_hz)
        for d in {d for d, _ in batch} if check_each_batch else ():
            assert_same_state(detectors[d], reference[d])
    return out, detectors, bank


def same(a: Any, b: Any) -> bool:
    """Equal, arrays bit for bit (shape, dtype, values), through tuples, lists and objects' attributes."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True))  # fmt: skip
    if isinstance(a, tuple | list):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if type(a).__module__ in ("services.falls", "services.falls_stream") and hasattr(a, "__dict__"):
        return type(a) is type(b) and same(sorted(vars(a).items()), sorted(vars(b).items()))
    return bool(a == b)


def assert_same_state(detector: FallDetector, reference: FallDetector) -> None:
    assert same(detector, reference)
    assert np.abs(detector._acc - reference._acc).max(initial=0.0) <= 1e-12  # the filtered buffer


def test_a_batch_of_many_devices_gives_each_frame_what_its_own_detector_gives():
    fleet = synthetic_fleet()
    expected, references = one_by_one(fleet)
    found, detectors, bank = through_bank(fleet, batches_in_time(fleet), check_each_batch=True)

    assert found == expected
    kinds = {e.kind for device in expected for frame in device for e in frame}
    assert kinds == set(FallEventKind)  # every stage and both alarms were on the line
    assert bank.vectorised > 3 * bank.one_by_one  # and most frames went the vectorised way
    for detector, reference in zip(detectors, references, strict=True):
        assert_same_state(detector, reference)


@pytest.mark.parametrize("seed", range(6))
def test_any_interleaving_and_batch_size_gives_the_same_events_and_state(seed):
    fleet = synthetic_fleet()
    expected, references = one_by_one(fleet)
    found, detectors, bank = through_bank(fleet, batches_at_random(fleet, seed))

    assert found == expected
    assert bank.vectorised > bank.one_by_one
    for detector, reference in zip(detectors, references, strict=True):
        assert_same_state(detector, reference)


def test_a_frame_the_detector_refuses_stops_the_batch_before_any_detector_moves():
    detectors = [FallDetector(), FallDetector()]
    acc = everyday("walking", 50).acc_ms2()
    bank = FallDetectorBank()
    bank.update([FallFrame(d, T0, acc[:50], 50) for d in detectors])
    before = [(d._acc.copy(), d.stream.next_index) for d in detectors]

    with pytest.raises(RefusedFrame, match=r"\(n, 3\)"):
        bank.update([FallFrame(detectors[0], T0 + timedelta(seconds=1), acc[50:100], 50),
                     FallFrame(detectors[1], T0 + timedelta(seconds=1), acc[50:100, :2], 50)])  # fmt: skip
    for detector, (acc_before, next_before) in zip(detectors, before, strict=True):
        assert np.array_equal(detector._acc, acc_before) and detector.stream.next_index == next_before


def test_motion_right_at_the_no_motion_limit_is_judged_as_the_detector_judges_it():
    """A batched standard deviation may round differently from the detector's: at the limit, the detector decides."""
    fleet = []
    for seed in range(40):  # each device's limit set to its own last frame's motion, exactly
        acc = Body(50, 9.0, seed=seed).acc_ms2(noise_ms2=0.1)
        probe = FallDetector()
        for s in frames(acc[:400], 50):
            probe.update(s.ts, s.acc_ms2, None, s.rate_hz)
        _, new = probe.stream.push(8.0, acc[400:], 50)
        params = replace(DEFAULT_FALL_PARAMS, no_motion_acc_std_ms2=motion_std_ms2(new), no_motion_s=2.0)
        fleet.append(Device(f"still {seed}", params, frames(acc, 50)))

    found, detectors, bank = through_bank(fleet, batches_in_time(fleet), check_each_batch=True)

    assert found == one_by_one(fleet)[0]
    assert bank.vectorised == 40 * 8
    assert all(d._still_since_s is None for d in detectors)  # a motion reaching the limit is motion


def test_the_batched_filter_gives_bit_for_bit_the_samples_of_the_detector_s_own_filter():
    rng = np.random.default_rng(7)
    fleet = [Device(str(i), DEFAULT_FALL_PARAMS, frames(rng.normal(0.0, 30.0, (50 * 12, 3)), 50)) for i in range(50)]
    _, detectors, _ = through_bank(fleet, batches_in_time(fleet))

    for detector, reference in zip(detectors, one_by_one(fleet)[1], strict=True):
        assert np.array_equal(detector._acc, reference._acc) and np.array_equal(detector._norm, reference._norm)
        assert np.array_equal(detector.stream.context, reference.stream.context)


def sisfall_fleet(back_to_back: bool) -> list[Device]:
    """Every trial of the dev split as a device of its own (starts staggered), or trial after trial on 40 devices."""
    data = np.load(SISFALL_DEV)
    acc, rate_hz = data["data"][:, :3], float(json.loads(str(data["meta"]))["rate_hz"])
    trials = [acc[o : o + n] for o, n in zip(data["offsets"], data["lengths"], strict=True)]
    if back_to_back:
        return [Device(f"wearer {i}", DEFAULT_FALL_PARAMS, frames(np.concatenate(trials[i::40]), rate_hz))
                for i in range(40)]  # fmt: skip
    return [Device(str(name), DEFAULT_FALL_PARAMS, frames(trial, rate_hz, start=T0 + timedelta(seconds=t % 7)))
            for t, (name, trial) in enumerate(zip(data["names"], trials, strict=True))]  # fmt: skip


@pytest.mark.skipif(not SISFALL_DEV.exists(), reason=f"SisFall dev split not found at {SISFALL_DEV} (see README)")
@pytest.mark.parametrize("back_to_back", [False, True], ids=["a device per trial", "trial after trial"])
def test_sisfall_recordings_give_the_same_events_batched_as_one_by_one(back_to_back):
    fleet = sisfall_fleet(back_to_back)
    expected, references = one_by_one(fleet)
    found, detectors, bank = through_bank(fleet, batches_in_time(fleet))

    assert found == expected
    suspected = sum(e.kind is FallEventKind.FALL_SUSPECTED for device in expected for frame in device for e in frame)
    assert suspected > 500  # the dev split holds 1,050 falls: the comparison covered many decisions
    assert bank.vectorised > 10 * bank.one_by_one
    for detector, reference in zip(detectors, references, strict=True):
        assert_same_state(detector, reference)


def test_the_benchmark_reports_both_ways_and_their_agreement(monkeypatch, capsys):
    from benchmarks import bench_falls_batch

    monkeypatch.setattr("sys.argv", ["bench_falls_batch", "--devices", "30", "--seconds", "5", "--repeat", "1"])
    bench_falls_batch.main()
    report = json.loads(capsys.readouterr().out)

    assert report["same_events"] is True
    assert report["per_device_us_per_frame"] > 0 and report["bank_us_per_frame"] > 0
    assert report["bank_frames_vectorised"] == 30 * 4 and report["bank_frames_one_by_one"] == 30
