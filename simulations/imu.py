"""One second of waist-worn IMU samples per agent, consistent with what the agent is doing.

Body frame of a waist device: x forward, y left, z up, so a standing worker reads about +9.81 m/s² on z
(the accelerometer measures specific force, i.e. the ground's push against gravity). The shapes are the ones
fall and posture detectors key on: a ~2 Hz gait oscillation when walking, trunk flexion when lifting, truck
vibration on the rear step, and for a fall a free-fall dip, an impact spike, then gravity on a horizontal
axis with the body still (cf. Bourke et al., *Gait & Posture* 2007, for the thresholds such detectors use).
"""

from __future__ import annotations

import numpy as np

from simulations.agents import Activity, CrewModel, FloatArray, IntArray

G_MS2 = 9.81
FALL_ONSET_S = 0.2  # into the second: the whole fall (dip, impact, settling) shows in that second's frame
FREE_FALL_S = 0.3
IMPACT_S = 0.08
ACC_LIMIT_MS2 = 156.0  # ±16 g sensor range
GYR_LIMIT_RADS = 34.9  # ±2000 °/s


def _upright(n: int, tilt_rad: FloatArray | float) -> FloatArray:
    """Gravity reading (n, 1, 3) of a trunk pitched forward by ``tilt_rad``."""
    tilt = np.broadcast_to(np.asarray(tilt_rad, dtype=np.float64), (n,))[:, None]
    return np.stack([-G_MS2 * np.sin(tilt), np.zeros_like(tilt), G_MS2 * np.cos(tilt)], axis=-1)


