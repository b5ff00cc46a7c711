"""The exposure ledger's increments of a whole batch at once, as columns (numpy across frames and agents).

The ingest runs this on every batch of newly stored frames; per-frame Python here was a sixth of the gateway's
CPU. Each worn frame adds FRAME_S of work and its seconds between 00:00 and 05:00 local (D4163-2); ISO 9612
Σ t·10^(0.1·L_Aeq) and LCpeak, counted at the ear behind the agent's protector too; ISO 5349-1 Σ a_hv²·T;
ISO 2631-1 Σ a_w²·T per axis; its WBGT (ISO 7243, ``heat.wbgt_c_array``) against the reference for the agent's
task; NF X35-109 lifts and tonnage, and the NIOSH lifting index of lifts with a known geometry. The result is
one entry per (agent, local day), in order of first appearance: ``services.ledger.DayDelta`` flattened, so the
ingest can write the rows without building an object per agent-day.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

import numpy as np
import numpy.typing as npt

from services.exposure import heat, night, noise
from services.exposure.handling import HEAVY_LIFT_KG, VERY_HEAVY_LIFT_KG, lift_index
from services.exposure.merge import max_or_none
from services.model import Frame, Received

FRAME_S = 1.0
_FRAME_US = round(FRAME_S * 1e6)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Ids = frozenset[str]


@dataclass(frozen=True, slots=True)
class DayColumns:
    """A batch's increments, one list entry per (agent, local day); the fields of ``DayDelta``, flattened."""

    agent_id: list[str]
    day: list[date]
    worked_s: list[float]
    first_ts: list[datetime]
    last_ts: list[datetime]
    noise_s: list[float]
    noise_sum_t_10pow: list[float]
    lcpeak_max_db: list[float | None]
    peaks_over_135: list[int]
    peaks_over_135_at_ear: list[int]
    hav_s: list[float]
    hav_sum_a2t_m2s3: list[float]
    wbv_s: list[float]
    wbv_sum_x_m2s3: list[float]
    wbv_sum_y_m2s3: list[float]
    wbv_sum_z_m2s3: list[float]
    wbgt_max_c: list[float | None]
    seconds_over_ref: list[float]
    seconds_temp_ge_30: list[float]
    seconds_temp_le_5: list[float]
    seconds_wbgt_measured: list[float]
    seconds_wbgt_estimated: list[float]
    lifts: list[int]
    lifts_ge_15kg: list[int]
    lifts_ge_25kg: list[int]
    tonnage_kg: list[float]
    night_s: list[float]
    lifting_index_max: list[float | None]
    device_ids: list[frozenset[str]]
    tool_ids: list[frozenset[str]]


