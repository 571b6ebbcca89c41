"""Grounded chat: retrieve, decide whether the sources can answer, prompt, cite."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field

from noticebot.domain.errors import ModelUnavailable, NotFound
from noticebot.domain.models import Citation, Conversation, ConversationTurn, Principal
from noticebot.domain.tuning import BASE_MODEL_ID
from noticebot.llm.prompts import NO_ANSWER, build_messages
from noticebot.ports import ChatModel, GenerationParams, MetadataStore
from noticebot.services.answer_check import check_answer
from noticebot.services.search import Passage, SearchService

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
    answer_check: str | None = None  # why the model's answer was replaced by a quote
    warning: str | None = None  # e.g. the workspace's model failed and the base model answered
    model_name: str | None = None  # the fine-tuned version's name when it answered


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
        conv = self._conversation(principal, conversation_id)
        if self.models is not None:
            version = self.models.resolve(principal.workspace_id, model)
        elif model not in (None, BASE_MODEL_ID):
            raise NotFound(f"model '{model}' not found")
        else:
            version = None
        passages = self.search.search(principal, query, top_k=top_k or self.top_k)
        passages = [p for p in passages if self.gate.admits(p)]
        if not passages:
            result = ChatResult(answer=NO_ANSWER, citations=[], conversation_id=conv.conversation_id,
                                model=self.model.model_id, grounded=False)
        else:
            messages = build_messages(query, passages, conv.turns, self.history_turns)
            completion, answered_by, warning = self._generate(messages, version)
            answer, replaced_because = check_answer(
                query, completion.text.strip(), [p.text for p in passages])
            result = ChatResult(
                answer=answer, citations=_citations(answer, passages),
                conversation_id=conv.conversation_id, model=answered_by,
                usage={"prompt_tokens": completion.prompt_tokens,
                       "completion_tokens": completion.completion_tokens},
                answer_check=replaced_because, warning=warning,
                model_name=version.name if version and answered_by == version.model_id else None,
            )
        if not conv.turns:
            conv.title = query[:80]
            self.metadata.put_conversation(conv)
        self.metadata.append_turns(principal.workspace_id, conv.conversation_id, [
            ConversationTurn(role="user", content=query),
            ConversationTurn(role="assistant", content=result.answer, citations=result.citations),
        ])
        return result

    def _generate(self, messages, version):
        """(completion, which model answered, warning). The workspace's adapter first; when it
        is missing or failing, the base model answers and the response says so."""
        params = GenerationParams(max_new_tokens=self.max_new_tokens, temperature=0.0,
                                  repetition_penalty=1.15)
        if version is not None:
            try:
                return (self.model.generate(messages, params, adapter=version.adapter_name),
                        version.model_id, None)
            except ModelUnavailable as exc:
                logger.warning("adapter %s of model %s unavailable, base model answers: %s",
                               version.adapter_name, version.model_id, exc.message)
                warning = (f"Your workspace's model '{version.name}' ({version.model_id}) is "
                           f"unavailable right now ({exc.message}); the base model answered.")
                completion = self.model.generate(messages, params)
                return completion, completion.model, warning
        completion = self.model.generate(messages, params)
        return completion, completion.model, None


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
