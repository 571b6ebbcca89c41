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


def source_line(passage) -> str:
    """The source's name and where in it: "Handbook, page 3", "Budget.xlsx, Sheet 'Q1' rows 2-9"."""
    where = f", page {passage.page}" if passage.page else ""
    location = getattr(passage, "location", None)
    if location:
        where += f", {location}"
    return f"{passage.title}{where}"


def format_sources(passages: Sequence) -> str:
    """Whole passages, numbered from 1."""
    return "\n\n".join(f"[{n}] {source_line(p)}\n{p.text.strip()}"
                        for n, p in enumerate(passages, start=1))


def format_evidence(evidence: Sequence) -> str:
    """Selected evidence (``services.evidence.Evidence``), each under its own number."""
    return "\n\n".join(f"[{e.number}] {source_line(e.passage)}\n{e.text.strip()}"
                        for e in evidence)


def build_messages(question: str, passages: Sequence, history: Sequence[ConversationTurn] = (),
                   history_turns: int = 4, *, evidence: Sequence | None = None) -> list[Message]:
    """The prompt over ``evidence`` when given (what chat sends), else whole ``passages``."""
    sources = format_evidence(evidence) if evidence is not None else format_sources(passages)
    messages = [Message("system", SYSTEM_PROMPT)]
    for turn in list(history)[-history_turns:]:
        messages.append(Message(turn.role, turn.content))
    messages.append(Message("user", f"Sources:\n{sources}\n\nQuestion: {question}"))
    return messages
