"""Grounded chat: retrieve, decide whether the sources can answer, prompt, verify, cite.

One turn runs in three parts so that the blocking answer and the streamed one share
everything but the generation: ``_plan`` (conversation, model version, passages, prompt),
then the model's text (whole, or piece by piece), then ``_finish`` (the support check, the
citations, the stored turn). A streamed turn shows the model's tokens as they arrive and
ends with the verified answer, which replaces them when the check dropped or replaced text.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from noticebot.domain.errors import ModelUnavailable, NotFound
from noticebot.domain.models import Citation, Conversation, ConversationTurn, Principal
from noticebot.domain.tuning import BASE_MODEL_ID
from noticebot.llm.prompts import NO_ANSWER, build_messages
from noticebot.ports import ChatModel, Completion, GenerationParams, MetadataStore
from noticebot.services.answer_check import check_answer
from noticebot.services.search import Passage, SearchService

logger = logging.getLogger(__name__)

# What the support check concluded about the answer that is shown.
SUPPORTED = "supported"  # every sentence of the model's answer is backed by a cited source
PARTLY_SUPPORTED = "partly_supported"  # unsupported sentences were dropped; the rest is backed
EVIDENCE = "evidence"  # nothing the model wrote was backed: the best evidence, quoted
NOT_FOUND = "not_found"  # no source was good enough to answer from
SUPPORT_VERDICTS = (SUPPORTED, PARTLY_SUPPORTED, EVIDENCE, NOT_FOUND)


@dataclass(frozen=True)
class RelevanceGate:
    """Whether retrieved passages can plausibly answer. Hybrid retrieval always
    returns something, so without a gate the bot would answer from unrelated text."""

    min_dense: float = 0.60
    min_bm25: float = 0.0  # any lexical match of a content word counts

    def admits(self, p: Passage) -> bool:
        lexical = p.bm25_score is not None and p.bm25_score > self.min_bm25
        semantic = p.dense_score is not None and p.dense_score >= self.min_dense
        return lexical or semantic


@dataclass
class ChatResult:
    answer: str
    citations: list[Citation]
    conversation_id: str
    model: str
    usage: dict = field(default_factory=dict)
    grounded: bool = True
    answer_check: str | None = None  # why the model's answer was cut or replaced
    warning: str | None = None  # e.g. the workspace's model failed and the base model answered
    model_name: str | None = None  # the fine-tuned version's name when it answered
    support: str = SUPPORTED  # one of SUPPORT_VERDICTS


@dataclass(frozen=True)
class ChatToken:
    """A piece of the model's text as it was generated (not yet verified)."""

    text: str


@dataclass(frozen=True)
class ChatDone:
    """The end of a streamed turn: the verified answer, as ``chat`` would have returned it."""

    result: ChatResult


ChatEvent = ChatToken | ChatDone


@dataclass
class _Plan:
    conversation: Conversation
    query: str
    version: object | None  # the workspace's ModelVersion, or None for the base model
    passages: list[Passage]
    messages: list


_CITE = re.compile(r"\[(\d+)\]")


