"""The ``vigie`` command: ``up``, ``serve``, ``simulate``, ``assign``, ``migrate``.

Subcommands that talk to a running stack find it through ``--state-dir`` (default ``./.vigie``, where
``vigie up`` writes ``endpoints.json``) or through explicit URLs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

DEFAULT_STATE_DIR = Path(".vigie")


def endpoints(state_dir: Path) -> dict[str, Any]:
    path = state_dir / "endpoints.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise SystemExit(f"no running stack found: {path} does not exist (start one with `vigie up`)") from exc
    return data


def _api(args: argparse.Namespace) -> tuple[str, dict[str, str]]:
    """The gateway's URL and the Authorization header: --token, else $VIGIE_TOKEN, else the demo's admin token."""
    given = args.token or os.environ.get("VIGIE_TOKEN")
    found: dict[str, Any] = {} if (args.api_url and given) else endpoints(args.state_dir)
    api: str = args.api_url or found["http_url"]
    token = given or found.get("admin_token")
    return api.rstrip("/"), {"Authorization": f"Bearer {token}"} if token else {}


def _cmd_up(args: argparse.Namespace) -> int:
    from gateway.stack import UpOptions, demo_drifts, run_up

    sim_args = ["--agents", str(args.agents), "--robots", str(args.robots), "--speedup", str(args.speedup),
                "--seed", str(args.seed), "--duration", str(args.duration)]  # fmt: skip
    for spec in args.sos or []:
        sim_args += ["--sos", spec]
    for spec in args.fall or []:
        sim_args += ["--fall", spec]
    # Weak signals (issue 9): weeks of simulated history in the demo database, with the demo's drifts by default.
    sim_args += ["--history-days", str(args.history_days)]
    for spec in args.drift or (demo_drifts(args.agents, args.robots, args.seed) if args.history_days else []):
        sim_args += ["--drift", spec]
    return run_up(UpOptions(
        state_dir=args.state_dir, http_port=args.http_port, mqtt_port=args.mqtt_port, db_port=args.db_port,
        mqtt_url=args.mqtt_url, database_url=args.database_url, simulator=not args.no_simulator,
        simulator_args=sim_args,
    ))  # fmt: skip


def _cmd_serve(args: argparse.Namespace) -> int:
    """The gateway alone against existing services (deployments, docker-compose)."""
    import uvicorn

    from gateway.api.app import create_app
    from gateway.db import migrations
    from gateway.settings import Settings

    overrides: dict[str, Any] = {"run_ingest": not args.no_ingest}
    for key in ("mqtt_url", "database_url", "http_host", "http_port"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    settings = Settings(**overrides)
    migrations.apply(settings.database_url)
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_level="info")
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    """One ingest worker (deployments scale these out; the API runs as ``vigie serve --no-ingest``)."""
    from gateway import ingest_main
    from gateway.settings import Settings

    overrides: dict[str, Any] = {}
    for key, field in (("mqtt_url", "mqtt_url"), ("database_url", "database_url"), ("client_id", "mqtt_client_id"),
                       ("partitions", "ingest_partitions"), ("partition", "ingest_partition")):  # fmt: skip
        if getattr(args, key) is not None:
            overrides[field] = getattr(args, key)
    return ingest_main.main(Settings(**overrides), args.metrics_host, args.metrics_port)


def _cmd_user(args: argparse.Namespace) -> int:
    from gateway import cli_users

    return cli_users.run(args, _database_url(args))


def _cmd_migrate(args: argparse.Namespace) -> int:
    from gateway.db import migrations

    applied = migrations.apply(_database_url(args))
    print(f"applied: {', '.join(applied)}" if applied else "schema up to date")
    return 0


def _database_url(args: argparse.Namespace) -> str:
    """--database-url, else $VIGIE_DATABASE_URL, else the running demo's."""
    url: str = args.database_url or os.environ.get("VIGIE_DATABASE_URL") or endpoints(args.state_dir)["database_url"]
    return url


# Service accounts whose passwords a deployment gives in the environment (docker-compose, .env).
_SERVICE_ACCOUNTS = {"VIGIE_MQTT_GATEWAY_PASSWORD": ("vigie-gateway", "gateway"),
                     "VIGIE_MQTT_MONITOR_PASSWORD": ("vigie-monitor", "monitor")}  # fmt: skip