def day_columns(
    frames: Sequence[Received], hearing_attenuation_db: Mapping[str, float], wbgt_ref_c: Mapping[str, float],
    tz: tzinfo,
) -> DayColumns | None:
    """The increments per (agent, local day) of the worn frames of a batch; None when no frame was worn.

    ``hearing_attenuation_db`` and ``wbgt_ref_c`` give each agent's registered protector attenuation and
    ISO 7243 reference WBGT.
    """
    worn = [(r.agent_id, r.frame) for r in frames if r.agent_id is not None]
    if not worn:
        return None
    fs = [f for _, f in worn]
    ts = [f.ts for f in fs]
    t_us = utc_us(ts)
    agent_of = {a: i for i, a in enumerate(dict.fromkeys([a for a, _ in worn]))}
    agent = np.array([agent_of[a] for a, _ in worn], dtype=np.intp)
    start_day, end_day = _local_ordinals(t_us, tz)
    g = _Groups(agent, start_day)
    attenuation = _per_agent(hearing_attenuation_db, agent_of)[agent]
    energy, noise_s, peak_db, peak_counted, peak_at_ear = _noise(fs, attenuation)
    wbgt, (over_ref, hot, cold, by_globe, estimated) = _heat(fs, _per_agent(wbgt_ref_c, agent_of)[agent])
    hav_a2t, hav_s = _hand_arm(fs)
    wbv_x, wbv_y, wbv_z, wbv_s = _whole_body(fs)
    (lifts, lifts_15, lifts_25), tonnage_kg = _lifts(fs)
    devices, tools, index_max = _per_group(fs, g)
    agent_ids = list(agent_of)
    heads = g.heads.tolist()
    return DayColumns(
        agent_id=[agent_ids[a] for a in agent[heads].tolist()],
        day=[date.fromordinal(o) for o in start_day[heads].tolist()],
        worked_s=g.total(np.full(len(fs), FRAME_S)),
        first_ts=[ts[i] for i in g.earliest(t_us)], last_ts=[ts[i] for i in g.earliest(-t_us)],
        noise_s=g.total(noise_s), noise_sum_t_10pow=g.total(energy), lcpeak_max_db=g.maximum(peak_db),
        peaks_over_135=g.count(peak_counted), peaks_over_135_at_ear=g.count(peak_at_ear),
        hav_s=g.total(hav_s), hav_sum_a2t_m2s3=g.total(hav_a2t), wbv_s=g.total(wbv_s),
        wbv_sum_x_m2s3=g.total(wbv_x), wbv_sum_y_m2s3=g.total(wbv_y), wbv_sum_z_m2s3=g.total(wbv_z),
        wbgt_max_c=g.maximum(wbgt), seconds_over_ref=g.total(over_ref), seconds_temp_ge_30=g.total(hot),
        seconds_temp_le_5=g.total(cold), seconds_wbgt_measured=g.total(by_globe),
        seconds_wbgt_estimated=g.total(estimated), lifts=g.count(lifts), lifts_ge_15kg=g.count(lifts_15),
        lifts_ge_25kg=g.count(lifts_25), tonnage_kg=g.total(tonnage_kg),
        night_s=g.total(_night_us(t_us, start_day, end_day, tz) / 1e6), lifting_index_max=index_max,
        device_ids=devices, tool_ids=tools,
    )  # fmt: skip


def _per_agent(values: Mapping[str, float], agent_of: Mapping[str, int]) -> F64:
    return np.array([values[a] for a in agent_of], dtype=np.float64)


