"""NoticebotRetriever: a workspace's notices and documents as a LangChain retriever.

It calls ``POST /api/search`` (hybrid BM25 + vectors, expired notices excluded, the
caller's workspace only), so a notebook retrieves exactly what the chatbot would.
Each passage becomes a ``Document`` whose text is the API's snippet and whose metadata
carries the citation fields (document_id, title, page, heading, score).
"""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from noticebot_langchain.http import NoticebotClient


class NoticebotRetriever(BaseRetriever):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    client: NoticebotClient
    top_k: int = Field(default=5, ge=1, le=50)
    mode: str = Field(default="hybrid", pattern="^(hybrid|bm25|dense)$")

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        data = self.client.post("/api/search", {"query": query, "top_k": self.top_k,
                                                "mode": self.mode})
        return [
            Document(page_content=r["snippet"], metadata={
                "document_id": r["document_id"], "title": r["title"], "page": r.get("page"),
                "heading": r.get("heading"), "score": r["score"],
            })
            for r in data["results"]
        ]