def _cmd_mqtt_accounts_sync(args: argparse.Namespace) -> int:
    """Write the broker's password and ACL files from the accounts table (and service passwords from the env)."""
    import psycopg

    from gateway.db import mqtt_accounts
    from gateway.mqtt.accounts import AccountKind, BrokerAuthFiles

    with psycopg.connect(_database_url(args)) as conn:
        for env, (username, kind) in _SERVICE_ACCOUNTS.items():
            if os.environ.get(env):
                mqtt_accounts.issue_sync(conn, username, AccountKind(kind), by="mqtt-accounts sync",
                                         password=os.environ[env])  # fmt: skip
        accounts = mqtt_accounts.active_sync(conn)
    BrokerAuthFiles(args.dir).write(accounts)
    print(json.dumps({"accounts": len(accounts), "password_file": str(args.dir / "passwd"),
                      "acl_file": str(args.dir / "acl")}))  # fmt: skip
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from simulations import cli as sim_cli

    return sim_cli.run(args)


def _cmd_assign(args: argparse.Namespace) -> int:
    api, headers = _api(args)
    with httpx.Client(base_url=api, timeout=10, headers=headers) as http:
        if args.name:
            http.put(f"/api/v1/agents/{args.agent}", json={"display_name": args.name, "crew_id": args.crew}
                     ).raise_for_status()  # fmt: skip
        body = {"device_id": args.device, "agent_id": args.agent,
                "valid_from": (args.valid_from or _start_of_minute()).isoformat(),
                "valid_to": args.valid_to.isoformat() if args.valid_to else None}  # fmt: skip
        response = http.post("/api/v1/assignments", json=body)
    if response.status_code >= 400:
        print(f"vigie assign: {response.status_code} {response.json().get('detail')}", file=sys.stderr)
        return 1
    print(json.dumps(response.json()))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    """Fetch a report from the running gateway's public API and write it to a file (or stdout)."""
    if args.kind == "annual" and args.all:
        return _annual_all(args)
    api, headers = _api(args)
    if args.kind == "exposure":
        if not (args.agent or args.crew) or not (args.start and args.end):
            print("vigie report exposure: give --agent or --crew, and --from and --to", file=sys.stderr)
            return 2
        params = {"from": args.start, "to": args.end, "format": args.format, "lang": args.lang,
                  "agent_id": args.agent, "crew_id": args.crew}  # fmt: skip
        path = "/api/v1/reports/exposure"
    elif args.kind == "signals":
        if not args.week:
            print("vigie report signals: give --week YYYY-Www (and --site or --crew)", file=sys.stderr)
            return 2
        params = {"week": args.week, "site": args.site, "crew": args.crew,
                  "format": "csv" if args.format == "json" else args.format, "lang": args.lang}  # fmt: skip
        path = "/api/v1/reports/signals"
    else:
        if not args.agent or not args.year:
            print("vigie report annual: give --agent (or --all) and --year", file=sys.stderr)
            return 2
        params = {"agent_id": args.agent, "year": args.year, "format": args.format, "lang": args.lang}
        path = "/api/v1/reports/annual"
    response = httpx.get(api + path, params={k: v for k, v in params.items() if v is not None}, timeout=120,
                         headers=headers)  # fmt: skip
    if response.status_code >= 400:
        print(f"vigie report: {response.status_code} {response.text[:500]}", file=sys.stderr)
        return 1
    if args.output in (None, "-"):
        sys.stdout.buffer.write(response.content)
    else:
        Path(args.output).write_bytes(response.content)
        print(f"wrote {args.output} ({len(response.content)} bytes)", file=sys.stderr)
    return 0


def _annual_all(args: argparse.Namespace) -> int:
    """Every agent's D4163-2 statement as CSV, read from the database (the employer's yearly declaration)."""
    import psycopg

    from gateway.reports.annual_all import all_statements, annual_csv

    if not args.year:
        print("vigie report annual --all: give --year", file=sys.stderr)
        return 2
    url = _database_url(args)
    statements = all_statements(url, args.year, args.jobs)
    body = annual_csv(statements)
    with psycopg.connect(url) as conn:  # who pulled everyone's health data, as the API's reads are
        conn.execute("INSERT INTO audit_log (actor, role, action, target, query) VALUES (%s, 'admin', %s, NULL, %s)",
                     (f"cli:{os.environ.get('USER', 'unknown')}", "annual_all", f"year={args.year}"))  # fmt: skip
    if args.output in (None, "-"):
        sys.stdout.buffer.write(body)
    else:
        Path(args.output).write_bytes(body)
        print(f"wrote {args.output}: {len(statements)} agents", file=sys.stderr)
    return 0