def _walking(m: CrewModel, i: IntArray, tau: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Vertical and fore-aft bounce at step frequency, lateral sway and yaw at stride (half) frequency."""
    step = 2 * np.pi * m.gait_hz[i, None] * tau + m.gait_phase_rad[i, None]
    amp = m.gait_amp_ms2[i, None] * np.clip(m.speed_ms()[i, None] / 1.2, 0.4, 1.2)
    acc = _upright(len(i), 0.08) + np.stack(
        [0.5 * amp * np.cos(step), 0.35 * amp * np.sin(step / 2), amp * np.sin(step)], axis=-1)
    gyr = np.stack([0.15 * np.sin(step / 2), 0.12 * np.sin(step), 0.3 * np.cos(step / 2)], axis=-1)
    return acc, gyr


def _lifting(m: CrewModel, i: IntArray, tau: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Trunk flexion cycles: bend to ``bend_max_rad`` and back once per ``lift_period_s``."""
    period, bend = m.lift_period_s[i, None], m.bend_max_rad[i, None]
    since = (m.t_s - m.started_s[i, None]) + tau
    theta = bend * 0.5 * (1 - np.cos(2 * np.pi * since / period))
    rate = bend * 0.5 * (2 * np.pi / period) * np.sin(2 * np.pi * since / period)
    acc = np.stack([-G_MS2 * np.sin(theta), np.zeros_like(theta), G_MS2 * np.cos(theta)], axis=-1)
    gyr = np.stack([np.zeros_like(rate), rate, 0.2 * np.sin(2 * np.pi * since / period)], axis=-1)
    return acc, gyr


def _riding(m: CrewModel, i: IntArray, tau: FloatArray, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """Standing on the truck's rear step: broadband vibration, stronger while the truck drives."""
    vib = np.where(m.truck_speed_ms()[i] > 0, 0.9, 0.25)[:, None, None]
    shape = (len(i), tau.shape[-1], 3)
    engine = 0.3 * np.sin(2 * np.pi * 12.0 * tau)[..., None]
    acc = _upright(len(i), 0.0) + vib * (rng.normal(0, 1, shape) * [0.6, 0.6, 1.0] + engine)
    return acc, 0.05 * vib * rng.normal(0, 1, shape)


def _tool(m: CrewModel, i: IntArray, tau: FloatArray, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """Leaning over a hedge or sweeping a blower: slight flexion, slow sway, a little transmitted buzz."""
    sweep = np.sin(2 * np.pi * 0.4 * tau + m.gait_phase_rad[i, None])
    shape = (len(i), tau.shape[-1], 3)
    acc = _upright(len(i), 0.25) + 0.3 * rng.normal(0, 1, shape)
    gyr = 0.02 * rng.normal(0, 1, shape)
    gyr[..., 2] += 0.25 * sweep
    return acc, gyr


def _lying(m: CrewModel, i: IntArray, tau: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Gravity on a horizontal axis and nothing else but breathing."""
    breath = 0.02 * np.sin(2 * np.pi * 0.25 * tau)[..., None]
    acc = G_MS2 * m.lying_axis[i, None, :] + breath
    return acc, np.zeros_like(acc)


def _falling(m: CrewModel, i: IntArray, tau: FloatArray, rate_hz: float,
             rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """Walking, then ~0.3 s of free fall (|a| < 3 m/s²), an impact spike of 30-60 m/s², then lying."""
    acc, gyr = _walking(m, i, tau)
    lying_acc, lying_gyr = _lying(m, i, tau)
    n, s = len(i), tau.shape[-1]
    t = np.broadcast_to(tau, (n, s))
    free = (t >= FALL_ONSET_S) & (t < FALL_ONSET_S + FREE_FALL_S)
    impact_start = FALL_ONSET_S + FREE_FALL_S
    n_impact = max(2, round(IMPACT_S * rate_hz))
    impact = (t >= impact_start) & (t < impact_start + n_impact / rate_hz)
    after = t >= impact_start + n_impact / rate_hz

    direction = rng.normal(0, 1, (n, 1, 3))
    dip = direction / np.linalg.norm(direction, axis=-1, keepdims=True) * rng.uniform(0.2, 2.5, (n, s, 1))
    tumble = np.cross([0.0, 0.0, 1.0], m.lying_axis[i]) * (np.pi / 2 / FREE_FALL_S)  # rotate z onto lying
    acc = np.where(free[..., None], dip, acc)
    gyr = np.where(free[..., None], tumble[:, None, :] + 0.3 * rng.normal(0, 1, (n, s, 3)), gyr)

    shape = np.sin(np.pi * (np.arange(n_impact) + 0.5) / n_impact)
    peak = rng.uniform(30, 60, (n, 1, 1))
    spike_dir = m.lying_axis[i, None, :] + 0.25 * rng.normal(0, 1, (n, 1, 3))
    spike_dir /= np.linalg.norm(spike_dir, axis=-1, keepdims=True)
    k = np.clip(np.round((t - impact_start) * rate_hz).astype(np.int64), 0, n_impact - 1)
    spike = peak * (shape / shape.max())[k][..., None] * spike_dir
    acc = np.where(impact[..., None], spike, acc)
    gyr = np.where(impact[..., None], 2.0 * rng.normal(0, 1, (n, s, 3)), gyr)

    settle = np.exp(-(t - impact_start) / 0.12)[..., None] * np.sin(2 * np.pi * 6 * t)[..., None]
    acc = np.where(after[..., None], lying_acc + 2.5 * settle * spike_dir, acc)
    gyr = np.where(after[..., None], lying_gyr + 0.8 * settle, gyr)
    return acc, gyr


def synthesise_imu(m: CrewModel, rate_hz: float, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """Accelerometer (m/s²) and gyroscope (rad/s) arrays of shape (n_agents, rate_hz, 3) for second m.t_s."""
    n_samples = round(rate_hz)
    tau = np.arange(n_samples) / rate_hz
    acc = np.empty((m.n, n_samples, 3))
    gyr = np.empty((m.n, n_samples, 3))
    act = m.activity
    rest = np.flatnonzero(act == Activity.RESTING)
    acc[rest] = _upright(len(rest), 0.0)
    gyr[rest] = 0.0
    for kind, make in ((Activity.WALKING, _walking), (Activity.LIFTING, _lifting), (Activity.LYING, _lying)):
        i = np.flatnonzero(act == kind)
        acc[i], gyr[i] = make(m, i, tau[None, :])
    for kind, make_noisy in ((Activity.RIDING, _riding), (Activity.TOOL, _tool)):
        i = np.flatnonzero(act == kind)
        acc[i], gyr[i] = make_noisy(m, i, tau[None, :], rng)
    i = np.flatnonzero(act == Activity.FALLING)
    acc[i], gyr[i] = _falling(m, i, tau[None, :], rate_hz, rng)
    # Sensor noise floor (a MEMS IMU at 50 Hz: ~0.02 m/s², ~0.005 rad/s) and range saturation.
    acc += rng.normal(0, 0.02, acc.shape)
    gyr += rng.normal(0, 0.005, gyr.shape)
    return np.clip(acc, -ACC_LIMIT_MS2, ACC_LIMIT_MS2), np.clip(gyr, -GYR_LIMIT_RADS, GYR_LIMIT_RADS)
