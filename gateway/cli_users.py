"""``vigie user add``: the first administrator of a deployment, and password resets, from the command line.

The HTTP API creates users too (``POST /api/v1/users``) but needs an admin token: a fresh site has none, so its
operator creates the first admin here, against the database. The password is read from stdin or generated,
never taken from the command line (it would sit in the shell history and in ``ps``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gateway.auth.passwords import MIN_PASSWORD_LENGTH
from services.access import HUMAN_ROLES, Role


def add_arguments(sub: Any) -> None:
    from gateway.cli import DEFAULT_STATE_DIR  # built while gateway.cli builds its parser: no import cycle at load

    user = sub.add_parser("user", help="people's accounts (the first admin of a deployment, password resets)")
    actions = user.add_subparsers(dest="user_command", required=True)
    add = actions.add_parser("add", help="create or reset a user; prints a generated password once")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=sorted(r.value for r in HUMAN_ROLES))
    add.add_argument("--crew", action="append", default=[], help="a supervisor's crew (repeat for several)")
    add.add_argument("--agent-id", help="an agent account's own agent id")
    add.add_argument("--names-allowed", action="store_true", help="a safety officer authorised to see names")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("--database-url")
    add.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="the demo's (for its database)")


def run(args: argparse.Namespace, database_url: str) -> int:
    import secrets

    import psycopg

    from gateway.db import access_store

    role = Role(args.role)
    if role is Role.AGENT and not args.agent_id:
        print("an agent account needs --agent-id", file=sys.stderr)
        return 2
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if len(password) < MIN_PASSWORD_LENGTH:
            print(f"password too short: at least {MIN_PASSWORD_LENGTH} characters", file=sys.stderr)
            return 2
    else:
        password = secrets.token_urlsafe(18)
    try:
        with psycopg.connect(database_url) as conn:
            access_store.upsert_user_sync(conn, args.username, password, role, args.crew, args.agent_id,
                                          args.names_allowed)  # fmt: skip
    except psycopg.errors.ForeignKeyViolation:
        print(f"no agent {args.agent_id!r}: register the agent first (PUT /api/v1/agents/...)", file=sys.stderr)
        return 2
    print(f"user {args.username} ({role.value}) saved")
    if not args.password_stdin:
        print(f"password: {password}")  # shown once; only its argon2id hash is stored
    return 0
