"""Grounded chat: retrieve, decide whether the sources can answer, prompt, verify, cite.

One turn runs in three parts so that the blocking answer and the streamed one share
everything but the generation: ``_plan`` (conversation, model version, passages, prompt),
then the model's text (whole, or piece by piece), then ``_finish`` (the support check, the
citations, the stored turn). A streamed turn shows the model's tokens as they arrive and
ends with the verified answer, which replaces them when the check dropped or replaced text.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from noticebot.domain.errors import ModelUnavailable, NotFound
from noticebot.domain.models import Citation, Conversation, ConversationTurn, Principal
from noticebot.domain.tuning import BASE_MODEL_ID
from noticebot.llm.prompts import NO_ANSWER, build_messages
from noticebot.ports import ChatModel, Completion, GenerationParams, MetadataStore
from noticebot.ports import Reranker
from noticebot.services.evidence import Evidence, EvidenceSelector
from noticebot.services.search import Passage, SearchService
from noticebot.services.support import NOT_FOUND, SUPPORTED, SupportCheck
from noticebot.services.text_overlap import content_words

logger = logging.getLogger(__name__)

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
    support: str = SUPPORTED  # one of support.SUPPORT_VERDICTS


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
    asked: str  # what was searched: the query, with the question before it for a follow-up
    version: object | None  # the workspace's ModelVersion, or None for the base model
    passages: list[Passage]
    evidence: list[Evidence]
    messages: list


class ChatService:
    def __init__(self, search: SearchService, model: ChatModel, metadata: MetadataStore,
                 top_k: int = 4, max_new_tokens: int = 200, history_turns: int = 4,
                 gate: RelevanceGate = RelevanceGate(), models=None,
                 reranker: Reranker | None = None, min_evidence_score: float | None = None,
                 evidence: EvidenceSelector | None = None, support: SupportCheck | None = None):
        """``models``: resolves a workspace's fine-tuned model (``ModelService``); None = the
        base model always. ``reranker``: the cross-encoder that picks the evidence sentences
        (None: a lexical choice). ``min_evidence_score``: with a reranker, the best evidence
        must score at least this (its logit) to be answered from; below it, the reply is
        that the notices and documents do not say."""
        self.search = search
        self.models = models
        self.model = model
        self.metadata = metadata
        self.top_k = top_k
        self.max_new_tokens = max_new_tokens
        self.history_turns = history_turns
        self.gate = gate
        self.min_evidence_score = min_evidence_score if reranker is not None else None
        self.evidence = evidence or EvidenceSelector(reranker)
        self.support = support or SupportCheck(relevance=reranker)

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
        if not plan.evidence:
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
        if not plan.evidence:
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
        usage = getattr(stream, "usage", None)  # a TextStream's, read to its end
        completion = Completion(text="".join(pieces), model=answered_by,
                                prompt_tokens=usage.prompt_tokens if usage else 0,
                                completion_tokens=(usage.completion_tokens if usage else 0)
                                or len(pieces))
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
        asked = retrieval_query(query, conv.turns)
        passages = self.search.search(principal, asked, top_k=top_k or self.top_k)
        passages = [p for p in passages if self.gate.admits(p)]
        evidence = self.evidence.select(asked, passages) if passages else []
        if (evidence and evidence[0].judged and self.min_evidence_score is not None
                and max(e.score for e in evidence) < self.min_evidence_score):
            evidence = []
        messages = (build_messages(query, passages, conv.turns, self.history_turns,
                                   evidence=evidence) if evidence else [])
        return _Plan(conversation=conv, query=query, asked=asked, version=version,
                     passages=passages, evidence=evidence, messages=messages)

    def _not_found(self, plan: _Plan) -> ChatResult:
        return ChatResult(answer=NO_ANSWER, citations=[],
                          conversation_id=plan.conversation.conversation_id,
                          model=self.model.model_id, grounded=False, support=NOT_FOUND)

    def _verified(self, plan: _Plan, completion: Completion, answered_by: str,
                  warning: str | None) -> ChatResult:
        checked = self.support.check(plan.asked, completion.text.strip(), plan.evidence)
        version = plan.version
        return ChatResult(
            answer=checked.answer, citations=_citations(checked.cited, plan.evidence),
            conversation_id=plan.conversation.conversation_id, model=answered_by,
            usage=_usage(completion),
            answer_check=checked.reason, warning=warning,
            model_name=version.name if version and answered_by == version.model_id else None,
            support=checked.verdict,
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


def _usage(completion: Completion) -> dict:
    """Token counts; a stream whose server reported none counts the pieces it received and
    reports no prompt count rather than a zero."""
    usage = {"completion_tokens": completion.completion_tokens}
    if completion.prompt_tokens:
        usage["prompt_tokens"] = completion.prompt_tokens
    return usage


def _close(stream) -> None:
    close = getattr(stream, "close", None)
    if close is not None:
        close()


def _citations(cited: tuple[int, ...], evidence: list[Evidence]) -> list[Citation]:
    """The evidence the shown answer cites, in citation order, each with its own text as the
    snippet (what the answer rests on, not the passage's opening)."""
    by_number = {e.number: e for e in evidence}
    chosen = [by_number[n] for n in cited if n in by_number]
    return [Citation(document_id=e.passage.document_id, title=e.passage.title,
                     page=e.passage.page, snippet=" ".join(e.text.split()),
                     score=e.passage.score, location=e.passage.location) for e in chosen]


# A follow-up leans on the conversation ("and when does it close?"): few words of its own,
# or a word that points back.
_POINTS_BACK = frozenset("it its they them their this that these those there he she his her "
                         "him one ones same".split())
_FOLLOW_UP_START = ("and ", "what about", "how about", "also ", "then ")


def retrieval_query(question: str, history: list[ConversationTurn]) -> str:
    """What to search for: the question, and for a follow-up the previous question too, so
    "and when does it close?" after "where is the boathouse?" finds the boathouse."""
    previous = next((t.content for t in reversed(history) if t.role == "user"), None)
    if not previous:
        return question
    lowered = question.lower().strip()
    words = set(lowered.replace("?", " ").split())
    if (len(content_words(question)) < 2 or words & _POINTS_BACK
            or lowered.startswith(_FOLLOW_UP_START)):
        return f"{previous} {question}"
    return question
