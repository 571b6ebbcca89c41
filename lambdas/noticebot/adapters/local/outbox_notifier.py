"""The local Notifier: every push it is given is appended to an outbox file
(``<data>/push-outbox.jsonl``, one JSON object per message: when, the message as Expo would
get it, and its ticket), and posted to a push service when one is configured
(``NOTICEBOT_PUSH_URL``; e.g. a test server, or Expo's own URL). Without one the tickets
are ``ok`` with a local id: the outbox is what a developer inspects.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path

from noticebot.domain.models import utcnow
from noticebot.domain.notifications import PushMessage, PushTicket
from noticebot.ports.notifier import Notifier


class OutboxNotifier(Notifier):
    def __init__(self, path: Path | str, forward: Notifier | None = None):
        self.path = Path(path)
        self.forward = forward
        self._lock = threading.Lock()

    def send(self, messages: Sequence[PushMessage]) -> list[PushTicket]:
        if self.forward is not None:
            tickets = self.forward.send(messages)  # raises: nothing recorded, retried whole
        else:
            tickets = [PushTicket(status="ok", id=f"local-{uuid.uuid4().hex}") for _ in messages]
        at = utcnow().isoformat()
        lines = [json.dumps({"at": at, "message": m.wire(), "ticket": {
            "status": t.status, "id": t.id, "error": t.error}}, ensure_ascii=False)
            for m, t in zip(messages, tickets)]
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write("".join(line + "\n" for line in lines))
        return tickets

    @property
    def has_receipts(self) -> bool:
        return self.forward is not None and self.forward.has_receipts

    def receipts(self, ticket_ids: Sequence[str]) -> dict[str, PushTicket]:
        """The forwarded-to service's receipts; the outbox's own tickets have none."""
        return self.forward.receipts(ticket_ids) if self.forward is not None else {}

    def recorded(self) -> list[dict]:
        """What was sent so far, oldest first."""
        if not self.path.is_file():
            return []
        with self._lock:
            text = self.path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]
