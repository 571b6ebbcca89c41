"""The grounded-answer prompt as chat messages. Model formats live in content handlers."""

from __future__ import annotations

from collections.abc import Sequence

from noticebot.domain.models import ConversationTurn, Message

NO_ANSWER = (
    "I could not find this in your group's notices and documents, so I can't answer it. "
    "Try rephrasing, or ask an editor to post it."
)

SYSTEM_PROMPT = (
    "You answer questions for the members of a group, using only the numbered sources "
    "from the group's notice board and documents. Answer in one to three sentences and "
    "cite the sources you used like [1]. If the sources do not contain the answer, say "
    "that you don't know. Never invent facts."
)


def format_sources(passages: Sequence) -> str:
    blocks = []
    for n, p in enumerate(passages, start=1):
        where = f", page {p.page}" if p.page else ""
        location = getattr(p, "location", None)
        if location:
            where += f", {location}"
        blocks.append(f"[{n}] {p.title}{where}\n{p.text.strip()}")
    return "\n\n".join(blocks)


def build_messages(question: str, passages: Sequence, history: Sequence[ConversationTurn] = (),
                   history_turns: int = 4) -> list[Message]:
    messages = [Message("system", SYSTEM_PROMPT)]
    for turn in list(history)[-history_turns:]:
        messages.append(Message(turn.role, turn.content))
    messages.append(Message("user", f"Sources:\n{format_sources(passages)}\n\nQuestion: {question}"))
    return messages
