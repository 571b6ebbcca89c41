"""NoticebotChatModel: the deployment's grounded chat as a LangChain chat model.

Why it sends only the last human message: the API retrieves sources, builds the LLaMA 3
prompt and keeps the conversation's history itself (``conversation_id``), so the
notebook gets the same cited, workspace-scoped answers as the app. With
``remember=True`` the model follows up in one server-side conversation. The answer's
citations, conversation id, model and grounding flag are in ``response_metadata``;
token counts in ``usage_metadata``. ``stop`` sequences are not supported by the API.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, Field

from noticebot_langchain.http import NoticebotClient


class NoticebotChatModel(BaseChatModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    client: NoticebotClient
    top_k: int | None = Field(default=None, ge=1, le=20)
    remember: bool = False
    conversation_id: str | None = None

    @property
    def _llm_type(self) -> str:
        return "noticebot"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        questions = [m for m in messages if isinstance(m, HumanMessage)]
        if not questions or not isinstance(questions[-1].content, str):
            raise ValueError("NoticebotChatModel needs a human message with text")
        payload: dict = {"query": questions[-1].content}
        if self.top_k:
            payload["top_k"] = self.top_k
        conversation = kwargs.get("conversation_id") or (self.conversation_id if self.remember else None)
        if conversation:
            payload["conversation_id"] = conversation
        data = self.client.post("/api/chat", payload)
        if self.remember:
            self.conversation_id = data["conversation_id"]
        usage = data.get("usage") or {}
        prompt, completion = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
        message = AIMessage(
            content=data["answer"],
            response_metadata={"citations": data["citations"], "model_name": data["model"],
                               "conversation_id": data["conversation_id"],
                               "grounded": data.get("grounded", True)},
            usage_metadata={"input_tokens": prompt, "output_tokens": completion,
                            "total_tokens": prompt + completion},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])
