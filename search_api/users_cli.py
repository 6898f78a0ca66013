"""`anpr users ...`: add an API user, or seed the demo users (one per role)."""

from __future__ import annotations

import argparse
import getpass
import socket
import sys
from typing import Any

from anpr_core.elastic.client import make_client
from anpr_core.elastic.mappings import ensure_indices
from anpr_core.settings import Settings
from search_api.audit import AuditLog
from search_api.roles import Role
from search_api.users import UserError, UserStore, seed_demo_users


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    users = sub.add_parser("users", help="API users (stored in Elasticsearch, argon2 hashes)")
    actions = users.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a user; the password is read from stdin or prompted")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--replace", action="store_true", help="overwrite an existing user")
    actions.add_parser("list", help="list users and roles")
    toggles = {"disable": "disable a user and end their sessions", "enable": "enable a user again"}
    for verb, text in toggles.items():
        toggle = actions.add_parser(verb, help=text)
        toggle.add_argument("username")
    actions.add_parser("seed-demo", help="one demo user per role (demo and tests only)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    es = make_client(settings)
    ensure_indices(es, settings.index_prefix)
    store = UserStore(
        es,
        settings.index_prefix,
        password_min_length=settings.api.password_min_length,
        password_min_score=settings.api.password_min_score,
    )
    audit = AuditLog(es, settings.index_prefix, settings.paths.audit_journal)

    def audited(status: int, **change: Any) -> None:
        # The command line changes users as the API does, so it leaves the same trail: who ran
        # it (the operating-system account), on which host, and what changed.
        audit.record(
            user=f"cli:{getpass.getuser()}", role=None, endpoint=f"cli.users.{args.action}", method="CLI",
            path=f"anpr users {args.action}", query={}, purpose=None, case_number=None, result_count=None,
            status=status, client_address=socket.gethostname(), change={"action": args.action, **change},
        )  # fmt: skip
        audit.flush()  # in Elasticsearch before the command returns (else the next API process sends it)

    if args.action == "list":
        for user in store.list():
            print(f"{user.username}\t{user.role.value}\t{'disabled' if user.disabled else 'active'}")
        return 0
    if args.action in ("disable", "enable"):
        if not store.set_disabled(args.username, args.action == "disable"):
            audited(404, username=args.username)
            print(f"error: no user {args.username}", file=sys.stderr)
            return 2
        audited(200, username=args.username)
        print(f"{args.action}d {args.username}")
        return 0
    if args.action == "seed-demo":
        users = seed_demo_users(store)
        audited(200, users=[{"username": u.username, "role": u.role.value} for u in users])
        for user in users:
            print(f"{user.username}\t{user.role.value}")
        return 0
    password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass("password: ")
    try:
        user = store.add(args.username, password, args.role, replace=args.replace)
    except UserError as exc:
        audited(400, username=args.username, role=args.role, refused=exc.field)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    audited(200, username=user.username, role=user.role.value, replace=args.replace)
    print(f"added {user.username} ({user.role.value})")
    return 0
