"""The `noticebot` command: serve the local stack, issue dev tokens, invite people (local
password accounts), ingest, search, ask."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from noticebot.config import Settings
from noticebot.domain.models import Principal

DEV_USER = "dev-editor"
DEV_WORKSPACE = "demo"


def _container(args, start_worker: bool = False):
    from noticebot.entrypoints.local_stack import local_stack

    if getattr(args, "data", None):
        os.environ["NOTICEBOT_DATA"] = str(args.data)
    return local_stack(Settings.from_env(), start_worker=start_worker)


def cmd_token(args) -> int:
    from noticebot.adapters.local.jwt_auth import LocalJwtAuthority

    settings = Settings.from_env() if not args.data else Settings(data_dir=Path(args.data))
    authority = LocalJwtAuthority(settings.data_dir / "jwt-secret")
    print(authority.issue(args.user, args.workspace, editor=args.editor, ttl_seconds=args.ttl))
    return 0


def cmd_invite(args) -> int:
    """An operator's invitation: what an editor's ``POST /api/invitations`` does, for a
    workspace that has no editor with an account yet. Prints the one-time code."""
    from noticebot.adapters.local.jwt_auth import LocalJwtAuthority, TokenRevocations
    from noticebot.adapters.local.local_accounts import LocalAccounts
    from noticebot.adapters.local.sqlite_metadata_store import SqliteMetadataStore
    from noticebot.domain.errors import NoticebotError
    from noticebot.domain.members import Role
    from noticebot.services.members import MembersService

    settings = Settings.from_env() if not args.data else Settings(data_dir=Path(args.data))
    data = settings.data_dir
    accounts = data / "accounts.sqlite3"
    authority = LocalJwtAuthority(data / "jwt-secret", revocations=TokenRevocations(accounts))
    members = MembersService(SqliteMetadataStore(data / "metadata.sqlite3"),
                             LocalAccounts(accounts, authority))
    operator = Principal(args.by, args.workspace, is_editor=True)
    try:
        invitation, code = members.invite(operator, args.email,
                                          Role.EDITOR if args.editor else Role.MEMBER)
    except NoticebotError as exc:
        print(f"noticebot invite: {exc.message}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"invitation_id": invitation.invitation_id, "email": invitation.email,
                          "role": invitation.role.value, "code": code,
                          "expires_at": invitation.expires_at.isoformat()}))
    else:
        print(f"invited {invitation.email} to '{invitation.workspace_id}' as "
              f"{invitation.role.value} (until {invitation.expires_at:%Y-%m-%d %H:%M} UTC)")
        print(f"one-time code (shown once): {code}")
        print("accept: POST /api/invitations/accept with "
              f'{{"code": "{code}", "password": "<at least 12 characters>"}}')
    return 0


def cmd_serve(args) -> int:
    from noticebot.entrypoints.sample_board import seed_sample_board
    from noticebot.entrypoints.server import LocalServer

    container = _container(args, start_worker=True)
    if not args.no_sample:
        seeded = seed_sample_board(container, DEV_WORKSPACE, DEV_USER)
        if seeded:
            print(f"seeded the sample board: {seeded}")
    server = LocalServer(container, args.host, args.port)
    token = container.auth.issue(DEV_USER, DEV_WORKSPACE, editor=True)
    url = server.url
    print(f"noticebot is serving {url}/api  (OpenAPI: {url}/api/openapi.json)")
    print(f"dev token (editor of workspace '{DEV_WORKSPACE}'):\n{token}")
    print("invite people with accounts: POST /api/invitations with this token (the answer "
          "carries the code they accept with), or `noticebot invite EMAIL --workspace WS`")
    print(f'try: curl -s -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" '
          f"-d '{{\"query\": \"When is the summer party?\"}}' {url}/api/chat")
    sys.stdout.flush()
    try:
        server.serve_forever()  # Ctrl-C: uvicorn finishes the requests in flight, then returns
    except KeyboardInterrupt:
        pass
    finally:
        container.queue.stop()
    return 0


def cmd_ingest(args) -> int:
    from tqdm import tqdm

    container = _container(args)
    principal = Principal(args.user, args.workspace, is_editor=True)
    failed = 0
    for path in tqdm([Path(p) for p in args.paths], unit="file", disable=args.quiet):
        doc, _ = container.documents.upload(principal, path.name, path.read_bytes())
        doc = _settled(container, principal, doc.document_id)
        if doc.status.value != "indexed":
            failed += 1
            tqdm.write(f"{path}: {doc.status.value}: {doc.error}")
    print(f"{len(args.paths) - failed} indexed, {failed} failed")
    return 1 if failed else 0


def _settled(container, principal, document_id: str):
    """Drains the queue, then waits for the document to settle: a server running on the same
    data folder shares the queue and may have taken its message. Gives up after one attempt's
    time budget per delivery the queue allows, returning the document as it is."""
    import time

    settings = container.settings
    deadline = time.monotonic() + settings.ingest_timeout_s * settings.ingest_max_receives
    while True:
        container.queue.drain()
        doc = container.documents.get(principal, document_id)
        if doc.status.value in ("indexed", "failed") or time.monotonic() > deadline:
            return doc
        time.sleep(0.2)


def cmd_search(args) -> int:
    container = _container(args)
    principal = Principal(args.user, args.workspace)
    passages = container.search.search(principal, args.query, args.top_k, args.mode)
    if args.json:
        print(json.dumps([{k: v for k, v in p.__dict__.items() if k != "text"} for p in passages],
                         indent=2))
    else:
        for n, p in enumerate(passages, 1):
            page = f" p.{p.page}" if p.page else ""
            print(f"{n}. [{p.score:.3f}] {p.title}{page}\n   {p.snippet}")
    return 0


def cmd_ask(args) -> int:
    container = _container(args)
    principal = Principal(args.user, args.workspace)
    result = container.chat.chat(principal, args.question)
    print(result.answer)
    for n, c in enumerate(result.citations, 1):
        page = f", page {c.page}" if c.page else ""
        print(f"  [{n}] {c.title}{page}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="noticebot", description=__doc__)
    parser.add_argument("--data", help="data folder (default: $NOTICEBOT_DATA or ./.noticebot)")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the API on 127.0.0.1 with the ingest worker")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-sample", action="store_true", help="do not seed the sample board")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("token", help="print a locally signed dev token")
    p.add_argument("--user", required=True)
    p.add_argument("--workspace")
    p.add_argument("--editor", action="store_true")
    p.add_argument("--ttl", type=int, default=12 * 3600, help="seconds")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("invite", help="invite an e-mail address to a workspace (local accounts)")
    p.add_argument("email")
    p.add_argument("--workspace", required=True)
    p.add_argument("--editor", action="store_true")
    p.add_argument("--by", default="operator", help="recorded as the inviter")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_invite)

    for name, func, helptext in (("ingest", cmd_ingest, "upload and index files"),
                                 ("search", cmd_search, "ranked passages"),
                                 ("ask", cmd_ask, "ask the chatbot")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--workspace", default=DEV_WORKSPACE)
        p.add_argument("--user", default=DEV_USER)
        p.set_defaults(func=func)
        if name == "ingest":
            p.add_argument("paths", nargs="+")
            p.add_argument("--quiet", action="store_true")
        elif name == "search":
            p.add_argument("query")
            p.add_argument("--top-k", type=int, default=5)
            p.add_argument("--mode", default="hybrid", choices=["hybrid", "bm25", "dense"])
            p.add_argument("--json", action="store_true")
        else:
            p.add_argument("question")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
