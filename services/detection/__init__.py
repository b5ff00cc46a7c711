"""Accident-risk detection: a stateful, pure rule engine with per-crew thresholds and hysteresis.

``DetectionEngine`` takes wearable frames, robot states, device links and the clock, and returns outcomes —
``Raise``, ``Clear``, ``Cancel``, ``Confirm`` — for the gateway to apply to its alerts. Thresholds live in
``RuleConfig`` (site defaults, per-crew overrides through ``ConfigResolver``); the rules are grouped by family
in ``wearer_rules``, ``fall_rules``, ``heat_rules``, ``exposure_rules`` and ``robot_rules``.
"""

from services.detection.config import ConfigResolver, InvalidRuleConfig, RuleConfig
from services.detection.engine import DetectionEngine
from services.detection.fall_rules import FallDetectorLike
from services.detection.heat_rules import CoreTempEstimate
from services.detection.outcomes import Cancel, Clear, Confirm, DetailValue, Outcome, Raise, RuleId

__all__ = [
    "Cancel",
    "Clear",
    "ConfigResolver",
    "Confirm",
    "CoreTempEstimate",
    "DetailValue",
    "DetectionEngine",
    "FallDetectorLike",
    "InvalidRuleConfig",
    "Outcome",
    "Raise",
    "RuleConfig",
    "RuleId",
]
