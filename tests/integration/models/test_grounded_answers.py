"""Answers on the sample board with the real models (embedder, cross-encoder, SmolLM2):
what is shown is supported by the evidence it cites, or is that evidence, or is a refusal."""

import pytest

from noticebot.config import Settings
from noticebot.domain.models import Principal
from noticebot.entrypoints.local_stack import local_stack
from noticebot.entrypoints.sample_board import seed_sample_board
from noticebot.ports import ChatModel, Completion
from noticebot.services.support import EVIDENCE, NOT_FOUND, PARTLY_SUPPORTED, SUPPORTED

pytestmark = pytest.mark.models

MEMBER = Principal("sam", "demo", is_editor=False)
OARS = "Damaged oars or boats must be reported the same day by e-mail to equipment@riverside-rowing.example."
# What the 135M model answered before answers were checked: fluent, cited, wrong.
WRONG_OAR_ANSWER = ("The club members. They are the ones who have helped to make this event "
                    "possible, and they're always happy to help out in any way that they can [2].")


class ScriptedChatModel(ChatModel):
    """Answers with the text it is given, whatever the prompt; records the prompts."""

    model_id = "scripted"

    def __init__(self):
        self.answer = ""
        self.prompts = []

    def generate(self, messages, params, adapter=None):
        self.prompts.append(messages)
        return Completion(text=self.answer, model=self.model_id, completion_tokens=1)

    def stream(self, messages, params, adapter=None):
        yield self.generate(messages, params, adapter).text


@pytest.fixture(scope="module")
def board(tmp_path_factory, embedder, cross_encoder, local_endpoint):
    from noticebot.adapters.endpoint_chat_model import EndpointChatModel
    from noticebot.llm.content_handlers import ChatMLContentHandler

    data = tmp_path_factory.mktemp("board")
    real = EndpointChatModel(local_endpoint, ChatMLContentHandler(), "smollm2-135m-instruct")
    container = local_stack(Settings(data_dir=data / "real"), embedder=embedder,
                            reranker=cross_encoder, chat_model=real)
    seed_sample_board(container, "demo", "maria")
    container.queue.drain()
    scripted = ScriptedChatModel()
    replay = local_stack(Settings(data_dir=data / "scripted"), embedder=embedder,
                         reranker=cross_encoder, chat_model=scripted)
    seed_sample_board(replay, "demo", "maria")
    replay.queue.drain()
    return container, replay, scripted


def test_the_damaged_oar_question_is_answered_from_the_handbook(board):
    container, _, _ = board
    result = container.chat.chat(MEMBER, "Who do I tell about a damaged oar?")
    assert result.support in (SUPPORTED, PARTLY_SUPPORTED, EVIDENCE)
    assert "equipment@riverside-rowing.example" in result.answer
    assert result.citations[0].title == "Riverside Rowing Club handbook"
    assert OARS in result.citations[0].snippet


def test_the_wrong_answer_it_used_to_give_is_replaced_by_the_handbook_quote(board):
    _, replay, scripted = board
    scripted.answer = WRONG_OAR_ANSWER
    result = replay.chat.chat(MEMBER, "Who do I tell about a damaged oar?")
    assert result.support == EVIDENCE and result.answer_check
    assert "club members" not in result.answer.lower()
    assert OARS in result.answer and result.answer.startswith('According to "Riverside Rowing')
    prompt = scripted.prompts[-1][-1].content
    assert prompt.index(OARS) < prompt.index("Question:")  # the evidence, first
    assert len(prompt.split()) < 250  # a few sentences, not whole pages


def test_a_question_the_board_cannot_answer_is_refused(board):
    container, _, _ = board
    result = container.chat.chat(MEMBER, "Who won the regional chess tournament last year?")
    assert result.support == NOT_FOUND and result.citations == []


def test_a_follow_up_question_finds_what_it_refers_to(board):
    _, replay, scripted = board
    scripted.answer = "It is on Saturday 12 July [1]."
    first = replay.chat.chat(MEMBER, "When is the summer party?")
    scripted.answer = "The summer party is at the boathouse terrace [1]."
    follow = replay.chat.chat(MEMBER, "And where is it?", first.conversation_id)
    # Either the answer or, when the cross-encoder finds the notice a fuller reply to "when
    # is the summer party? and where is it?", the notice itself.
    assert follow.support in (SUPPORTED, EVIDENCE), follow.answer_check
    assert "boathouse terrace" in follow.answer
    assert follow.citations[0].title == first.citations[0].title == (
        "Summer party on Saturday 12 July")
