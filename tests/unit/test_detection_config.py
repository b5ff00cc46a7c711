"""Rule thresholds: site defaults, per-crew overrides, and settings that cannot make sense refused."""

from __future__ import annotations

import pytest

from services.detection import ConfigResolver, InvalidRuleConfig, RuleConfig


def test_defaults_are_the_documented_thresholds():
    cfg = RuleConfig()
    assert (cfg.fall_cancel_window_s, cfg.offline_after_s, cfg.checkin_interval_s) == (30.0, 60.0, 1800.0)
    assert (cfg.psi_raise, cfg.psi_clear, cfg.core_temp_raise_c, cfg.core_temp_clear_c) == (7.0, 5.0, 38.5, 38.0)
    assert (cfg.noise_peak_raise_dbc, cfg.hav_warn_points, cfg.hav_critical_points) == (135.0, 300.0, 400.0)
    assert (cfg.lift_single_raise_kg, cfg.lift_heavy_kg) == (25.0, 15.0)
    assert (cfg.robot_battery_raise_pct, cfg.robot_battery_clear_pct) == (20.0, 30.0)
    assert (cfg.wearable_battery_raise_pct, cfg.wearable_battery_clear_pct) == (15.0, 25.0)
    assert not cfg.lone_worker


def test_a_crew_gets_its_overrides_and_everyone_else_the_site_defaults():
    site = RuleConfig(offline_after_s=90.0)
    resolver = ConfigResolver(site, {"parks-solo": {"lone_worker": True, "checkin_interval_s": 1200}})
    solo = resolver.config_for("parks-solo")
    assert solo.lone_worker and solo.checkin_interval_s == 1200 and solo.offline_after_s == 90.0
    assert resolver.config_for("collection-north") is site
    assert resolver.config_for(None) is site


def test_an_unknown_setting_is_refused():
    with pytest.raises(InvalidRuleConfig, match="unknown rule setting 'psi_raise_level'"):
        ConfigResolver(crew_overrides={"c": {"psi_raise_level": 8.0}})


def test_a_setting_of_the_wrong_type_is_refused():
    with pytest.raises(InvalidRuleConfig, match="must be a bool"):
        ConfigResolver(crew_overrides={"c": {"lone_worker": 1.0}})
    with pytest.raises(InvalidRuleConfig, match="must be a float"):
        ConfigResolver(crew_overrides={"c": {"offline_after_s": True}})


@pytest.mark.parametrize(
    "changes",
    [
        {"psi_clear": 7.0},
        {"core_temp_clear_c": 39.0},
        {"wearable_battery_clear_pct": 10.0},
        {"robot_battery_clear_pct": 20.0},
        {"noise_peak_clear_dbc": 140.0},
        {"hav_critical_points": 250.0},
        {"fall_cancel_window_s": 0.0},
    ],
)
def test_a_clear_threshold_on_the_wrong_side_of_its_raise_threshold_is_refused(changes):
    with pytest.raises(InvalidRuleConfig):
        RuleConfig(**changes)


def test_the_separation_distance_depends_on_the_kind_of_robot():
    cfg = RuleConfig()
    assert (cfg.separation_m("follower"), cfg.separation_m("mower"), cfg.separation_m("exoskeleton")) == (0.5, 3.0, 1.0)
