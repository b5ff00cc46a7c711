"""What each weak signal means, in French and in English (services/signals/meanings.py).

Every kind has its sentence in both languages; the French one is French (decimal comma, dd/mm/yyyy, the Code du
travail's articles), the English one stays English; both quote the signal's own figures and facts.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from datetime import date, timedelta

import pytest

import services.signals
from services.signals import agent, detect
from services.signals.build import Metric
from services.signals.meanings import TEXTS, label, meaning, unit_label
from services.signals.model import DayValue, Fact, NightYear, PeakHour, RunOver, Signal, SubjectKind

DEFINED = {m for info in pkgutil.iter_modules(services.signals.__path__, "services.signals.")
           for m in vars(importlib.import_module(info.name)).values() if isinstance(m, Metric)}  # fmt: skip
"""Every metric bound at the top of a module of services/signals, whichever module defines it."""
METRICS = {m.kind: m for m in DEFINED}
FRENCH_LETTERS = re.compile(r"[àâçéèêëîïôùûüÿœ]", re.IGNORECASE)
DAY = date(2026, 11, 7)


def signal(kind: str, baseline: float, recent: float, effect: float = 3.94, flagged: bool = True,
           subject_kind: SubjectKind = SubjectKind.AGENT, facts: tuple[Fact, ...] = (),
           confidence: float = 0.99) -> Signal:  # fmt: skip
    metric = METRICS.get(kind, Metric(kind, "nights_per_year", "nights", "up"))
    series = tuple(DayValue(DAY - timedelta(days=i), baseline) for i in range(40))
    return Signal(kind, subject_kind, "s1", metric.name, metric.unit, metric.direction, baseline, recent, effect,
                  confidence, flagged, DAY if flagged else None, 1 if subject_kind is SubjectKind.AGENT else 6,
                  series, facts)  # fmt: skip


RUN = (RunOver(5, date(2026, 11, 3), DAY),)
CREW = SubjectKind.CREW

# kind → (the signal, phrases of its French sentence, phrases of its English one)
CASES: dict[str, tuple[Signal, tuple[str, ...], tuple[str, ...]]] = {
    "resting_hr_drift": (
        signal("resting_hr_drift", 62.4, 70.1),
        ("Fréquence cardiaque de repos : 62,40 bpm en référence, 70,10 bpm ces derniers jours "
         "(+3,9 écarts-types robustes, signal levé).", "Buchheit 2014", "médecin du travail"),
        ("Resting heart rate: 62.40 bpm at baseline, 70.10 bpm recently (+3.9 robust sd, flagged).",
         "Buchheit 2014", "occupational physician")),
    "working_hr_drift": (
        signal("working_hr_drift", 95.25, 104.5),
        ("Fréquence cardiaque au travail : 95,25 bpm", "104,50 bpm", "avant la personne"),
        ("Working heart rate: 95.25 bpm", "before the person")),
    "hr_recovery_slowing": (
        signal("hr_recovery_slowing", 22.0, 15.5),
        ("15,50 bpm ces derniers jours", "redescend moins après l'effort", "Cole et al. 1999, NEJM 341:1351"),
        ("Heart-rate drop 2 min after lifting bursts: 22.00 bpm", "Cole et al. 1999, NEJM 341:1351")),
    "high_strain_minutes": (
        signal("high_strain_minutes", 5.0, 12.5),
        ("Minutes de forte contrainte physiologique (PSI ≥ 7) : 5,00 min", "12,50 min", "Moran et al. 1998"),
        ("Minutes of high physiological strain (PSI ≥ 7): 5.00 min", "Moran et al. 1998")),
    "noise_consecutive_days": (
        signal("noise_consecutive_days", 76.1, 84.4, facts=RUN),
        ("Exposition quotidienne au bruit LEX,8h : 76,10 dB(A) en référence, 84,40 dB(A)",
         " ; 5 jours travaillés d'affilée au-dessus de la valeur d'action, du 03/11/2026 au 07/11/2026.",
         "art. R4431-2 du Code du travail", "ISO 9612", "à 85 dB(A), leur port est obligatoire"),
        ("Daily noise exposure LEX,8h: 76.10 dB(A) at baseline",
         "; 5 worked days in a row over the action value, from 2026-11-03 to 2026-11-07.", "R4431-2", "ISO 9612")),
    "hav_consecutive_days": (
        signal("hav_consecutive_days", 80.0, 130.0, facts=RUN),
        ("Points quotidiens de vibrations main-bras : 80,00 points", "A(8) = 2,5 m/s²", "art. R4443-2",
         "ISO 5349-1", "directive 2002/44/CE", "du 03/11/2026 au 07/11/2026"),
        ("Daily hand-arm vibration points: 80.00 points", "2.5 m/s²", "ISO 5349-1", "Directive 2002/44/EC")),
    "hav_points_rising": (
        signal("hav_points_rising", 40.0, 75.0),
        ("valeur limite de 400 points (HSE, ISO 5349-1)", "état des outils"),
        ("the 400-point limit (HSE, ISO 5349-1)",)),
    "stumbles": (
        signal("stumbles", 0.04, 0.6),
        ("Chutes suspectées annulées par l'agent : 0,04 par jour en référence, 0,60 par jour ces derniers jours "
         "(+3,9 écarts-types de Poisson, signal levé).", "presque-accidents"),
        ("Suspected falls cancelled by the wearer: 0.04 per day at baseline, 0.60 per day recently "
         "(+3.9 Poisson sd, flagged).", "near misses")),
    "heavy_lifts_per_hour": (
        signal("heavy_lifts_per_hour", 2.0, 4.25),
        ("Levées de 25 kg ou plus par heure : 2,00 par heure", "4,25 par heure", "NF X35-109", "lombalgies"),
        ("Lifts of 25 kg or more per hour: 2.00 per h", "NF X35-109", "back injuries")),
    "tonnage_vs_crew": (
        signal("tonnage_vs_crew", 1.0, 1.6),
        ("1,60 × la médiane de l'équipe ces derniers jours", "tonnage cumulé, NF X35-109"),
        ("1.60 × crew median recently", "NF X35-109 cumulative tonnage")),
    "heat_strain_recurring": (
        signal("heat_strain_recurring", 0.1, 0.9, subject_kind=CREW, facts=(PeakHour(14, 6),)),
        ("Épisodes de contrainte thermique par jour travaillé : 0,10 par jour",
         " ; la plupart des épisodes récents entre 14 h et 15 h (6 épisodes).", "sur cette tournée",
         "ombre, eau et pauses"),
        ("; most episodes recently between 14:00 and 15:00 (6 episodes).", "on this round")),
    "crew_noise_over_action": (
        signal("crew_noise_over_action", 0.2, 0.6, subject_kind=CREW, facts=RUN),
        ("Part de l'équipe au-dessus de 80 dB(A) LEX,8h : 20 % en référence, 60 % ces derniers jours",
         "mesure collective", "art. R4431-2"),
        ("Share of the crew over 80 dB(A) LEX,8h: 20% at baseline, 60% recently", "collective measure")),
    "robot_near_misses": (
        signal("robot_near_misses", 2.0, 4.0, subject_kind=SubjectKind.ROBOT),
        ("par heure de travail : 2,00 par heure en référence", "ISO/TS 15066, ISO 10218-2",
         "avant qu'un contact ne se produise"),
        ("per hour of work: 2.00 per h at baseline", "ISO/TS 15066, ISO 10218-2")),
    "site_stumbles": (
        signal("site_stumbles", 0.02, 0.09, subject_kind=SubjectKind.SITE),
        ("Trébuchements par agent et par jour sur le site : 0,02 par agent et par jour en référence",
         "l'éclairage ou la météo"),
        ("Stumbles per agent-day on the site: 0.02 per agent-day at baseline",)),
    "night_work_projection": (
        signal("night_work_projection", 61.0, 118.4, confidence=0.874, facts=(NightYear(2026, 100),)),
        ("Travail de nuit : 61 nuits depuis le 1er janvier 2026, environ 118 prévues au 31 décembre, pour un seuil "
         "de 100 nuits (art. D4163-2) ; probabilité de l'atteindre : 87 % (signal levé).",
         "facteur de risques professionnels"),
        ("Night work: 61 nights so far in 2026, about 118 projected by 31 December against the D4163-2 threshold "
         "of 100 (87% likely to reach it, flagged).", "declared risk factor")),
}  # fmt: skip


def test_every_kind_the_detection_makes_has_its_words_in_both_languages() -> None:
    kinds = set(METRICS) | {agent.NIGHT_WORK_KIND}
    assert set(TEXTS) == kinds == set(CASES)
    for kind in kinds:
        assert label(kind, "fr") != label(kind, "en")


@pytest.mark.parametrize("kind", sorted(CASES))
def test_the_french_meaning_is_written_in_french_with_a_decimal_comma(kind: str) -> None:
    one, phrases, _ = CASES[kind]
    text = meaning(one, "fr")
    for phrase in phrases:
        assert phrase in text
    assert not re.search(r"\d\.\d", text), text  # 62,40 bpm, 2,5 m/s², never 62.40
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text)  # 03/11/2026, never ISO dates
    for english in ("at baseline", "recently", "flagged", "robust sd", " per "):
        assert english not in text


@pytest.mark.parametrize("kind", sorted(CASES))
def test_the_english_meaning_stays_english(kind: str) -> None:
    one, _, phrases = CASES[kind]
    text = meaning(one, "en")
    for phrase in phrases:
        assert phrase in text
    assert not FRENCH_LETTERS.search(text), text
    assert not re.search(r"\d,\d", text)
    for french in ("référence", "ces derniers jours", "signal levé", " par ", " du "):
        assert french not in text


def test_every_metric_defined_in_services_signals_is_in_the_one_tuple_of_metrics() -> None:
    # What reads Metric.counted (the sentence's Poisson or robust sd) goes through detect.METRICS: a metric left
    # out of it would silently have its effect described in the wrong statistic.
    assert len(DEFINED) == len(METRICS) == len(detect.METRICS) == len({m.kind for m in detect.METRICS})
    assert set(detect.METRICS) == DEFINED


def test_a_counts_effect_reads_in_poisson_sd_and_a_trends_in_robust_sd() -> None:
    # Counts are tested as rates (services/signals/counts.py): their spread is the Poisson sd of one day's rate.
    counted = {kind for kind, metric in METRICS.items() if metric.counted}
    assert counted == {"stumbles", "site_stumbles", "heavy_lifts_per_hour", "heat_strain_recurring"}
    for kind, (one, _, _) in CASES.items():
        if kind == agent.NIGHT_WORK_KIND:
            continue
        fr, en = meaning(one, "fr"), meaning(one, "en")
        assert ("de Poisson" in fr and "Poisson sd" in en) == (kind in counted), kind
        assert ("robuste" in fr and "robust sd" in en) == (kind not in counted), kind
    single = meaning(signal("site_stumbles", 0.02, 0.03, effect=1.2, subject_kind=SubjectKind.SITE), "fr")
    assert "(+1,2 écart-type de Poisson, signal levé)" in single


def test_an_unmoved_unflagged_trend_reads_as_such_without_a_signed_zero() -> None:
    flat = signal("resting_hr_drift", 60.0, 60.01, effect=-0.02, flagged=False)
    assert "(0,0 écart-type robuste, signal non levé)." in meaning(flat, "fr")
    assert "(0.0 robust sd, not flagged)." in meaning(flat, "en")


def test_counts_agree_with_their_number_in_each_language() -> None:
    small = signal("resting_hr_drift", 60.0, 63.0, effect=1.5)
    assert "(+1,5 écart-type robuste, signal levé)" in meaning(small, "fr")  # singular below 2 in French
    first = signal("night_work_projection", 1.0, 40.0, flagged=False, facts=(NightYear(2026, 100),))
    assert "1 nuit depuis le 1er janvier 2026" in meaning(first, "fr")
    assert "1 night so far in 2026" in meaning(first, "en") and "not flagged" in meaning(first, "en")
    once = signal("heat_strain_recurring", 0.0, 0.2, subject_kind=SubjectKind.SITE, facts=(PeakHour(23, 1),))
    assert "entre 23 h et 0 h (1 épisode)" in meaning(once, "fr") and "sur ce site" in meaning(once, "fr")
    assert "between 23:00 and 00:00 (1 episode)" in meaning(once, "en") and "on this site" in meaning(once, "en")


def test_a_run_not_met_quotes_no_days() -> None:
    quiet = signal("noise_consecutive_days", 72.0, 74.0, effect=0.8, flagged=False)
    assert "d'affilée" not in meaning(quiet, "fr") and "in a row" not in meaning(quiet, "en")


def test_a_night_projection_without_its_year_is_refused() -> None:
    with pytest.raises(ValueError, match="NightYear"):
        meaning(signal("night_work_projection", 10.0, 50.0), "fr")


def test_units_read_in_the_reader_language() -> None:
    assert unit_label("per h", "fr") == "par heure" and unit_label("per h", "en") == "per h"
    assert unit_label("bpm", "fr") == "bpm" and unit_label("dB(A)", "fr") == "dB(A)"
