"""The "how these numbers were obtained" text printed with each report: methods and caveats, French and English.

Every threshold quoted is the ``services.exposure`` constant the ledger uses, so the text cannot drift from the
arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.reports.i18n import Lang, check_lang
from gateway.reports.i18n import limit as n
from services.exposure.annual import (
    EXTREME_TEMP_HOURS_PER_YEAR,
    NOISE_HOURS_PER_YEAR,
    NOISE_LEX_AT_EAR_DBA,
    PEAKS_PER_YEAR,
    night_threshold_nights,
)
from services.exposure.handling import DAILY_TONNAGE_INDICATOR_KG, HEAVY_LIFT_KG, VERY_HEAVY_LIFT_KG
from services.exposure.heat import COLD_TEMP_C, HOT_TEMP_C
from services.exposure.night import NIGHT_MIN_S
from services.exposure.noise import (
    LIMIT_LEX_DBA,
    LIMIT_PEAK_DBC,
    LOWER_ACTION_LEX_DBA,
    LOWER_ACTION_PEAK_DBC,
    PEAK_COUNTED_DBC,
    UPPER_ACTION_LEX_DBA,
    UPPER_ACTION_PEAK_DBC,
)
from services.exposure.vibration import (
    HAV_ACTION_A8_MS2,
    HAV_LIMIT_A8_MS2,
    WBV_ACTION_A8_MS2,
    WBV_AXIS_FACTORS,
    WBV_LIMIT_A8_MS2,
)


@dataclass(frozen=True, slots=True)
class MethodsText:
    """A report's methods: a title, (heading, paragraph) sections, and the caveats a reader must keep in mind."""

    title: str
    sections: tuple[tuple[str, str], ...]
    caveats_title: str
    caveats: tuple[str, ...]

    def plain(self) -> str:
        """The whole text as plain UTF-8 paragraphs (for an API field or a text file beside a CSV)."""
        parts = [self.title, ""]
        parts += [f"{heading}. {body}\n" for heading, body in self.sections]
        parts += [self.caveats_title] + [f"- {caveat}" for caveat in self.caveats]
        return "\n".join(parts) + "\n"


def exposure_methods(lang: str = "fr") -> MethodsText:
    """Methods of the daily exposure report (CSV and PDF) in ``lang`` ("fr" or "en")."""
    return _exposure_fr() if check_lang(lang) == "fr" else _exposure_en()


def annual_methods(lang: str = "fr") -> MethodsText:
    """Methods of the D4163-2 annual statement in ``lang`` ("fr" or "en")."""
    return _annual_fr() if check_lang(lang) == "fr" else _annual_en()


def _kx_ky_kz(lang: Lang) -> str:
    kx, ky, kz = (n(k, lang) for k in WBV_AXIS_FACTORS)
    return f"k_x = {kx}, k_y = {ky}, k_z = {kz}"