def _start_of_minute() -> datetime:
    # A shift starts on a whole minute: frames of the seconds just before `vigie assign` still count.
    return datetime.now(UTC).replace(second=0, microsecond=0)


def _utc(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone (add Z or +01:00)")
    return value.astimezone(UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vigie", description="Field-safety monitoring for exposed trades.")
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start broker, database, gateway and (unless --no-simulator) a crew")
    up.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    for name in ("--http-port", "--mqtt-port", "--db-port"):
        up.add_argument(name, type=int, default=None, help="default: the previous run's port if free, else any")
    up.add_argument("--mqtt-url", default=None, help="use this broker instead of starting one")
    up.add_argument("--database-url", default=None, help="use this PostgreSQL/TimescaleDB instead")
    up.add_argument("--no-simulator", action="store_true")
    up.add_argument("--agents", type=int, default=24)
    up.add_argument("--robots", type=int, default=3)
    up.add_argument("--speedup", type=float, default=1.0)
    up.add_argument("--seed", type=int, default=1)
    up.add_argument("--duration", type=float, default=8 * 3600)
    up.add_argument("--sos", action="append", metavar="AGENT@SECONDS")
    up.add_argument("--fall", action="append", metavar="AGENT@SECONDS")
    up.add_argument("--history-days", type=int, default=60,
                    help="simulated days of history for the weak signals, written into the demo database (0: none)")
    up.add_argument("--drift", action="append", metavar="KIND:SUBJECT@DAY[:SIZE]",
                    help="a drift injected by the simulator (repeatable; default: the demo's three, with history)")
    up.set_defaults(func=_cmd_up)

    serve = sub.add_parser("serve", help="run the gateway (API + ingest) against existing services")
    serve.add_argument("--mqtt-url")
    serve.add_argument("--database-url")
    serve.add_argument("--http-host")
    serve.add_argument("--http-port", type=int)
    serve.add_argument("--no-ingest", action="store_true", help="API only (ingest runs elsewhere)")
    serve.set_defaults(func=_cmd_serve)

    _add_ingest(sub)

    migrate = sub.add_parser("migrate", help="apply pending SQL migrations")
    migrate.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    migrate.add_argument("--database-url")
    migrate.set_defaults(func=_cmd_migrate)

    accounts = sub.add_parser("mqtt-accounts", help="the broker's accounts (wearables, robots, services)")
    accounts_sub = accounts.add_subparsers(dest="accounts_command", required=True)
    sync = accounts_sub.add_parser("sync", help="write the broker's password and ACL files from the database")
    sync.add_argument("--dir", type=Path, required=True, help="where mosquitto reads passwd and acl")
    sync.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    sync.add_argument("--database-url")
    sync.set_defaults(func=_cmd_mqtt_accounts_sync)

    from simulations import cli as sim_cli

    simulate = sub.add_parser("simulate", help="publish a simulated crew and robots over MQTT")
    sim_cli.add_arguments(simulate)
    simulate.set_defaults(func=_cmd_simulate)

    from gateway import cli_users

    cli_users.add_arguments(sub)
    sub.choices["user"].set_defaults(func=_cmd_user)
    _add_assign(sub)
    _add_report(sub)
    _add_bench(sub)
    _add_retention(sub)
    return parser


def _add_ingest(sub: Any) -> None:
    ingest = sub.add_parser("ingest", help="an ingest worker only (MQTT → database, rules), no HTTP API")
    ingest.add_argument("--mqtt-url")
    ingest.add_argument("--database-url")
    ingest.add_argument("--partitions", type=int, help="how many workers share the stream (default 1)")
    ingest.add_argument("--partition", type=int, help="this worker's partition, 0 .. partitions-1")
    ingest.add_argument("--client-id", help="this worker's MQTT client id (unique per worker)")
    ingest.add_argument("--metrics-host", default="0.0.0.0")
    ingest.add_argument("--metrics-port", type=int, default=9100, help="/healthz and /metrics")
    ingest.set_defaults(func=_cmd_ingest)


def _add_assign(sub: Any) -> None:
    assign = sub.add_parser("assign", help="assign a device to an agent for a shift")
    assign.add_argument("--device", required=True)
    assign.add_argument("--agent", required=True)
    assign.add_argument("--name", help="register the agent with this display name first")
    assign.add_argument("--crew", help="with --name: the agent's crew")
    assign.add_argument("--from", dest="valid_from", type=_utc, help="default: the start of the current minute")
    assign.add_argument("--to", dest="valid_to", type=_utc)
    assign.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    assign.add_argument("--api-url")
    assign.add_argument("--token", help="bearer token (default: $VIGIE_TOKEN, else the demo's admin token)")
    assign.set_defaults(func=_cmd_assign)


def _add_report(sub: Any) -> None:
    report = sub.add_parser("report", help="exposure reports for safety officers (JSON, CSV, PDF)")
    report.add_argument("kind", choices=["exposure", "annual", "signals"])
    report.add_argument("--week", help="ISO week YYYY-Www (signals)")
    report.add_argument("--site", help="site (signals)")
    report.add_argument("--agent")
    report.add_argument("--crew")
    report.add_argument("--from", dest="start", help="first local day, YYYY-MM-DD (exposure)")
    report.add_argument("--to", dest="end", help="last local day, YYYY-MM-DD (exposure)")
    report.add_argument("--year", type=int, help="calendar year (annual)")
    report.add_argument("--all", action="store_true",
                        help="annual: every agent, as CSV, from the database (--database-url)")
    report.add_argument("--jobs", type=int, default=2, help="processes for --all")
    report.add_argument("--database-url")
    report.add_argument("--format", choices=["json", "csv", "pdf"], default="json")
    report.add_argument("--lang", choices=["fr", "en"], default="fr")
    report.add_argument("-o", "--output", help="file to write (default: standard output)")
    report.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    report.add_argument("--api-url")
    report.add_argument("--token", help="bearer token (default: $VIGIE_TOKEN, else the demo's admin token)")
    report.set_defaults(func=_cmd_report)


def _add_bench(sub: Any) -> None:
    from gateway import bench_falls

    bench = sub.add_parser("bench", help="benchmarks (results go to docs/benchmarks.md)")
    kinds = bench.add_subparsers(dest="bench", required=True)
    falls = kinds.add_parser("falls", help="the fall detector on a SisFall-format .npz (see README)")
    bench_falls.add_arguments(falls)
    falls.set_defaults(func=bench_falls.run)
    from gateway import bench_reports

    reports = kinds.add_parser("reports", help="report queries on a synthetic year, bytes per agent-day per tier")
    bench_reports.add_arguments(reports)
    reports.set_defaults(func=bench_reports.run)
    load = kinds.add_parser("load", help="wearables and robots through Mosquitto → gateway → TimescaleDB (issue 8)")
    _bench_load_arguments(load)
    load.set_defaults(func=_cmd_bench_load)
    signals = kinds.add_parser("signals", help="weak signals on simulated months with injected drifts (issue 9)")
    _bench_signals_arguments(signals)
    signals.set_defaults(func=_cmd_bench_signals)


def _bench_signals_arguments(parser: argparse.ArgumentParser) -> None:
    from benchmarks.bench_signals import add_arguments  # the benchmark lives outside the package: imported on use

    add_arguments(parser)


def _cmd_bench_signals(args: argparse.Namespace) -> int:
    from benchmarks.bench_signals import run

    return run(args)


def _bench_load_arguments(parser: argparse.ArgumentParser) -> None:
    from benchmarks.load.cli import add_arguments  # the benchmark lives outside the package: imported on use

    add_arguments(parser)


def _cmd_bench_load(args: argparse.Namespace) -> int:
    from benchmarks.load.cli import run

    return run(args)


def _add_retention(sub: Any) -> None:
    retention = sub.add_parser("retention", help="data retention (docs/privacy.md)")
    actions = retention.add_subparsers(dest="retention", required=True)
    run = actions.add_parser("run", help="one retention pass now; prints what it did as JSON")
    run.add_argument("--dry-run", action="store_true", help="count what would go, change nothing")
    run.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    run.add_argument("--database-url")
    run.set_defaults(func=_cmd_retention_run)


def _cmd_retention_run(args: argparse.Namespace) -> int:
    from gateway.db import retention
    from gateway.settings import Settings

    url = args.database_url or endpoints(args.state_dir)["database_url"]
    # The periods come from VIGIE_RETENTION_*; a pass signs nothing, so the API's secrets are not required.
    settings = Settings(database_url=url, mode="demo")
    print(json.dumps(retention.run_once(settings, dry_run=args.dry_run).as_json()))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the useful ones
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
