"""What each weak signal means, in French and in English: ``meaning(signal, lang)`` (docs/signals.md).

The one place that writes a signal's sentence for a safety officer: the levels (baseline and recent, with their
unit), the effect in robust standard deviations (Poisson ones for counts), whether it is flagged, the facts the
signal carries (a run of days over an action value, the heat peak hour, the year's night count), then why it
matters and where to look, with the text it rests on. Vigie is French first (Paris): the French is written for a
French prevention officer (decimal comma, dd/mm/yyyy dates, the Code du travail's articles), not translated word
for word; the English is for the English dashboard and reports. Numbers and dates are written as the reports
write them (services/i18n_format.py). Pure: figures in, text out.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.i18n_format import Lang, long_date, number, percent
from services.signals.agent import (
    HAV_RISING,
    HAV_RUN,
    HIGH_STRAIN,
    HR_RECOVERY,
    LIFTS,
    NIGHT_WORK_KIND,
    NOISE_RUN,
    RESTING_HR,
    STUMBLES,
    TONNAGE,
    WORKING_HR,
)
from services.signals.detect import METRICS
from services.signals.groups import CREW_NOISE, HEAT, NEAR_MISSES, SITE_STUMBLES
from services.signals.model import NightYear, PeakHour, RunOver, Signal, SubjectKind


@dataclass(frozen=True, slots=True)
class Text:
    """One kind's words: its label (what is measured) and why it matters, in each language.

    ``why`` may name the subject's place as ``{where}`` (a crew's round, a site).
    """

    label_fr: str
    label_en: str
    why_fr: str
    why_en: str


TEXTS: dict[str, Text] = {
    RESTING_HR.kind: Text(
        "Fréquence cardiaque de repos", "Resting heart rate",
        "Une fréquence cardiaque de repos qui monte au fil des semaines est un marqueur classique de fatigue "
        "accumulée, de mauvaise récupération ou de maladie (Buchheit 2014) : à aborder avec l'agent et, si cela "
        "persiste, avec le médecin du travail.",
        "A resting heart rate creeping up over weeks is a classic marker of accumulated fatigue, poor recovery or "
        "illness (Buchheit 2014); worth a conversation and, if it persists, the occupational physician."),
    WORKING_HR.kind: Text(
        "Fréquence cardiaque au travail", "Working heart rate",
        "Le même travail coûte davantage de battements : la charge cardiovasculaire s'alourdit (chaleur, cadence, "
        "déconditionnement). Regarder le travail et les pauses avant la personne.",
        "The same work costing more heart beats means a heavier cardiovascular load (heat, pace, deconditioning): "
        "look at the work and the breaks before the person."),
    HR_RECOVERY.kind: Text(
        "Baisse de la fréquence cardiaque 2 min après les séries de levées",
        "Heart-rate drop 2 min after lifting bursts",
        "Une fréquence cardiaque qui redescend moins après l'effort est un marqueur reconnu de fatigue et de "
        "contrainte cardiovasculaire (Cole et al. 1999, NEJM 341:1351 ; Buchheit 2014) : les temps de récupération "
        "entre les efforts ne suffisent plus.",
        "A heart rate that comes down less after effort is a recognised marker of fatigue and cardiovascular strain "
        "(Cole et al. 1999, NEJM 341:1351; Buchheit 2014): the recovery between efforts is getting shorter than "
        "needed."),
    HIGH_STRAIN.kind: Text(
        "Minutes de forte contrainte physiologique (PSI ≥ 7)", "Minutes of high physiological strain (PSI ≥ 7)",
        "Plus de minutes par poste à un indice de contrainte physiologique (PSI) de 7 ou plus (Moran et al. 1998) : "
        "l'organisme travaille plus souvent près de ses limites. Chaleur, cadence ou charge sont à réduire.",
        "More minutes per shift at a Physiological Strain Index of 7 or more (Moran et al. 1998) means the body is "
        "more often near its limits: heat, pace or load to reduce."),
    NOISE_RUN.kind: Text(
        "Exposition quotidienne au bruit LEX,8h", "Daily noise exposure LEX,8h",
        "Jour après jour au-dessus de la valeur d'exposition inférieure déclenchant l'action, 80 dB(A) "
        "(art. R4431-2 du Code du travail, mesurage selon ISO 9612) : des protecteurs auditifs doivent être mis à "
        "disposition et portés, et les sources de bruit étudiées ; à 85 dB(A), leur port est obligatoire.",
        "Day after day over the lower action value of 80 dB(A) (R4431-2, ISO 9612): hearing protection must be "
        "available and used, and the noise sources looked at; at 85 dB(A) protection is compulsory."),
    HAV_RUN.kind: Text(
        "Points quotidiens de vibrations main-bras", "Daily hand-arm vibration points",
        "Jour après jour au-dessus de la valeur d'exposition déclenchant l'action, 100 points, soit A(8) = 2,5 m/s² "
        "(art. R4443-2 du Code du travail, ISO 5349-1, directive 2002/44/CE) : revoir les outils et la rotation "
        "des tâches, et organiser le suivi de l'état de santé.",
        "Day after day over the exposure action value of 100 points (A(8) 2.5 m/s², R4443-2, ISO 5349-1, "
        "Directive 2002/44/EC): tools, rotation and health surveillance are due."),
    HAV_RISING.kind: Text(
        "Points quotidiens de vibrations main-bras", "Daily hand-arm vibration points",
        "Des points de vibration en hausse semaine après semaine rapprochent l'agent de la valeur d'action de "
        "100 points et de la valeur limite de 400 points (HSE, ISO 5349-1) : vérifier l'état des outils et la "
        "rotation des tâches.",
        "Vibration points rising week after week bring the agent nearer the 100-point action value and the "
        "400-point limit (HSE, ISO 5349-1): check the tools' condition and the task rotation."),
    STUMBLES.kind: Text(
        "Chutes suspectées annulées par l'agent", "Suspected falls cancelled by the wearer",
        "Des trébuchements plus fréquents qu'à l'habitude sont des presque-accidents : sol, chaussures, charge "
        "portée ou fatigue ; une chute les suit souvent.",
        "More stumbles than usual are near misses: the ground, the footwear, the load carried or fatigue; a fall "
        "often follows them."),
    LIFTS.kind: Text(
        "Levées de 25 kg ou plus par heure", "Lifts of 25 kg or more per hour",
        "Plus de levées lourdes par heure que d'habitude pour cet agent : la norme NF X35-109 retient 25 kg comme "
        "charge limite d'un port habituel ; répétées, ces levées mènent aux lombalgies. Voir les aides à la "
        "manutention et la répartition des charges.",
        "More heavy lifts per hour than usual for this agent: NF X35-109 puts 25 kg as the habitual carrying limit; "
        "repeated, they drive back injuries — look at handling aids and the sharing of the load."),
    TONNAGE.kind: Text(
        "Tonnage manutentionné rapporté à la médiane du reste de l'équipe",
        "Tonnage handled / median of the rest of the crew",
        "Cet agent porte désormais une plus grande part de la charge de l'équipe qu'auparavant : vérifier la "
        "répartition du travail (tonnage cumulé, NF X35-109) avant qu'elle ne cause une blessure.",
        "This agent now handles a larger share of the crew's load than before: check how the work is shared out "
        "(NF X35-109 cumulative tonnage) before it becomes an injury."),
    HEAT.kind: Text(
        "Épisodes de contrainte thermique par jour travaillé", "Heat-strain episodes per worked day",
        "La contrainte thermique revient régulièrement sur {where} : adapter les horaires (l'heure la plus touchée "
        "est indiquée), prévoir ombre, eau et pauses ; le coup de chaleur suit une contrainte répétée, pas "
        "seulement les canicules.",
        "Heat strain keeps recurring on {where}: change the hours (the peak hour is given), add shade, water and "
        "breaks — heat illness follows repeated strain, not only heat waves."),
    CREW_NOISE.kind: Text(
        "Part de l'équipe au-dessus de 80 dB(A) LEX,8h", "Share of the crew over 80 dB(A) LEX,8h",
        "L'équipe dépasse jour après jour la valeur d'exposition inférieure déclenchant l'action (80 dB(A), "
        "art. R4431-2) : une mesure collective s'impose (matériel moins bruyant, éloignement, rotation), pas "
        "seulement des bouchons d'oreilles.",
        "The crew is over the lower noise action value (80 dB(A), R4431-2) day after day: a collective measure is "
        "due (quieter equipment, distance, rotation), not only ear plugs."),
    NEAR_MISSES.kind: Text(
        "Arrêts de protection et ralentissements des robots pour des personnes, par heure de travail",
        "Robot protective stops and slow-downs for people per hour of work",
        "Les robots s'arrêtent ou ralentissent plus souvent pour des personnes : humains et robots partagent "
        "l'espace plus que prévu (ISO/TS 15066, ISO 10218-2). Revoir les trajets, les zones et les horaires avant "
        "qu'un contact ne se produise.",
        "Robots stop or slow down for people more often: people and robots share the space more than planned "
        "(ISO/TS 15066, ISO 10218-2) — review the routes, the zones and the timing before a contact happens."),
    SITE_STUMBLES.kind: Text(
        "Trébuchements par agent et par jour sur le site", "Stumbles per agent-day on the site",
        "Davantage de trébuchements sur l'ensemble du site : le sol, l'éclairage ou la météo font trébucher ; les "
        "chutes suivent.",
        "More stumbles across the site: the ground, the lighting or the weather is making people trip; falls "
        "follow."),
    NIGHT_WORK_KIND: Text(
        "Travail de nuit", "Night work",
        "Au-delà de ce seuil, le travail de nuit est un facteur de risques professionnels à déclarer : organiser le "
        "planning pour répartir les nuits.",
        "Beyond the threshold night work is a declared risk factor: plan the rota so the nights are shared out."),
}  # fmt: skip

_UNITS_FR = {
    "per day": "par jour",
    "per h": "par heure",
    "per agent-day": "par agent et par jour",
    "× crew median": "× la médiane de l'équipe",
    "share": "part de l'équipe",
    "nights": "nuits",
}
_COUNTED = frozenset(m.kind for m in METRICS if m.counted)
"""Counts tested as rates (services/signals/counts.py): their effect is in standard deviations of one day's rate
under the Poisson model (at least the metric's floor), not in robust spreads of the baseline days."""
_WHERE = {
    SubjectKind.CREW: ("cette tournée", "this round"),
    SubjectKind.SITE: ("ce site", "this site"),
    SubjectKind.ROBOT: ("ce robot", "this robot"),
    SubjectKind.AGENT: ("cet agent", "this agent"),
}


def _pick(lang: Lang, fr: str, en: str) -> str:
    return fr if lang == "fr" else en


def _plural(count: float, lang: Lang, fr: tuple[str, str], en: tuple[str, str]) -> str:
    # French takes the singular below 2 (« 1,5 écart-type »), English only for exactly one.
    singular, plural = fr if lang == "fr" else en
    one = abs(count) < 2 if lang == "fr" else abs(count) == 1
    return singular if one else plural


def label(kind: str, lang: Lang) -> str:
    """What a signal of this kind measures, in ``lang`` (KeyError for a kind without words: a test catches it)."""
    text = TEXTS[kind]
    return _pick(lang, text.label_fr, text.label_en)


def unit_label(unit: str, lang: Lang) -> str:
    """A signal's unit as written in ``lang`` (the API's ``unit`` is its English name)."""
    return _UNITS_FR.get(unit, unit) if lang == "fr" else unit


def level(value: float, unit: str, lang: Lang) -> str:
    """A baseline or recent level with its unit: "62,40 bpm", a share as a percentage, nights as whole nights."""
    if unit == "share":
        return percent(value, lang)
    if unit == "nights":
        return f"{number(value, 0, lang)} {unit_label(unit, lang)}"
    return f"{number(value, 2, lang)} {unit_label(unit, lang)}"


def meaning(signal: Signal, lang: Lang) -> str:
    """The signal's sentence in ``lang``: its levels, effect and state, its facts, and why it matters."""
    if signal.kind == NIGHT_WORK_KIND:
        return _night(signal, lang)
    text = TEXTS[signal.kind]
    why = _pick(lang, text.why_fr, text.why_en).format(where=_pick(lang, *_WHERE[signal.subject_kind]))
    baseline, recent = level(signal.baseline, signal.unit, lang), level(signal.recent, signal.unit, lang)
    effect = number(signal.effect_size, 1, lang, signed=True)
    if signal.kind in _COUNTED:
        sd = _plural(round(signal.effect_size, 1), lang, ("écart-type de Poisson", "écarts-types de Poisson"),
                     ("Poisson sd", "Poisson sd"))  # fmt: skip
    else:
        sd = _plural(round(signal.effect_size, 1), lang, ("écart-type robuste", "écarts-types robustes"),
                     ("robust sd", "robust sd"))  # fmt: skip
    state = _state(signal, lang)
    if lang == "fr":
        return (f"{label(signal.kind, lang)} : {baseline} en référence, {recent} ces derniers jours "
                f"({effect} {sd}, {state}){_facts(signal, lang)}. {why}")  # fmt: skip
    return (f"{label(signal.kind, lang)}: {baseline} at baseline, {recent} recently "
            f"({effect} {sd}, {state}){_facts(signal, lang)}. {why}")  # fmt: skip


def _state(signal: Signal, lang: Lang) -> str:
    if lang == "fr":
        return "signal levé" if signal.flagged else "signal non levé"
    return "flagged" if signal.flagged else "not flagged"


def _facts(signal: Signal, lang: Lang) -> str:
    """The run of days over the action value and the heat peak hour, as clauses after the figures."""
    clauses = []
    run = signal.fact(RunOver)
    if run is not None:
        start, end = long_date(run.start, lang), long_date(run.end, lang)
        clauses.append(_pick(lang, f"{run.days} jours travaillés d'affilée au-dessus de la valeur d'action, "
                                   f"du {start} au {end}",
                             f"{run.days} worked days in a row over the action value, "
                             f"from {start} to {end}"))  # fmt: skip
    peak = signal.fact(PeakHour)
    if peak is not None:
        after = (peak.hour + 1) % 24
        count = f"{peak.episodes} {_plural(peak.episodes, lang, ('épisode', 'épisodes'), ('episode', 'episodes'))}"
        clauses.append(_pick(lang, f"la plupart des épisodes récents entre {peak.hour} h et {after} h ({count})",
                             f"most episodes recently between {peak.hour:02d}:00 and {after:02d}:00 "
                             f"({count})"))  # fmt: skip
    separator = " ; " if lang == "fr" else "; "
    return "".join(separator + clause for clause in clauses)


def _night(signal: Signal, lang: Lang) -> str:
    """D4163-2 night work: nights so far (baseline), projected to 31 December (recent), against the threshold."""
    year = signal.fact(NightYear)
    if year is None:
        raise ValueError(f"a {NIGHT_WORK_KIND} signal carries its NightYear fact")
    so_far = round(signal.baseline)
    nights = _plural(so_far, lang, ("nuit", "nuits"), ("night", "nights"))
    projected, chance = number(signal.recent, 0, lang), percent(signal.confidence, lang)
    text, state = TEXTS[NIGHT_WORK_KIND], _state(signal, lang)
    if lang == "fr":
        return (f"{text.label_fr} : {so_far} {nights} depuis le 1er janvier {year.year}, environ {projected} prévues "
                f"au 31 décembre, pour un seuil de {year.threshold_nights} nuits (art. D4163-2) ; probabilité de "
                f"l'atteindre : {chance} ({state}). {text.why_fr}")  # fmt: skip
    return (f"{text.label_en}: {so_far} {nights} so far in {year.year}, about {projected} projected by 31 December "
            f"against the D4163-2 threshold of {year.threshold_nights} ({chance} likely to reach it, {state}). "
            f"{text.why_en}")  # fmt: skip