def _exposure_fr() -> MethodsText:
    fr: Lang = "fr"
    sections = {
        "Source": (
            "Valeurs dérivées du registre d'exposition de Vigie, mis à jour à chaque seconde à l'arrivée des trames "
            "des capteurs portés et des outils. Les journées sont des jours civils locaux (Europe/Paris) : une trame "
            "compte pour le jour où commence sa seconde. Les valeurs et jugements sont ceux du registre ; le rapport "
            "ne les recalcule pas."
        ),
        "Bruit": (
            "L_EX,8h selon l'ISO 9612:2009 (mesurage sur la journée entière) à partir des L_Aeq sur 1 s du dosimètre "
            "porté : L_EX,8h = 10·lg((1/T0)·Σ t_i·10^(0,1·L_Aeq,i)), T0 = 8 h. Dose en % du critère "
            f"{n(UPPER_ACTION_LEX_DBA)} dB(A), facteur de bissection 3 dB. Les valeurs d'action ("
            f"{n(LOWER_ACTION_LEX_DBA)} dB(A) / {n(LOWER_ACTION_PEAK_DBC)} dB(C) inférieures, "
            f"{n(UPPER_ACTION_LEX_DBA)} dB(A) / {n(UPPER_ACTION_PEAK_DBC)} dB(C) supérieures) sont jugées sans "
            f"protection et comptent dès qu'elles sont atteintes (R4434-7) ; les valeurs limites ({n(LIMIT_LEX_DBA)} "
            f"dB(A), {n(LIMIT_PEAK_DBC)} dB(C)) sont jugées à l'oreille, avec l'affaiblissement enregistré pour le "
            "protecteur de l'agent, et comptent lorsqu'elles sont dépassées (Code du travail R4431-2, R4431-3). "
            f"Crêtes : secondes dont le LCpeak atteint {n(PEAK_COUNTED_DBC)} dB(C)."
        ),
        "Vibrations main-bras": (
            "A(8) selon l'ISO 5349-1:2001, A(8) = √((1/T0)·Σ a_hv,i²·T_i), avec a_hv la valeur totale de vibration de "
            "l'étiquette de l'outil et T_i le temps de gâchette mesuré. Points d'exposition HSE : 100 points = valeur "
            f"d'action {n(HAV_ACTION_A8_MS2)} m/s², 400 points = valeur limite {n(HAV_LIMIT_A8_MS2)} m/s² (R4443-1, "
            "R4443-2)."
        ),
        "Vibrations corps entier": (
            f"A(8) selon l'ISO 2631-1:1997 : la plus élevée des trois valeurs d'axe pondérées, {_kx_ky_kz(fr)}. Valeur "
            f"d'action {n(WBV_ACTION_A8_MS2)} m/s², valeur limite {n(WBV_LIMIT_A8_MS2)} m/s²."
        ),
        "Chaleur": (
            "WBGT « mesuré » lorsque le capteur porte un globe noir (ISO 7243:2017, 0,7·t_nw + 0,2·t_g + 0,1·t_a, "
            "t_nw pris comme la température humide de Stull 2011) ; « estimé » sans globe (approximation du Bureau of "
            "Meteorology à partir de la température et de l'humidité de l'air) ; « mixte » si la journée combine les "
            "deux. Référence : WBGT de l'ISO 7243:2017 (annexe A) pour le métabolisme de la tâche (ISO 8996:2021) ; "
            f"les minutes au-dessus sont comptées à la seconde. Heures ≥ {n(HOT_TEMP_C)} °C et ≤ {n(COLD_TEMP_C)} °C : "
            "température de l'air. Température centrale estimée à partir de la fréquence cardiaque (Buller et al. "
            "2013) ; indice de contrainte physiologique PSI (Moran et al. 1998)."
        ),
        "Manutention": (
            f"Soulevés, dont ceux d'au moins {n(HEAVY_LIFT_KG)} kg et {n(VERY_HEAVY_LIFT_KG)} kg (NF X35-109:2011), et "
            f"tonnage cumulé comparé à l'indicateur de {n(DAILY_TONNAGE_INDICATOR_KG / 1000)} t par jour. Les charges "
            "portées par un robot ou un exosquelette à la place de l'agent (« évité ») ne sont pas dans le tonnage."
        ),
        "Travail de nuit": (
            f"Une nuit compte lorsque l'agent travaille au moins {n(NIGHT_MIN_S / 3600)} h entre 00:00 et 05:00, heure "
            "locale (Code du travail D4163-2)."
        ),
        "Provenance": (
            "Chaque section indique sa méthode (capteur porté, étiquette d'outil, estimation) et les appareils qui y "
            "ont contribué."
        ),
    }
    caveats = (
        "Les valeurs estimées sont signalées comme telles (WBGT « estimé », température centrale, PSI) ; elles ne "
        "remplacent pas un mesurage.",
        "Sauf mention contraire, les capteurs portés ne sont pas des exposimètres certifiés (IEC 61252) ni des "
        "sonomètres de classe 1 (IEC 61672-1) : les niveaux sont indicatifs.",
        "Les secondes sans trame (capteur retiré, hors réseau) ne comptent pas dans L_EX,8h : comparer la durée "
        "mesurée à la durée travaillée.",
        "L'affaiblissement des protecteurs est la valeur enregistrée par le service (EN 458), pas une mesure sur "
        "l'agent ; le port effectif n'est pas vérifié.",
        "L'a_hv des outils est la valeur déclarée, qui peut sous-estimer l'exposition réelle.",
        "Des trames arrivées en retard complètent le registre : un rapport généré plus tard peut différer ; l'heure "
        "de génération figure en pied de page.",
    )
    return MethodsText(
        "Méthodes : comment ces chiffres ont été obtenus", tuple(sections.items()), "Limites et précautions", caveats
    )


