"""noticebot from LangChain: a deployment's search as a retriever, its chat as a chat model.

For SageMaker Studio notebooks (or any Python): the classes call the deployment's HTTP
API with the user's Cognito ID token, so answers keep the API's retrieval, citations
and tenancy (a token only ever reaches its own workspace)::

    from noticebot_langchain import NoticebotClient, NoticebotRetriever, NoticebotChatModel

    client = NoticebotClient("https://abc.execute-api.eu-west-1.amazonaws.com/prod", token=id_token)
    docs = NoticebotRetriever(client=client, top_k=4).invoke("when does the pool reopen?")
    reply = NoticebotChatModel(client=client).invoke("when does the pool reopen?")
    reply.response_metadata["citations"]

Operators who need the raw LLaMA 3 endpoint (base model or a workspace's adapter) use
``noticebot_langchain.sagemaker.llama3_sagemaker_chat`` (extra ``[sagemaker]``; it
imports langchain-aws, which is why it is not imported here).
"""

from noticebot_langchain.chat_model import NoticebotChatModel
from noticebot_langchain.http import NoticebotAPIError, NoticebotClient
from noticebot_langchain.retriever import NoticebotRetriever

__all__ = ["NoticebotAPIError", "NoticebotChatModel", "NoticebotClient", "NoticebotRetriever"]
