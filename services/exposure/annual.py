"""The annual statement of the occupational risk factors of Code du travail D4163-2 (compte professionnel de
prévention) that Vigie measures: noise, extreme temperatures and night work.

D4163-2 thresholds, appreciated over the calendar year after collective and individual protection (L4163-2):

* noise: L_EX,8h of at least 81 dB(A) — 600 hours a year; LCpeak of at least 135 dB(C) — 120 times a year;
* extreme temperatures: at most 5 °C or at least 30 °C — 900 hours a year;
* night work: one hour between 00:00 and 05:00 — 120 nights a year, lowered to 100 from 1 September 2023 by
  décret n° 2023-760 du 10 août 2023 (art. D4163-2 as amended). For 2023 itself the C2P administration set 113
  nights for a contract covering the whole year (120 for one ending by 31 August, 100 for one starting from
  1 September): ameli.fr, "Travail de nuit et en équipes successives alternantes : quels seuils d'exposition
  déclarer ?" (2023). ``night_threshold_nights`` encodes the whole-year values; pass another for a shorter
  contract.

"Reached" means at least the threshold (D4163-2 gives minimum durations).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from services.exposure.night import counts_as_night

NOISE_LEX_AT_EAR_DBA = 81.0
NOISE_HOURS_PER_YEAR = 600.0
PEAKS_PER_YEAR = 120
EXTREME_TEMP_HOURS_PER_YEAR = 900.0


def night_threshold_nights(year: int) -> int:
    """Nights a year that make night work a D4163-2 factor, for a contract covering the whole ``year``."""
    if year < 2023:
        return 120
    if year == 2023:
        return 113
    return 100


@dataclass(frozen=True, slots=True)
class DaySummary:
    """What the annual statement needs of one agent's local day, read off that day's ledger entries.

    ``lex_8h_at_ear_db`` is L_EX,8h under the agent's hearing protection (None: no noise measured);
    ``peaks_ge_135`` is the count of LCpeak ≥ 135 dB(C) as the ledger records them; ``temp_extreme_s`` the
    seconds at ≤ 5 °C or ≥ 30 °C; ``night_s`` the seconds worked between 00:00 and 05:00 local time.
    """

    day: date
    worked_s: float
    lex_8h_at_ear_db: float | None = None
    peaks_ge_135: int = 0
    temp_extreme_s: float = 0.0
    night_s: float = 0.0


@dataclass(frozen=True, slots=True)
class FactorTally:
    """One factor's yearly amount against its D4163-2 threshold, in the threshold's unit."""

    amount: float
    threshold: float
    unit: str

    @property
    def share(self) -> float:
        """Amount as a share of the threshold (1.0 = threshold reached)."""
        return self.amount / self.threshold

    @property
    def reached(self) -> bool:
        return self.amount >= self.threshold


@dataclass(frozen=True, slots=True)
class AnnualStatement:
    """The D4163-2 factors Vigie measures, for one agent and one calendar year."""

    year: int
    days: int
    noise_hours: FactorTally
    peaks: FactorTally
    extreme_temp_hours: FactorTally
    nights: FactorTally

    @property
    def factors_reached(self) -> tuple[str, ...]:
        """Names of the factors at or above their threshold (noise counts once, by hours or by peaks)."""
        reached: list[str] = []
        if self.noise_hours.reached or self.peaks.reached:
            reached.append("noise")
        if self.extreme_temp_hours.reached:
            reached.append("extreme_temperatures")
        if self.nights.reached:
            reached.append("night_work")
        return tuple(reached)


def annual_statement(year: int, days: Iterable[DaySummary], night_threshold: int | None = None) -> AnnualStatement:
    """Sum a year of day summaries into the D4163-2 statement.

    Noise hours are the hours worked on days whose L_EX,8h at the ear is at least 81 dB(A); a night is a day with
    at least one hour between 00:00 and 05:00. Days must be in ``year`` and appear once each (one summary per
    agent and local day): anything else raises ValueError rather than being silently dropped or double counted.
    """
    noise_s = 0.0
    peaks = 0
    extreme_s = 0.0
    nights = 0
    seen: set[date] = set()
    for summary in days:
        if summary.day.year != year:
            raise ValueError(f"{summary.day.isoformat()} is not in {year}")
        if summary.day in seen:
            raise ValueError(f"{summary.day.isoformat()} summarised twice")
        seen.add(summary.day)
        if summary.lex_8h_at_ear_db is not None and summary.lex_8h_at_ear_db >= NOISE_LEX_AT_EAR_DBA:
            noise_s += summary.worked_s
        peaks += summary.peaks_ge_135
        extreme_s += summary.temp_extreme_s
        nights += int(counts_as_night(summary.night_s))
    nights_threshold = night_threshold_nights(year) if night_threshold is None else night_threshold
    return AnnualStatement(
        year=year,
        days=len(seen),
        noise_hours=FactorTally(noise_s / 3600.0, NOISE_HOURS_PER_YEAR, "h"),
        peaks=FactorTally(float(peaks), float(PEAKS_PER_YEAR), "peaks"),
        extreme_temp_hours=FactorTally(extreme_s / 3600.0, EXTREME_TEMP_HOURS_PER_YEAR, "h"),
        nights=FactorTally(float(nights), float(nights_threshold), "nights"),
    )