def _exposure_en() -> MethodsText:
    en: Lang = "en"
    sections = {
        "Source": (
            "Values derived from Vigie's exposure ledger, updated per second as frames arrive from the wearables and "
            "tools. Days are local calendar days (Europe/Paris): a frame counts for the day its second starts in. "
            "Values and judgements are the ledger's; the report does not recompute them."
        ),
        "Noise": (
            "L_EX,8h per ISO 9612:2009 (full-day measurement) from the wearable dosimeter's 1-s L_Aeq: L_EX,8h = "
            f"10·lg((1/T0)·Σ t_i·10^(0.1·L_Aeq,i)), T0 = 8 h. Dose in % of a {n(UPPER_ACTION_LEX_DBA, en)} dB(A) "
            f"criterion, 3 dB exchange rate. Action values ({n(LOWER_ACTION_LEX_DBA, en)} dB(A) / "
            f"{n(LOWER_ACTION_PEAK_DBC, en)} dB(C) lower, {n(UPPER_ACTION_LEX_DBA, en)} dB(A) / "
            f"{n(UPPER_ACTION_PEAK_DBC, en)} dB(C) upper) are judged without protection and count when reached "
            f"(R4434-7); limit values ({n(LIMIT_LEX_DBA, en)} dB(A), {n(LIMIT_PEAK_DBC, en)} dB(C)) are judged at the "
            "ear with the attenuation registered for the agent's protector, and count when exceeded (Code du travail "
            f"R4431-2, R4431-3). Peaks: seconds whose LCpeak reaches {n(PEAK_COUNTED_DBC, en)} dB(C)."
        ),
        "Hand-arm vibration": (
            "A(8) per ISO 5349-1:2001, A(8) = √((1/T0)·Σ a_hv,i²·T_i), a_hv being the vibration total value on the "
            "tool's tag and T_i the measured trigger time. HSE exposure points: 100 points = the "
            f"{n(HAV_ACTION_A8_MS2, en)} m/s² action value, 400 points = the {n(HAV_LIMIT_A8_MS2, en)} m/s² limit "
            "value (R4443-1, R4443-2)."
        ),
        "Whole-body vibration": (
            f"A(8) per ISO 2631-1:1997: the highest of the three weighted axis values, {_kx_ky_kz(en)}. Action value "
            f"{n(WBV_ACTION_A8_MS2, en)} m/s², limit value {n(WBV_LIMIT_A8_MS2, en)} m/s²."
        ),
        "Heat": (
            "WBGT is 'measured' when the wearable has a black globe (ISO 7243:2017, 0.7·t_nw + 0.2·t_g + 0.1·t_a, "
            "t_nw taken as Stull's 2011 wet bulb), 'estimated' without one (Bureau of Meteorology approximation from "
            "air temperature and humidity), 'mixed' when a day has both. Reference: the ISO 7243:2017 annex A WBGT "
            "for the task's metabolic rate (ISO 8996:2021); minutes over it are counted per second. Hours ≥ "
            f"{n(HOT_TEMP_C, en)} °C and ≤ {n(COLD_TEMP_C, en)} °C: air temperature. Core temperature estimated from "
            "heart rate (Buller et al. 2013); physiological strain index PSI (Moran et al. 1998)."
        ),
        "Manual handling": (
            f"Lifts, of which those of at least {n(HEAVY_LIFT_KG, en)} kg and {n(VERY_HEAVY_LIFT_KG, en)} kg (NF "
            f"X35-109:2011), and the cumulative tonnage against the {n(DAILY_TONNAGE_INDICATOR_KG / 1000, en)} t/day "
            "indicator. Loads a robot or an exoskeleton carried instead of the agent ('avoided') are not in the "
            "tonnage."
        ),
        "Night work": (
            f"A night counts when the agent works at least {n(NIGHT_MIN_S / 3600, en)} h between 00:00 and 05:00 local "
            "time (Code du travail D4163-2)."
        ),
        "Provenance": (
            "Each section states its method (wearable sensor, tool tag, estimate) and the devices that contributed to "
            "it."
        ),
    }
    caveats = (
        "Estimated values are labelled as such (WBGT 'estimated', core temperature, PSI); they do not replace a "
        "measurement.",
        "Unless stated otherwise, the wearables are not certified personal sound exposure meters (IEC 61252) nor "
        "class-1 sound level meters (IEC 61672-1): levels are indicative.",
        "Seconds without frames (device off, out of coverage) do not count in L_EX,8h: compare the measured duration "
        "with the worked duration.",
        "Protector attenuation is the value the service registered (EN 458), not measured on the agent; actual "
        "wearing is not verified.",
        "Tool a_hv is the declared value, which may understate the real exposure.",
        "Late frames complete the ledger: a report generated later may differ; the generation time is in the footer.",
    )
    return MethodsText("Methods: how these numbers were obtained", tuple(sections.items()), "Caveats", caveats)