def utc_us(timestamps: Sequence[datetime]) -> I64:
    """Microseconds since 1970-01-01 UTC of tz-aware instants, exactly (integer arithmetic, no float rounding)."""
    try:
        return np.fromiter(((t - _EPOCH) // _ONE_US for t in timestamps), np.int64, len(timestamps))
    except TypeError:
        raise ValueError("timestamps must be timezone-aware") from None


class _Groups:
    """The (agent, local day) groups of a batch's frames, numbered in order of first appearance."""

    def __init__(self, agent: npt.NDArray[np.intp], day: I64) -> None:
        days, day_code = np.unique(day, return_inverse=True)
        keys, first, inverse = np.unique(agent * len(days) + day_code, return_index=True, return_inverse=True)
        rank = np.empty(len(keys), np.intp)
        rank[np.argsort(first)] = np.arange(len(keys))
        self.of: npt.NDArray[np.intp] = rank[inverse]
        self.n = len(keys)
        self.heads: npt.NDArray[np.intp] = np.sort(first)

    def total(self, weights: npt.ArrayLike) -> list[float]:
        sums: list[float] = np.bincount(self.of, np.asarray(weights, dtype=np.float64), self.n).tolist()
        return sums

    def count(self, weights: npt.ArrayLike) -> list[int]:
        counts: list[int] = np.rint(np.bincount(self.of, np.asarray(weights, dtype=np.float64), self.n)).astype(
            np.int64).tolist()  # fmt: skip
        return counts

    def maximum(self, values: F64) -> list[float | None]:
        """Per group, the largest value; None where every value is NaN (nothing measured)."""
        out = np.full(self.n, -np.inf)
        np.fmax.at(out, self.of, values)
        return [None if v == -math.inf else v for v in out.tolist()]

    def earliest(self, key: I64) -> list[int]:
        """Per group, the index of the frame with the smallest key (the first such frame on ties, as ``min``)."""
        order = np.lexsort((key, self.of))  # stable: ties stay in batch order
        firsts: list[int] = order[np.searchsorted(self.of[order], np.arange(self.n))].tolist()
        return firsts


def _local_ordinals(t_us: I64, tz: tzinfo) -> tuple[I64, I64]:
    """Local-day ordinals of each frame's start and end (``night.local_day``), one zone lookup per UTC second.

    Time-zone offsets and transitions are whole seconds (tz database), so an instant is in the local day of
    the whole UTC second it falls in; a batch spans few seconds.
    """
    seconds = np.concatenate([t_us, t_us + _FRAME_US]) // 1_000_000
    unique, inverse = np.unique(seconds, return_inverse=True)
    ordinals = np.array([datetime.fromtimestamp(s, tz).toordinal() for s in unique.tolist()], dtype=np.int64)
    days = ordinals[inverse]
    return days[: len(t_us)], days[len(t_us) :]


def _night_us(t_us: I64, start_day: I64, end_day: I64, tz: tzinfo) -> I64:
    """Microseconds of each ``[ts, ts + FRAME_S)`` between 00:00 and 05:00 local (``night.night_seconds``).

    Windows are built from local wall-clock times and intersected in UTC, so a spring-forward night lasts 4 h.
    """
    total = np.zeros(len(t_us), dtype=np.int64)
    spans = int((end_day - start_day).max())
    if spans < 0:
        return total
    ordinals = np.unique(np.concatenate([start_day + k for k in range(spans + 1)]))
    windows = [
        [(datetime.combine(date.fromordinal(o), bound, tzinfo=tz) - _EPOCH) // _ONE_US for o in ordinals.tolist()]
        for bound in (night.NIGHT_START, night.NIGHT_END)
    ]
    start_us, end_us = np.array(windows[0], dtype=np.int64), np.array(windows[1], dtype=np.int64)
    for k in range(spans + 1):
        day = start_day + k
        i = np.searchsorted(ordinals, day)
        overlap = np.minimum(t_us + _FRAME_US, end_us[i]) - np.maximum(t_us, start_us[i])
        total += np.where(day <= end_day, np.maximum(overlap, 0), 0)
    return total


def _floats(values: list[float | None]) -> F64:
    """A float column, NaN where the frame has no value (numpy reads None as NaN for a float dtype)."""
    return np.array(values, dtype=np.float64)


def _require_non_negative(name: str, values: F64) -> None:
    if not np.all(values >= 0.0):  # NaN fails too, as in the scalar checks of services.exposure
        raise ValueError(f"{name} must be >= 0")


def _noise(fs: Sequence[Frame], attenuation_db: F64) -> tuple[F64, F64, F64, Bools, Bools]:
    """Per frame: t·10^(0.1·L_Aeq) (ISO 9612), measured seconds, LCpeak, peak ≥ 135 dB(C), and at the ear."""
    sections = [f.noise for f in fs]
    n = len(fs)
    measured = np.fromiter((s is not None for s in sections), np.bool_, n)
    laeq_db = _floats([None if s is None else s.laeq_db for s in sections])
    if not np.all(np.isfinite(laeq_db[measured])):
        raise ValueError("laeq_db must be finite")
    energy = np.where(measured, FRAME_S * 10.0 ** (0.1 * np.where(measured, laeq_db, 0.0)), 0.0)
    peak_db = _floats([None if s is None else s.lcpeak_db for s in sections])
    finite = np.isfinite(peak_db)
    reported = ~np.isnan(peak_db)
    _require_non_negative("attenuation_db", attenuation_db[reported])
    at_ear = reported & (np.maximum(peak_db - attenuation_db, 0.0) >= noise.PEAK_COUNTED_DBC)
    counted = finite & (peak_db >= noise.PEAK_COUNTED_DBC)
    return energy, np.where(measured, FRAME_S, 0.0), np.where(finite, peak_db, np.nan), counted, at_ear


def _hand_arm(fs: Sequence[Frame]) -> tuple[F64, F64]:
    """Per frame: a_hv²·T and the trigger time T (ISO 5349-1), for frames where the tool was triggered."""
    sections = [f.hav for f in fs]
    trigger_s = _floats([None if s is None else s.trigger_s for s in sections])
    ahv_ms2 = _floats([None if s is None else s.ahv_ms2 for s in sections])
    on = trigger_s > 0
    _require_non_negative("ahv_ms2", ahv_ms2[on])
    return np.where(on, ahv_ms2 * ahv_ms2 * trigger_s, 0.0), np.where(on, trigger_s, 0.0)


def _whole_body(fs: Sequence[Frame]) -> tuple[F64, F64, F64, F64]:
    """Per frame: a_wj²·T for x, y, z and the duration T (ISO 2631-1), for frames with a positive duration."""
    sections = [f.wbv for f in fs]
    duration_s = _floats([None if s is None else s.duration_s for s in sections])
    aw_ms2 = np.array([_NO_AXES if s is None else s.aw_ms2 for s in sections], dtype=np.float64).reshape(-1, 3)
    on = duration_s > 0
    _require_non_negative("aw_ms2", aw_ms2[on])
    x, y, z = (np.where(on, aw_ms2[:, j] * aw_ms2[:, j] * duration_s, 0.0) for j in range(3))
    return x, y, z, np.where(on, duration_s, 0.0)


_NO_AXES = (math.nan, math.nan, math.nan)


def _heat(fs: Sequence[Frame], wbgt_ref_c: F64) -> tuple[F64, tuple[F64, F64, F64, F64, F64]]:
    """Per frame: WBGT (NaN without RH) and the seconds over the ISO 7243 reference, ≥ 30 °C, ≤ 5 °C
    (D4163-2), with a measured and an estimated WBGT (``heat.wbgt_c_array``)."""
    sections = [f.env for f in fs]
    temp_c = _floats([None if s is None else s.temp_c for s in sections])
    rh_pct = _floats([None if s is None else s.rh_pct for s in sections])
    globe_c = _floats([None if s is None else s.globe_temp_c for s in sections])
    wbgt, measured = heat.wbgt_c_array(temp_c, rh_pct, globe_c)
    known = np.isfinite(temp_c) & np.isfinite(rh_pct)
    seconds = (
        known & (wbgt > wbgt_ref_c), temp_c >= heat.HOT_TEMP_C, temp_c <= heat.COLD_TEMP_C, known & measured,
        known & ~measured,
    )  # fmt: skip
    over, hot, cold, by_globe, estimated = (np.where(s, FRAME_S, 0.0) for s in seconds)
    return np.where(known, wbgt, np.nan), (over, hot, cold, by_globe, estimated)


def _lifts(fs: Sequence[Frame]) -> tuple[tuple[F64, F64, F64], F64]:
    """Per frame: lifts, lifts ≥ 15 kg, lifts ≥ 25 kg (classed by the frame's mean load), and tonnage (NF X35-109)."""
    sections = [f.lift for f in fs]
    count = _floats([None if s is None else s.count for s in sections])
    load_kg = _floats([None if s is None else s.load_kg for s in sections])
    on = count > 0
    _require_non_negative("load_kg", load_kg[on])
    lifts = np.where(on, count, 0.0)
    heavy, very_heavy = (np.where(load_kg >= kg, lifts, 0.0) for kg in (HEAVY_LIFT_KG, VERY_HEAVY_LIFT_KG))
    return (lifts, heavy, very_heavy), np.where(on, count * load_kg, 0.0)


def _per_group(fs: Sequence[Frame], g: _Groups) -> tuple[list[Ids], list[Ids], list[float | None]]:
    """Per group: the devices worn, the tools triggered, and the highest NIOSH lifting index."""
    groups = g.of.tolist()
    devices: dict[int, set[str]] = {}
    for i, device_id in set(zip(groups, [f.device_id for f in fs], strict=True)):
        devices.setdefault(i, set()).add(device_id)
    tools: dict[int, set[str]] = {}
    for i, tool_id in [(i, f.hav.tool_id) for i, f in zip(groups, fs, strict=True)
                       if f.hav is not None and f.hav.trigger_s > 0 and f.hav.tool_id]:  # fmt: skip
        tools.setdefault(i, set()).add(tool_id)
    index_max: list[float | None] = [None] * g.n
    for i, lift in [(i, f.lift) for i, f in zip(groups, fs, strict=True)
                    if f.lift is not None and f.lift.count > 0 and f.lift.geometry is not None]:  # fmt: skip
        index_max[i] = max_or_none(index_max[i], lift_index(lift.load_kg, lift.geometry))  # type: ignore[arg-type]
    return (
        [frozenset(devices[i]) for i in range(g.n)],
        [frozenset(tools[i]) if i in tools else _NONE for i in range(g.n)],
        index_max,
    )


_NONE: Ids = frozenset()
