"""Near-miss onsets of a robot (services/signals/robot_onsets.py): one stop for one person is one near miss."""

from __future__ import annotations

import random

import pytest

from services.signals.robot_onsets import Onsets, PersonFlags, continue_onsets, count_onsets, person_flags

CLEAR, STOP, SLOW = PersonFlags(False, False), PersonFlags(True, False), PersonFlags(False, True)


def test_a_long_stop_for_a_person_is_one_near_miss():
    assert count_onsets([CLEAR, STOP, STOP, STOP, CLEAR, STOP, CLEAR]) == Onsets(2, 0, CLEAR)


def test_a_slow_down_turning_into_a_stop_counts_one_of_each():
    assert count_onsets([CLEAR, SLOW, SLOW, STOP, SLOW, CLEAR]) == Onsets(1, 2, CLEAR)


def test_a_run_that_starts_stopped_counts_unless_the_state_before_was_stopped():
    assert count_onsets([STOP, STOP]).protective_stops == 1
    assert count_onsets([STOP, STOP], before=STOP).protective_stops == 0
    assert count_onsets([STOP, STOP], before=CLEAR).protective_stops == 1
    assert count_onsets([]) == Onsets(0, 0, None)


def test_a_stop_without_a_person_and_a_far_person_are_no_near_miss():
    assert person_flags(True, None, 2.0) == CLEAR  # a fault or an e-stop, nobody near
    assert person_flags(True, 0.4, 2.0) == STOP
    assert person_flags(False, 1.2, 2.0) == SLOW
    assert person_flags(None, 1.2, 2.0) == SLOW  # no stop reported: moving
    assert person_flags(False, 2.0, 2.0) == CLEAR  # at the zone's edge: outside (strictly under)
    assert person_flags(False, None, 2.0) == CLEAR


@pytest.mark.parametrize("seed", range(20))
def test_counting_on_from_a_split_equals_counting_the_whole_run(seed: int):
    rng = random.Random(seed)
    flags = [rng.choice([CLEAR, CLEAR, STOP, SLOW]) for _ in range(rng.randint(0, 60))]
    before = rng.choice([None, CLEAR, STOP, SLOW])
    whole = count_onsets(flags, before)
    cuts = sorted(rng.sample(range(len(flags) + 1), k=min(3, len(flags) + 1)))
    done = count_onsets(flags[: cuts[0]], before)
    for a, b in zip(cuts, [*cuts[1:], len(flags)], strict=True):
        done = continue_onsets(done, flags[a:b])
    assert done == whole
