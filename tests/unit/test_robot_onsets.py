"""Near-miss onsets of a robot (services/signals/robot_onsets.py): one stop for one person is one near miss, and
a state flickering at a zone's edge is one episode until the robot has been clear of it for CLEAR_S seconds."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from services.signals.robot_onsets import (
    CLEAR_S,
    Episode,
    Onsets,
    PersonFlags,
    continue_onsets,
    count_onsets,
    person_flags,
)

CLEAR, STOP, SLOW = PersonFlags(False, False), PersonFlags(True, False), PersonFlags(False, True)
T0 = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)


def at(flags: list[PersonFlags], every_s: float = 0.5, t0: datetime = T0) -> list[tuple[datetime, PersonFlags]]:
    """``flags`` as states ``every_s`` apart (2 Hz by default, the simulator's robot rate)."""
    return [(t0 + timedelta(seconds=i * every_s), f) for i, f in enumerate(flags)]


def counts(onsets: Onsets) -> tuple[int, int]:
    return onsets.protective_stops, onsets.slowdowns


def test_a_long_stop_for_a_person_is_one_near_miss():
    clear_long = [CLEAR] * int(2 * CLEAR_S / 0.5)
    assert counts(count_onsets(at([CLEAR, STOP, STOP, STOP, *clear_long, STOP, CLEAR]))) == (2, 0)


def test_a_state_flickering_at_the_zones_edge_is_one_slow_down():
    flicker = [SLOW, CLEAR] * 20  # 20 s of a reading jittering across the slow-down distance
    assert counts(count_onsets(at([CLEAR, *flicker, CLEAR]))) == (0, 1)


def test_a_person_back_after_the_clear_time_is_a_new_near_miss_and_just_before_it_is_not():
    def slowdowns(gap_s: float) -> int:
        return count_onsets([(T0, SLOW), (T0 + timedelta(seconds=1), CLEAR),
                             (T0 + timedelta(seconds=1 + gap_s), SLOW)]).slowdowns  # fmt: skip

    assert slowdowns(CLEAR_S) == 2
    assert slowdowns(CLEAR_S - 0.1) == 1


def test_only_the_changes_count_the_same_as_every_state():
    """The simulator's history keeps only the states that change a flag: the hysteresis reads the timestamps."""
    rng = random.Random(7)
    states = at([rng.choice([CLEAR, CLEAR, CLEAR, STOP, SLOW]) if rng.random() < 0.3 else CLEAR for _ in range(400)])
    changes = [s for i, s in enumerate(states) if i == 0 or s[1] != states[i - 1][1]]
    assert counts(count_onsets(changes)) == counts(count_onsets(states))
    assert counts(count_onsets(states)) != (0, 0)


def test_a_slow_down_turning_into_a_stop_counts_one_of_each():
    assert counts(count_onsets(at([CLEAR, SLOW, SLOW, STOP, SLOW, CLEAR]))) == (1, 1)


def test_a_run_that_starts_stopped_counts_unless_a_stop_was_under_way_before():
    under_way = count_onsets(at([STOP], t0=T0 - timedelta(seconds=1)))
    cleared_long_ago = count_onsets(at([STOP, CLEAR], every_s=60, t0=T0 - timedelta(minutes=5)))
    assert count_onsets(at([STOP, STOP])).protective_stops == 1
    assert count_onsets(at([STOP, STOP]), before=under_way).protective_stops == 0
    assert count_onsets(at([STOP, STOP]), before=cleared_long_ago).protective_stops == 1
    assert count_onsets([]) == Onsets()


def test_a_stop_without_a_person_and_a_far_person_are_no_near_miss():
    assert person_flags(True, None, 2.0) == CLEAR  # a fault or an e-stop, nobody near
    assert person_flags(True, 0.4, 2.0) == STOP
    assert person_flags(False, 1.2, 2.0) == SLOW
    assert person_flags(None, 1.2, 2.0) == SLOW  # no stop reported: moving
    assert person_flags(False, 2.0, 2.0) == CLEAR  # at the zone's edge: outside (strictly under)
    assert person_flags(False, None, 2.0) == CLEAR


def test_a_follower_slowing_for_its_own_leader_is_no_near_miss_but_its_stops_and_others_are():
    # The collector it follows at 0.8 m, nobody else: following, not a person in the way.
    assert person_flags(False, 0.8, 1.0, tracks_leader=True, nearest_other_human_m=None) == CLEAR
    # Someone else 0.9 m away (the leader nearer): a slow-down for a person in the way.
    assert person_flags(False, 0.8, 1.0, tracks_leader=True, nearest_other_human_m=0.9) == SLOW
    assert person_flags(False, 0.8, 1.0, tracks_leader=True, nearest_other_human_m=3.0) == CLEAR
    # A protective stop counts whoever came that close, the leader included.
    assert person_flags(True, 0.3, 1.0, tracks_leader=True, nearest_other_human_m=None) == STOP
    # A robot that does not tell its leader apart: every person counts (the other distance is not read).
    assert person_flags(False, 0.8, 1.0, tracks_leader=False, nearest_other_human_m=None) == SLOW


def test_the_episode_left_at_the_end_says_whether_the_next_state_continues_it():
    ended = count_onsets(at([STOP, CLEAR]))
    assert ended.stop == Episode(True, T0 + timedelta(seconds=0.5))  # out of it for 0 s: not over yet
    assert count_onsets(at([STOP, CLEAR, CLEAR, CLEAR, CLEAR, CLEAR, CLEAR, CLEAR])).stop == Episode()


@pytest.mark.parametrize("seed", range(20))
def test_counting_on_from_a_split_equals_counting_the_whole_run(seed: int):
    rng = random.Random(seed)
    states, t = [], T0
    for _ in range(rng.randint(0, 80)):
        t += timedelta(seconds=rng.choice([0.1, 0.5, 1.0, 2.9, 3.0, 7.0]))
        states.append((t, rng.choice([CLEAR, CLEAR, STOP, SLOW])))
    before = count_onsets(at([rng.choice([CLEAR, STOP, SLOW])], t0=T0 - timedelta(seconds=rng.choice([1, 10]))))
    whole = count_onsets(states, before)
    cuts = sorted(rng.sample(range(len(states) + 1), k=min(3, len(states) + 1)))
    done = count_onsets(states[: cuts[0]], before)
    for a, b in zip(cuts, [*cuts[1:], len(states)], strict=True):
        done = continue_onsets(done, states[a:b])
    assert done == whole
