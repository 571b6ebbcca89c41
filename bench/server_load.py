"""Load on the local server: N clients mixing search, notice writes and uploads for a fixed time.

Each client keeps one HTTP/1.1 connection (as an app does) and picks its next request at
random: search 60%, post a notice 20%, upload a small document 20%, over three workspaces.
Measured: requests/s, p50/p95 per route, errors (anything but the expected status, or a
broken connection), then, once the load stops, how long the ingest worker takes to settle
every upload, and whether anything was lost (every accepted upload and notice present, every
upload indexed).

    .venv/bin/python -m bench.server_load [--clients 8] [--seconds 30]

It starts the real local stack (real embedder and index; the language model is not used) on a
fresh data folder, behind the real server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WORKSPACES = ("club", "office", "school")
MIX = (("search", 0.6), ("notice", 0.2), ("upload", 0.2))
EXPECTED = {"search": 200, "notice": 201, "upload": 202}
WORDS = ("boat", "locker", "rent", "party", "training", "oar", "safety", "meeting", "budget",
         "river", "coach", "regatta", "membership", "keys", "shed", "minutes", "handbook")


def _multipart(title: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "bench" + uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n"
            f"{json.dumps({'title': title})}\r\n--{boundary}\r\nContent-Disposition: form-data; "
            f"name=\"file\"; filename=\"{filename}\"\r\nContent-Type: text/plain\r\n\r\n")
    return (head.encode() + data + f"\r\n--{boundary}--\r\n".encode(),
            f"multipart/form-data; boundary={boundary}")


def _sentence(rnd: random.Random, n: int = 12) -> str:
    return " ".join(rnd.choice(WORDS) for _ in range(n)).capitalize() + "."


class Client(threading.Thread):
    def __init__(self, base: str, tokens: dict[str, str], seed: int, until: float, out: dict):
        super().__init__(daemon=True)
        self.url = urlsplit(base)
        self.tokens, self.rnd, self.until, self.out = tokens, random.Random(seed), until, out
        self.conn: http.client.HTTPConnection | None = None

    def _call(self, method, path, token, body: bytes, ctype: str):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=120)
        try:
            self.conn.request(method, path, body=body, headers={
                "Authorization": f"Bearer {token}", "Content-Type": ctype})
            resp = self.conn.getresponse()
            return resp.status, resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise

    def run(self) -> None:
        while time.monotonic() < self.until:
            kind = self.rnd.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
            workspace = self.rnd.choice(WORKSPACES)
            token = self.tokens[workspace]
            if kind == "search":
                path, ctype = "/api/search", "application/json"
                body = json.dumps({"query": _sentence(self.rnd, 4), "top_k": 5}).encode()
            elif kind == "notice":
                path, ctype = "/api/notices", "application/json"
                body = json.dumps({"title": _sentence(self.rnd, 3)[:60],
                                   "body": _sentence(self.rnd, 30)}).encode()
            else:
                path = "/api/upload"
                title = f"{workspace} doc {uuid.uuid4().hex[:8]}"
                text = "\n\n".join(_sentence(self.rnd, 40) for _ in range(6)) + f"\n{title}\n"
                body, ctype = _multipart(title, f"{title}.txt", text.encode())
            started = time.perf_counter()
            try:
                status, raw = self._call("POST", path, token, body, ctype)
            except (OSError, http.client.HTTPException) as exc:
                status, raw = None, repr(exc).encode()
            elapsed = time.perf_counter() - started
            self.out["latency"].setdefault(kind, []).append(elapsed)
            if status != EXPECTED[kind]:
                self.out["errors"].append((kind, status, raw[:200].decode("utf-8", "replace")))
            elif kind == "upload":
                self.out["uploads"].append((workspace, json.loads(raw)["document_id"]))
            elif kind == "notice":
                self.out["notices"].append((workspace, json.loads(raw)["notice_id"]))
        if self.conn:
            self.conn.close()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run_load(base: str, tokens: dict[str, str], clients: int, seconds: float,
             seed: int = 7) -> dict:
    out: dict = {"latency": {}, "errors": [], "uploads": [], "notices": []}
    until = time.monotonic() + seconds
    threads = [Client(base, tokens, seed + i, until, out) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    total = sum(len(v) for v in out["latency"].values())
    return {
        "clients": clients, "seconds": round(wall, 1), "requests": total,
        "requests_per_s": round(total / wall, 1),
        "routes": {k: {"count": len(v), "p50_ms": round(1000 * statistics.median(v), 1),
                       "p95_ms": round(1000 * _pct(v, 0.95), 1)}
                   for k, v in sorted(out["latency"].items())},
        "errors": len(out["errors"]), "error_samples": out["errors"][:5],
        "_uploads": out["uploads"], "_notices": out["notices"],
    }


def account(container, result: dict, settle_timeout: float = 600.0, log=print) -> dict:
    """After the load: wait for every accepted upload to settle, then check nothing is lost."""
    uploads, notices = result.pop("_uploads"), result.pop("_notices")
    started, pending = time.perf_counter(), set(uploads)
    statuses: dict[tuple, str] = {}
    while pending and time.perf_counter() - started < settle_timeout:
        for ws, doc_id in list(pending):
            doc = container.metadata.get_document(ws, doc_id)
            statuses[(ws, doc_id)] = doc.status.value if doc else "missing"
            if doc is None or doc.status.value in ("indexed", "failed"):
                pending.discard((ws, doc_id))
        if pending:
            time.sleep(0.5)
    counts: dict[str, int] = {}
    for status in statuses.values():
        counts[status] = counts.get(status, 0) + 1
    missing_notices = sum(1 for ws, nid in notices if container.metadata.get_notice(ws, nid) is None)
    result.update({
        "uploads_accepted": len(uploads), "upload_statuses": counts,
        "ingest_settle_s": round(time.perf_counter() - started, 1),
        "notices_accepted": len(notices), "notices_missing": missing_notices,
        "lost": counts.get("missing", 0) + missing_notices + len(pending),
    })
    log(f"  load: {result['requests_per_s']} req/s, errors {result['errors']}, "
        f"uploads {counts}, settled in {result['ingest_settle_s']} s, lost {result['lost']}")
    return result


def measure(clients: int = 8, seconds: float = 30.0, data_dir: Path | None = None,
            log=print) -> dict:
    """Starts the real local stack on a fresh folder, loads it, accounts for every write."""
    from noticebot.config import Settings
    from noticebot.entrypoints.local_stack import local_stack
    from noticebot.entrypoints.server import LocalServer

    with tempfile.TemporaryDirectory(dir=data_dir) as tmp:
        container = local_stack(Settings(data_dir=Path(tmp) / "data"), start_worker=True)
        server = LocalServer(container, "127.0.0.1", 0).start()
        try:
            tokens = {ws: container.auth.issue(f"editor-{ws}", ws, editor=True)
                      for ws in WORKSPACES}
            container.embedder.embed_query("warm up")  # the model loads before the clock runs
            log(f"  {clients} clients for {seconds:.0f} s against {server.url}")
            result = run_load(server.url, tokens, clients, seconds)
            return account(container, result, log=log)
        finally:
            server.stop()
            container.queue.stop()


def markdown(res: dict) -> list[str]:
    """The report's section on the server under load."""
    rows = [f"| {route} | {v['count']} | {v['p50_ms']} | {v['p95_ms']} |"
            for route, v in res["routes"].items()]
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(res["upload_statuses"].items()))
    return [
        f"{res['clients']} clients, each on one keep-alive connection, for {res['seconds']} s "
        "against the local server (uvicorn, the real embedder and index), mixing search 60%, "
        "notice posts 20% and uploads 20% over three workspaces:", "",
        f"**{res['requests_per_s']} requests/s** ({res['requests']} requests), "
        f"**{res['errors']} errors**; after the load the ingest worker settled every upload in "
        f"{res['ingest_settle_s']} s ({res['uploads_accepted']} accepted: {statuses}); "
        f"notices accepted {res['notices_accepted']}, missing {res['notices_missing']}; "
        f"**lost: {res['lost']}**.", "",
        "| route | requests | p50 ms | p95 ms |", "|---|---|---|---|", *rows,
    ]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args(argv)
    print(json.dumps(measure(args.clients, args.seconds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