class ChatService:
    def __init__(self, search: SearchService, model: ChatModel, metadata: MetadataStore,
                 top_k: int = 4, max_new_tokens: int = 200, history_turns: int = 4,
                 gate: RelevanceGate = RelevanceGate(), models=None):
        """``models``: resolves a workspace's fine-tuned model (``ModelService``); None = the
        base model always."""
        self.search = search
        self.models = models
        self.model = model
        self.metadata = metadata
        self.top_k = top_k
        self.max_new_tokens = max_new_tokens
        self.history_turns = history_turns
        self.gate = gate

    def _conversation(self, principal: Principal, conversation_id: str | None) -> Conversation:
        if conversation_id:
            conv = self.metadata.get_conversation(principal.workspace_id, conversation_id)
            # Another user's conversation in the same workspace is as invisible as a missing one.
            if not conv or conv.user_id != principal.user_id:
                raise NotFound(f"conversation {conversation_id} not found")
            return conv
        return Conversation(workspace_id=principal.workspace_id,
                            conversation_id=uuid.uuid4().hex, user_id=principal.user_id)

    def get_conversation(self, principal: Principal, conversation_id: str) -> Conversation:
        return self._conversation(principal, conversation_id)

    def chat(self, principal: Principal, query: str, conversation_id: str | None = None,
             top_k: int | None = None, model: str | None = None) -> ChatResult:
        """``model``: None = the workspace's active model, ``base`` = the base model, or one
        of the workspace's model versions."""
        plan = self._plan(principal, query, conversation_id, top_k, model)
        if not plan.passages:
            return self._record(principal, plan, self._not_found(plan))
        completion, answered_by, warning = self._generate(plan.messages, plan.version)
        return self._record(principal, plan,
                            self._verified(plan, completion, answered_by, warning))

    def stream_chat(self, principal: Principal, query: str, conversation_id: str | None = None,
                    top_k: int | None = None, model: str | None = None) -> Iterator[ChatEvent]:
        """The same turn as ``chat``, as events: ``ChatToken`` pieces while the model writes,
        then one ``ChatDone``. Validation, retrieval and model resolution happen on the first
        ``next()``, so their errors surface before anything is sent. Closing the iterator
        early (the reader stopped) stops generation and records nothing."""
        plan = self._plan(principal, query, conversation_id, top_k, model)
        if not plan.passages:
            yield ChatDone(self._record(principal, plan, self._not_found(plan)))
            return
        pieces: list[str] = []
        answered_by, warning = self.model.model_id, None
        params = self._params()
        stream = None
        try:
            if plan.version is not None:
                try:
                    stream = self.model.stream(plan.messages, params,
                                               adapter=plan.version.adapter_name)
                    # An adapter that cannot load fails on its first piece: the base model
                    # still answers, and nothing of the failed attempt was shown.
                    first = next(stream, None)
                    answered_by = plan.version.model_id
                except ModelUnavailable as exc:
                    warning = self._fallback_warning(plan.version, exc)
                    _close(stream)
                    stream = None
                if stream is not None and first is not None:
                    pieces.append(first)
                    yield ChatToken(first)
            if stream is None:
                stream = self.model.stream(plan.messages, params)
            for piece in stream:
                pieces.append(piece)
                yield ChatToken(piece)
        finally:
            _close(stream)
        completion = Completion(text="".join(pieces), model=answered_by,
                                completion_tokens=len(pieces))
        yield ChatDone(self._record(principal, plan,
                                    self._verified(plan, completion, answered_by, warning)))

    # ---- the parts of a turn ------------------------------------------------------------

    def _plan(self, principal, query, conversation_id, top_k, model) -> _Plan:
        conv = self._conversation(principal, conversation_id)
        if self.models is not None:
            version = self.models.resolve(principal.workspace_id, model)
        elif model not in (None, BASE_MODEL_ID):
            raise NotFound(f"model '{model}' not found")
        else:
            version = None
        passages = self.search.search(principal, query, top_k=top_k or self.top_k)
        passages = [p for p in passages if self.gate.admits(p)]
        messages = (build_messages(query, passages, conv.turns, self.history_turns)
                    if passages else [])
        return _Plan(conversation=conv, query=query, version=version, passages=passages,
                     messages=messages)

    def _not_found(self, plan: _Plan) -> ChatResult:
        return ChatResult(answer=NO_ANSWER, citations=[],
                          conversation_id=plan.conversation.conversation_id,
                          model=self.model.model_id, grounded=False, support=NOT_FOUND)

    def _verified(self, plan: _Plan, completion: Completion, answered_by: str,
                  warning: str | None) -> ChatResult:
        answer, replaced_because = check_answer(
            plan.query, completion.text.strip(), [p.text for p in plan.passages])
        version = plan.version
        return ChatResult(
            answer=answer, citations=_citations(answer, plan.passages),
            conversation_id=plan.conversation.conversation_id, model=answered_by,
            usage={"prompt_tokens": completion.prompt_tokens,
                   "completion_tokens": completion.completion_tokens},
            answer_check=replaced_because, warning=warning,
            model_name=version.name if version and answered_by == version.model_id else None,
            support=EVIDENCE if replaced_because else SUPPORTED,
        )

    def _record(self, principal: Principal, plan: _Plan, result: ChatResult) -> ChatResult:
        conv = plan.conversation
        if not conv.turns:
            conv.title = plan.query[:80]
            self.metadata.put_conversation(conv)
        self.metadata.append_turns(principal.workspace_id, conv.conversation_id, [
            ConversationTurn(role="user", content=plan.query),
            ConversationTurn(role="assistant", content=result.answer, citations=result.citations),
        ])
        return result

    def _params(self) -> GenerationParams:
        return GenerationParams(max_new_tokens=self.max_new_tokens, temperature=0.0,
                                repetition_penalty=1.15)

    @staticmethod
    def _fallback_warning(version, exc: ModelUnavailable) -> str:
        logger.warning("adapter %s of model %s unavailable, base model answers: %s",
                       version.adapter_name, version.model_id, exc.message)
        return (f"Your workspace's model '{version.name}' ({version.model_id}) is "
                f"unavailable right now ({exc.message}); the base model answered.")

    def _generate(self, messages, version):
        """(completion, which model answered, warning). The workspace's adapter first; when it
        is missing or failing, the base model answers and the response says so."""
        params = self._params()
        if version is not None:
            try:
                return (self.model.generate(messages, params, adapter=version.adapter_name),
                        version.model_id, None)
            except ModelUnavailable as exc:
                warning = self._fallback_warning(version, exc)
                completion = self.model.generate(messages, params)
                return completion, completion.model, warning
        completion = self.model.generate(messages, params)
        return completion, completion.model, None


def _close(stream) -> None:
    close = getattr(stream, "close", None)
    if close is not None:
        close()


def _citations(answer: str, passages: list[Passage]) -> list[Citation]:
    """The sources the answer cites by number, in citation order; when a small model
    forgets to cite, every source it was given is listed so the user can check."""
    cited = []
    for m in _CITE.finditer(answer):
        n = int(m.group(1))
        if 1 <= n <= len(passages) and n not in cited:
            cited.append(n)
    chosen = [passages[n - 1] for n in cited] or passages
    return [Citation(document_id=p.document_id, title=p.title, page=p.page, snippet=p.snippet,
                     score=p.score, location=p.location) for p in chosen]
