"""Daily noise exposure: the additive dose, L_EX,8h, dose %, peaks and the regulatory action/limit values.

Sources: ISO 9612:2009 (full-day measurement strategy: L_EX,8h = L_Aeq,Te + 10·lg(Te/T0)), Directive
2003/10/EC art. 2-3 and Code du travail R4431-1 / R4431-2 (values), R4431-3 (hearing protectors count for
the limit values only).

The state a ledger keeps per agent and local day is ``NoiseDose``: sums and a max, so frames can be folded in
any order, duplicated batches merged, and the day recomputed from any partition of its seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from services.exposure.merge import max_or_none

REFERENCE_DURATION_S = 28_800.0
"""T0 = 8 h, the reference duration of L_EX,8h (ISO 9612:2009; R4431-1)."""

PEAK_COUNTED_DBC = 135.0
"""LCpeak counted as an impulse (R4431-2 lower action value; D4163-2 counts them towards 120 a year)."""

LOWER_ACTION_LEX_DBA = 80.0
LOWER_ACTION_PEAK_DBC = 135.0
UPPER_ACTION_LEX_DBA = 85.0
UPPER_ACTION_PEAK_DBC = 137.0
LIMIT_LEX_DBA = 87.0
LIMIT_PEAK_DBC = 140.0


@dataclass(frozen=True, slots=True)
class NoiseDose:
    """Additive one-day noise state; ``NoiseDose()`` is the identity of ``merge``.

    ``sum_t_10pow`` is Σ t_i·10^(0.1·L_Aeq,i) in seconds (the energy sum of ISO 9612's L_EX,8h without the 1/T0
    factor); ``seconds`` is the measured duration; ``peaks_over_135`` counts the records whose LCpeak is at
    least 135 dB(C) (one per 1-s frame).
    """

    sum_t_10pow: float = 0.0
    seconds: float = 0.0
    lcpeak_max_db: float | None = None
    peaks_over_135: int = 0

    def merge(self, other: NoiseDose) -> NoiseDose:
        """Combine two disjoint sets of seconds (commutative and associative)."""
        return NoiseDose(
            sum_t_10pow=self.sum_t_10pow + other.sum_t_10pow,
            seconds=self.seconds + other.seconds,
            lcpeak_max_db=max_or_none(self.lcpeak_max_db, other.lcpeak_max_db),
            peaks_over_135=self.peaks_over_135 + other.peaks_over_135,
        )

    def add(self, laeq_db: float, duration_s: float = 1.0, lcpeak_db: float | None = None) -> NoiseDose:
        """Fold in one record: ``duration_s`` at ``laeq_db`` dB(A), with its LCpeak if measured."""
        if not math.isfinite(laeq_db):
            raise ValueError(f"laeq_db must be finite, got {laeq_db}")
        if not duration_s >= 0.0:
            raise ValueError(f"duration_s must be >= 0, got {duration_s}")
        peak = lcpeak_db if lcpeak_db is not None and math.isfinite(lcpeak_db) else None
        return self.merge(
            NoiseDose(
                sum_t_10pow=duration_s * math.pow(10.0, 0.1 * laeq_db),
                seconds=duration_s,
                lcpeak_max_db=peak,
                peaks_over_135=int(peak is not None and peak >= PEAK_COUNTED_DBC),
            )
        )


def accumulate(
    laeq_db: npt.ArrayLike, duration_s: npt.ArrayLike = 1.0, lcpeak_db: npt.ArrayLike | None = None
) -> NoiseDose:
    """The ``NoiseDose`` of many records at once; NaN levels (no measurement) are skipped.

    ``duration_s`` broadcasts against ``laeq_db`` (a scalar 1.0 for 1-s frames); ``lcpeak_db`` is aligned with
    ``laeq_db`` and NaN where no peak was reported (a peak counts even when its frame has no level).
    """
    levels = np.asarray(laeq_db, dtype=np.float64).ravel()
    durations = np.broadcast_to(np.asarray(duration_s, dtype=np.float64), levels.shape)
    if np.any(durations < 0.0):
        raise ValueError("duration_s must be >= 0")
    measured = np.isfinite(levels)
    energy = float(np.sum(durations[measured] * 10.0 ** (0.1 * levels[measured])))
    peak_max: float | None = None
    peaks = 0
    if lcpeak_db is not None:
        peak = np.asarray(lcpeak_db, dtype=np.float64).ravel()
        peak = peak[np.isfinite(peak)]
        if peak.size:
            peak_max = float(peak.max())
            peaks = int(np.count_nonzero(peak >= PEAK_COUNTED_DBC))
    return NoiseDose(energy, float(np.sum(durations[measured])), peak_max, peaks)


def lex_8h_db(dose: NoiseDose) -> float | None:
    """L_EX,8h = 10·lg((1/T0)·Σ t_i·10^(0.1·L_Aeq,i)), T0 = 28 800 s (ISO 9612:2009; R4431-1).

    None when nothing was measured; −inf when the measured seconds carried no sound energy at all.
    """
    if dose.seconds <= 0.0:
        return None
    if dose.sum_t_10pow <= 0.0:
        return -math.inf
    return 10.0 * math.log10(dose.sum_t_10pow / REFERENCE_DURATION_S)


def laeq_measured_db(dose: NoiseDose) -> float | None:
    """L_Aeq over the measured seconds only, 10·lg(Σ t_i·10^(0.1·L_i) / Σ t_i) (ISO 9612:2009)."""
    if dose.seconds <= 0.0:
        return None
    if dose.sum_t_10pow <= 0.0:
        return -math.inf
    return 10.0 * math.log10(dose.sum_t_10pow / dose.seconds)


def dose_pct(lex_db: float, criterion_db: float = UPPER_ACTION_LEX_DBA) -> float:
    """Noise dose in % of the criterion level: 100·10^((L_EX,8h − L_c)/10), a 3 dB exchange rate (equal energy)."""
    return 100.0 * math.pow(10.0, (lex_db - criterion_db) / 10.0)


def at_ear_db(level_db: float, attenuation_db: float) -> float:
    """The level under the agent's hearing protector: ``level_db − attenuation_db``, never below 0 dB.

    ``attenuation_db`` is the attenuation registered for the agent's protector as the safety officer
    assesses it (EN 458:2016: the SNR or HML method of EN ISO 4869-2 for this noise, less the practical
    derating the service applies). This function only subtracts: it does not derive an attenuation from SNR or
    H/M/L values, and the same value is applied to L_EX,8h and LCpeak (a simplification for impulses).
    """
    if not attenuation_db >= 0.0:
        raise ValueError(f"attenuation_db must be >= 0, got {attenuation_db}")
    return max(level_db - attenuation_db, 0.0)


class NoiseThreshold(StrEnum):
    """The six values of R4431-2; action values are *reached* (≥), limit values *exceeded* (>)."""

    LOWER_ACTION_LEX = "lower_action_lex_80_dba"
    LOWER_ACTION_PEAK = "lower_action_peak_135_dbc"
    UPPER_ACTION_LEX = "upper_action_lex_85_dba"
    UPPER_ACTION_PEAK = "upper_action_peak_137_dbc"
    LIMIT_LEX = "limit_lex_87_dba"
    LIMIT_PEAK = "limit_peak_140_dbc"


@dataclass(frozen=True, slots=True)
class NoiseJudgement:
    """A day's noise levels without and with protection, and the R4431-2 thresholds they reach."""

    lex_8h_db: float | None
    lex_8h_at_ear_db: float | None
    lcpeak_max_db: float | None
    lcpeak_max_at_ear_db: float | None
    reached: frozenset[NoiseThreshold]

    @property
    def lower_action(self) -> bool:
        return bool(self.reached & {NoiseThreshold.LOWER_ACTION_LEX, NoiseThreshold.LOWER_ACTION_PEAK})

    @property
    def upper_action(self) -> bool:
        return bool(self.reached & {NoiseThreshold.UPPER_ACTION_LEX, NoiseThreshold.UPPER_ACTION_PEAK})

    @property
    def limit(self) -> bool:
        return bool(self.reached & {NoiseThreshold.LIMIT_LEX, NoiseThreshold.LIMIT_PEAK})


