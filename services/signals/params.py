"""The parameters of the weak signals, each with the reason for its value (docs/signals.md).

Tuned with ``vigie bench signals`` on seeds 101, 102 and 103; the figures in docs/benchmarks.md are on other seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.signals.stats import CUSUM_H, CUSUM_K, Z_CAP, Center


@dataclass(frozen=True, slots=True)
class TrendParams:
    """How one metric's trend is computed (services/signals/stats.py ``trend``; counts.py ``count_trend``).

    ``baseline_days``: valid days forming the subject's own baseline, and the minimum before anything can be
    flagged (six working weeks: the spread of thirty days is a usable estimate, and a new agent is not judged
    on a week).
    ``recent_days``: valid days behind the recent level (a working week and a half: long enough that one day
    cannot make it, short enough to follow a change within 14 days). ``min_effect``: the recent level must have
    moved by this many robust spreads. ``sd_floor``: the smallest spread believed, in the metric's unit (for a
    count, of one day's rate: twice it is the step the counted-data CUSUM is designed to catch).
    ``poisson_floor``/``center``: for sparse values that are not counts of events (high-strain minutes), the spread
    is at least √mean and the levels are means (a median of mostly-zero days stays at zero). ``log_scale``: a ratio,
    tested on its logarithm (sd_floor then in log units) and shown as a ratio.
    """

    baseline_days: int = 30
    recent_days: int = 7
    min_effect: float = 1.0
    sd_floor: float = 0.0
    poisson_floor: bool = False
    center: Center = "robust"
    log_scale: bool = False


@dataclass(frozen=True, slots=True)
class SignalParams:
    window_days: int = 190
    """Calendar days analysed up to ``until``: about six months, so a baseline is at most half a year old."""
    min_worked_s: float = 2 * 3600.0
    """An agent-day with less work than two hours is skipped: a resting heart rate or a rate per hour of a short
    day is not comparable to a shift's."""
    min_robot_work_h: float = 1.0
    """A robot-day with less than an hour of work is skipped (a rate per hour of a few minutes is noise)."""
    k: float = CUSUM_K
    h: float = CUSUM_H
    z_cap: float = Z_CAP

    # Physiology, against the agent's own baseline. Floors: day-to-day variability of the measure at rest or at
    # work (resting HR ≈ 2 bpm, working HR ≈ 3 bpm, 2-min recovery ≈ 2 bpm day to day; Buchheit 2014, Front.
    # Physiol. 5:73, reports typical errors of this size for field HR measures).
    resting_hr: TrendParams = field(default_factory=lambda: TrendParams(sd_floor=2.0))
    working_hr: TrendParams = field(default_factory=lambda: TrendParams(sd_floor=3.0))
    hr_recovery: TrendParams = field(default_factory=lambda: TrendParams(sd_floor=2.0))
    high_strain: TrendParams = field(
        default_factory=lambda: TrendParams(sd_floor=5.0, poisson_floor=True, center="mean"))

    # Exposure: fixed action values, not the agent's own baseline.
    noise_action_db: float = 80.0
    """Lower exposure action value, LEX,8h 80 dB(A) (Code du travail R4431-2; ISO 9612 measurement); the upper
    one (85 dB(A)) makes hearing protection compulsory."""
    hav_action_points: float = 100.0
    """HSE exposure action value: 100 points = A(8) 2.5 m/s² (Directive 2002/44/EC, ISO 5349-1)."""
    consecutive_days: int = 5
    """Worked days in a row above an action value that make a signal: a whole working week."""
    crew_noise_share: float = 0.5
    """A crew-day counts as over the noise action value when at least half its measured agents are."""
    noise: TrendParams = field(default_factory=lambda: TrendParams(sd_floor=2.0))
    hav_points: TrendParams = field(default_factory=lambda: TrendParams(sd_floor=10.0))

    # Near misses, falls and heat episodes. Stumbles and heat episodes are counts tested as rates (counts.py); the
    # floors are the smallest change of rate worth a look: a stumble every four worked days, one agent-day in fifty
    # on a site, an episode a day on a round. Near misses are several a day per robot: the robust trend.
    stumbles: TrendParams = field(default_factory=lambda: TrendParams(sd_floor=0.25))
    site_stumbles: TrendParams = field(default_factory=lambda: TrendParams(sd_floor=0.02))
    near_misses: TrendParams = field(default_factory=lambda: TrendParams(sd_floor=0.1))
    heat: TrendParams = field(default_factory=lambda: TrendParams(sd_floor=1.0))

    # Work organisation.
    heavy_lift_kg: float = 25.0
    """NF X35-109: 25 kg is the maximum load an adult man should carry habitually (15 kg for women)."""
    lifts_per_h: TrendParams = field(default_factory=lambda: TrendParams(sd_floor=0.1))
    """Heavy lifts are counted per hour worked and tested as a rate (counts.py): a long day is more evidence."""
    tonnage_share: TrendParams = field(default_factory=lambda: TrendParams(sd_floor=0.1, log_scale=True))
    """The share of the crew's load is a ratio: tested on its logarithm (floor 0.1: about ±10 % day to day)."""
    night_min_worked_days: int = 10
    """Worked days (two weeks) of the year before its share of nights is projected: in January the projection runs
    over the whole year, and one week of a rota's nights is not its share."""
    night_min_rota_days: int = 6
    """Worked days (a working week) of a new rota before its share is projected: the change itself is already
    established by the CUSUM (at least four nights against the agent's usual share)."""
    night_bound_z: float = 1.6449
    """The share of nights is projected at its one-sided 95 % Wilson lower bound: an uncertain share, from few
    days, projects less far."""


DEFAULT_PARAMS = SignalParams()
