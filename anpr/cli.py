"""`anpr`: one entry point for operating the service.

Each subcommand runs one part on its own against the configured Elasticsearch, so production
can run them as separate systemd units; `scripts/demo` runs them all together.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable

from anpr_core.logging_setup import configure_logging
from anpr_core.settings import Settings, SettingsError, load_settings


def _es(args: argparse.Namespace, settings: Settings) -> int:
    from anpr_core.elastic.local_node import LocalElasticsearch, LocalNodeError

    node_manager = LocalElasticsearch(settings)
    try:
        if args.action == "start":
            started = time.monotonic()
            node = node_manager.start()
            print(
                json.dumps(
                    {
                        "url": node.url,
                        "user": node.username,
                        "pid": node.pid,
                        "version": node.version,
                        "seconds": round(time.monotonic() - started, 1),
                    }
                )
            )
        elif args.action == "stop":
            print("stopped" if node_manager.stop() else "not running")
        else:
            status = node_manager.status()
            print(json.dumps({"running": status is not None, "url": status.url if status else None}))
            return 0 if status else 3
    except LocalNodeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _settings(args: argparse.Namespace, settings: Settings) -> int:
    print(settings.model_dump_json(indent=2))
    return 0


def _api(args: argparse.Namespace, settings: Settings) -> int:
    from search_api.serve import exec_gunicorn

    exec_gunicorn(settings, workers=args.workers)  # replaces this process: signals reach gunicorn
    return 0


def _users(args: argparse.Namespace, settings: Settings) -> int:
    from search_api.users_cli import run

    return run(args, settings)


def _indexer(args: argparse.Namespace, settings: Settings) -> int:
    from indexer.service import run

    return run(args, settings)


def _retention(args: argparse.Namespace, settings: Settings) -> int:
    from indexer.retention import run

    return run(args, settings)


def _workers(args: argparse.Namespace, settings: Settings) -> int:
    from lpr.workers.service import run

    return run(args, settings)


def _people(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.cli import run

    return run(args, settings)


def _people_monitor(args: argparse.Namespace, settings: Settings) -> int:
    from anpr.people_demo import FEEDS  # the demo's simulated walkers ("sim:walkers" cameras)
    from monitor.service import run

    return run(args, settings, feeds=FEEDS)


def _simulate(args: argparse.Namespace, settings: Settings) -> int:
    from anpr.simulator.cli import run_command

    return run_command(args, settings)


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "workers": _workers,
    "simulate": _simulate,
    "people": _people,
    "people-monitor": _people_monitor,
    "indexer": _indexer,
    "retention": _retention,
    "es": _es,
    "settings": _settings,
    "api": _api,
    "users": _users,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="anpr", description="ANPR vehicle search service")
    sub = parser.add_subparsers(dest="command", required=True)
    es = sub.add_parser("es", help="the project's local Elasticsearch node")
    es.add_argument("action", choices=["start", "stop", "status"])
    sub.add_parser("settings", help="print the effective settings (secrets masked)")
    from indexer.service import add_parser as add_indexer_parser

    add_indexer_parser(sub)
    from indexer.retention import add_parser as add_retention_parser

    add_retention_parser(sub)
    from anpr.simulator.cli import add_parser as add_simulate_parser
    from lpr.workers.service import add_parser as add_workers_parser

    add_workers_parser(sub)
    add_simulate_parser(sub)
    api = sub.add_parser("api", help="serve the search API with gunicorn")
    api.add_argument("--workers", type=int, default=None)
    from search_api.users_cli import add_parser as add_users_parser

    add_users_parser(sub)
    from monitor.cli import add_parser as add_people_parser

    add_people_parser(sub)
    from monitor.service import add_parser as add_people_monitor_parser

    add_people_monitor_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, service=f"anpr-{args.command}")
    return COMMANDS[args.command](args, settings)


if __name__ == "__main__":
    sys.exit(main())