def _annual_fr() -> MethodsText:
    sections = {
        "Cadre": (
            "Facteurs de risques professionnels de l'article D4163-2 du Code du travail mesurés par Vigie, sur "
            "l'année civile, après protections collectives et individuelles (L4163-2). « Atteint » : au moins le "
            "seuil. Valeurs dérivées du registre d'exposition mis à jour à chaque seconde ; jours civils locaux "
            "(Europe/Paris)."
        ),
        "Bruit": (
            f"Heures travaillées les jours où L_EX,8h à l'oreille atteint {n(NOISE_LEX_AT_EAR_DBA)} dB(A) (seuil "
            f"{n(NOISE_HOURS_PER_YEAR)} h par an) ; crêtes LCpeak d'au moins {n(PEAK_COUNTED_DBC)} dB(C) (seuil "
            f"{PEAKS_PER_YEAR} par an)."
        ),
        "Températures extrêmes": (
            f"Heures à une température de l'air ≤ {n(COLD_TEMP_C)} °C ou ≥ {n(HOT_TEMP_C)} °C (seuil "
            f"{n(EXTREME_TEMP_HOURS_PER_YEAR)} h par an)."
        ),
        "Travail de nuit": (
            f"Nuits d'au moins {n(NIGHT_MIN_S / 3600)} h travaillée entre 00:00 et 05:00 : seuil "
            f"{night_threshold_nights(2024)} nuits par an depuis le 1er septembre 2023 (décret 2023-760), "
            f"{night_threshold_nights(2022)} auparavant ; le seuil appliqué figure dans le tableau."
        ),
    }
    caveats = (
        "Les capteurs portés ne sont pas des exposimètres certifiés, sauf mention contraire : cette déclaration est "
        "une aide, pas un mesurage réglementaire.",
        "Les jours sans trame ne comptent pas ; l'affaiblissement des protecteurs est la valeur enregistrée.",
    )
    return MethodsText(
        "Méthodes : déclaration annuelle D4163-2", tuple(sections.items()), "Limites et précautions", caveats
    )


def _annual_en() -> MethodsText:
    en: Lang = "en"
    sections = {
        "Scope": (
            "The occupational risk factors of Code du travail D4163-2 that Vigie measures, over the calendar year, "
            "after collective and individual protection (L4163-2). 'Reached': at least the threshold. Derived from "
            "the exposure ledger updated per second as frames arrive; local days (Europe/Paris)."
        ),
        "Noise": (
            f"Hours worked on days whose L_EX,8h at the ear reaches {n(NOISE_LEX_AT_EAR_DBA, en)} dB(A) (threshold "
            f"{n(NOISE_HOURS_PER_YEAR, en)} h a year); LCpeak of at least {n(PEAK_COUNTED_DBC, en)} dB(C) (threshold "
            f"{PEAKS_PER_YEAR} a year)."
        ),
        "Extreme temperatures": (
            f"Hours at an air temperature ≤ {n(COLD_TEMP_C, en)} °C or ≥ {n(HOT_TEMP_C, en)} °C (threshold "
            f"{n(EXTREME_TEMP_HOURS_PER_YEAR, en)} h a year)."
        ),
        "Night work": (
            f"Nights with at least {n(NIGHT_MIN_S / 3600, en)} h worked between 00:00 and 05:00: threshold "
            f"{night_threshold_nights(2024)} nights a year from 1 September 2023 (décret 2023-760), "
            f"{night_threshold_nights(2022)} before; the threshold applied is in the table."
        ),
    }
    caveats = (
        "Unless stated otherwise the wearables are not certified dosimeters: this statement is an aid, not a "
        "regulatory measurement.",
        "Days without frames do not count; protector attenuation is the registered value.",
    )
    return MethodsText("Methods: D4163-2 annual statement", tuple(sections.items()), "Caveats", caveats)
