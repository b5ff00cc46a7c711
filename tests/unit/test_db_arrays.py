"""The ``text[]`` parameter shortcut must mean exactly what psycopg's own list dumping means."""

from __future__ import annotations

import pytest

from gateway.db.arrays import text_array


def test_plain_ids_become_one_array_literal() -> None:
    assert text_array(["bench-w00001", "agent_7", "robot.2", "a:b@c"]) == "{bench-w00001,agent_7,robot.2,a:b@c}"


@pytest.mark.parametrize("awkward", ['quo"te', "back\\slash", "com,ma", "sp ace", "{brace}", "", "NULL", "null",
                                     "é"])  # fmt: skip
def test_anything_that_would_need_quoting_is_left_to_psycopg(awkward: str) -> None:
    assert text_array(["plain", awkward]) == ["plain", awkward]


def test_an_empty_list_stays_a_list() -> None:
    assert text_array([]) == []