def judge_noise(lex_db: float | None, lcpeak_max_db: float | None, attenuation_db: float = 0.0) -> NoiseJudgement:
    """Judge a day against R4431-2: action values on the levels WITHOUT protection, limit values AT THE EAR.

    R4431-3 (Directive 2003/10/EC art. 3(2)): the attenuation of individual hearing protectors is taken into
    account for the limit values (87 dB(A), 140 dB(C)) and not for the action values (80/135, 85/137). Action
    values count when reached (R4434-7 "égale ou dépasse"); limit values when exceeded (art. 7: "in no case
    shall exposure exceed"). A None level judges nothing.
    """
    lex_ear = None if lex_db is None else at_ear_db(lex_db, attenuation_db)
    peak_ear = None if lcpeak_max_db is None else at_ear_db(lcpeak_max_db, attenuation_db)
    reached: set[NoiseThreshold] = set()
    if lex_db is not None:
        if lex_db >= LOWER_ACTION_LEX_DBA:
            reached.add(NoiseThreshold.LOWER_ACTION_LEX)
        if lex_db >= UPPER_ACTION_LEX_DBA:
            reached.add(NoiseThreshold.UPPER_ACTION_LEX)
    if lcpeak_max_db is not None:
        if lcpeak_max_db >= LOWER_ACTION_PEAK_DBC:
            reached.add(NoiseThreshold.LOWER_ACTION_PEAK)
        if lcpeak_max_db >= UPPER_ACTION_PEAK_DBC:
            reached.add(NoiseThreshold.UPPER_ACTION_PEAK)
    if lex_ear is not None and lex_ear > LIMIT_LEX_DBA:
        reached.add(NoiseThreshold.LIMIT_LEX)
    if peak_ear is not None and peak_ear > LIMIT_PEAK_DBC:
        reached.add(NoiseThreshold.LIMIT_PEAK)
    return NoiseJudgement(lex_db, lex_ear, lcpeak_max_db, peak_ear, frozenset(reached))


def time_to_reach(
    dose_so_far: NoiseDose, recent_rate_laeq_db: float | None, target_lex_db: float = UPPER_ACTION_LEX_DBA
) -> float | None:
    """Seconds until L_EX,8h reaches ``target_lex_db`` if the agent stays at ``recent_rate_laeq_db``.

    Solves Σ + t·10^(0.1·L_recent) = T0·10^(0.1·L_target) for t (the energy sum of ``lex_8h_db``): 0 when the
    target is already reached, None when it will not be reached at this level (no level, or −inf). Add the
    result to "now" for an alert such as "reaches 85 dB(A) by 11:40".
    """
    needed = REFERENCE_DURATION_S * math.pow(10.0, 0.1 * target_lex_db) - dose_so_far.sum_t_10pow
    if needed <= 0.0:
        return 0.0
    if recent_rate_laeq_db is None or not math.isfinite(recent_rate_laeq_db):
        return None
    return needed / math.pow(10.0, 0.1 * recent_rate_laeq_db)
