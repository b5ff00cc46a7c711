"""What PostgreSQL reads from ``text_array``: the very list given, plain or awkward."""

from __future__ import annotations

import psycopg
import pytest

from gateway.db.arrays import text_array

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("values", [["bench-w00001", "agent_7", "robot.2", "a:b@c"], ["x"],
                                    ["plain", 'quo"te', "back\\slash", "com,ma", "sp ace", "{b}", "", "NULL", "é"]])
def test_postgres_reads_back_exactly_the_list_given(database_url: str, values: list[str]) -> None:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT %s::text[]", (text_array(values),)).fetchone()
    assert row is not None and row[0] == values
