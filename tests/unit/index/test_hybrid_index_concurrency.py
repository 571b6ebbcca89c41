"""The local server searches from request threads while the ingest worker writes."""

from __future__ import annotations

import random
import threading

from noticebot.ports.vector_index import SEARCH_MODES, SearchQuery

DOCS, PER_DOC = 25, 5


def test_concurrent_upserts_and_searches_never_tear(index, make_chunk, axis):
    def doc_chunks(workspace: str, doc: int, version: int):
        return [make_chunk(f"{workspace}-d{doc}-c{j}", f"d{doc}",
                           f"marker{doc} version{version} {workspace} body part{j}", axis(j))
                for j in range(PER_DOC)]

    for ws in ("ws-a", "ws-b"):
        index.upsert(ws, doc_chunks(ws, 0, 0))
    errors: list[BaseException] = []
    done = threading.Event()
    searches = [0]

    def writer(ws: str, seed: int) -> None:
        rng = random.Random(seed)
        try:
            for step in range(1, 250):
                doc = rng.randrange(DOCS)
                if rng.random() < 0.2:
                    index.delete_document(ws, f"d{doc}")
                else:
                    index.upsert(ws, doc_chunks(ws, doc, step))  # a document is one batch
                assert index.count(ws) % PER_DOC == 0
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    def reader(seed: int) -> None:
        rng = random.Random(seed)
        try:
            while not done.is_set():
                ws, doc, mode = rng.choice(["ws-a", "ws-b"]), rng.randrange(DOCS), rng.choice(SEARCH_MODES)
                hits = index.search(ws, SearchQuery(
                    f"marker{doc}", axis(0), top_k=10, mode=mode, document_ids=frozenset({f"d{doc}"})))
                chunk_ids = [h.chunk.chunk_id for h in hits]
                assert len(hits) in (0, PER_DOC), chunk_ids  # whole document or nothing
                assert len(set(chunk_ids)) == len(chunk_ids)
                assert len({h.chunk.text.split()[1] for h in hits}) <= 1  # one version only
                for h in hits:
                    assert h.chunk.chunk_id.startswith(f"{ws}-d{doc}-") and ws in h.chunk.text
                    assert h.chunk.text.endswith("part" + h.chunk.chunk_id.rsplit("c", 1)[1])
                searches[0] += 1
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    writers = [threading.Thread(target=writer, args=(ws, i)) for i, ws in enumerate(("ws-a", "ws-b"))]
    readers = [threading.Thread(target=reader, args=(10 + i,)) for i in range(3)]
    for t in writers + readers:
        t.start()
    for t in writers:
        t.join(timeout=120)
    done.set()
    for t in readers:
        t.join(timeout=30)
    assert not errors, errors[0]
    assert searches[0] > 0
