"""The streamed turn is the blocking turn, piece by piece: same answer, same record."""

import pytest

from apiclient import claims_for
from fakes import FakeChatModel, FakeEmbedder, FakeVectorIndex
from noticebot.config import Settings
from noticebot.entrypoints.local_stack import local_stack
from noticebot.handlers.api.identity import principal_from_claims
from noticebot.services.chat import ChatDone, ChatToken
from noticebot.services.support import NOT_FOUND
from noticebot.services.text_overlap import content_words


class CountingStream(FakeChatModel):
    """Streams word by word and remembers whether the reader closed the stream."""

    def __init__(self):
        super().__init__()
        self.closed = 0
        self.pieces_sent = 0

    def stream(self, messages, params, adapter=None):
        try:
            for piece in super().stream(messages, params, adapter):
                self.pieces_sent += 1
                yield piece
        finally:
            self.closed += 1


@pytest.fixture
def stack(tmp_path):
    model = CountingStream()
    container = local_stack(Settings(data_dir=tmp_path / "data"), embedder=FakeEmbedder(),
                            chat_model=model, index=FakeVectorIndex())
    editor = principal_from_claims(claims_for("maria", "riverside", editor=True))
    container.notices.create(editor, title="Summer party",
                             body="The summer party is on 12 July at the boathouse. Bring food.")
    return container, model


def member():
    return principal_from_claims(claims_for("sam", "riverside"))


def test_tokens_then_one_final_event_that_matches_the_blocking_answer(stack):
    container, model = stack
    events = list(container.chat.stream_chat(member(), "When is the summer party?"))
    tokens = [e for e in events if isinstance(e, ChatToken)]
    assert len(tokens) >= 3 and isinstance(events[-1], ChatDone)
    assert sum(isinstance(e, ChatDone) for e in events) == 1
    streamed = events[-1].result
    blocking = container.chat.chat(member(), "When is the summer party?")
    assert streamed.answer == blocking.answer and "12 July" in streamed.answer
    assert [c.document_id for c in streamed.citations] == [c.document_id for c in blocking.citations]
    # The final answer is the streamed text as the support check kept it (markers in place).
    assert streamed.support == "supported"
    assert content_words("".join(t.text for t in tokens)) == content_words(streamed.answer)
    conv = container.chat.get_conversation(member(), streamed.conversation_id)
    assert [t.content for t in conv.turns] == ["When is the summer party?", streamed.answer]


def test_a_reader_that_stops_ends_generation_and_records_nothing(stack):
    container, model = stack
    earlier = container.chat.chat(member(), "When is the summer party?")
    sent_before = model.pieces_sent
    events = container.chat.stream_chat(member(), "Where is the summer party?", earlier.conversation_id)
    first = next(events)
    assert isinstance(first, ChatToken)
    events.close()
    assert model.closed == 1 and model.pieces_sent == sent_before + 1
    conv = container.chat.get_conversation(member(), earlier.conversation_id)
    assert len(conv.turns) == 2


def test_no_sources_is_a_final_event_alone(stack):
    container, _ = stack
    events = list(container.chat.stream_chat(member(), "Who won the chess final?"))
    assert len(events) == 1 and events[0].result.support == NOT_FOUND
    assert events[0].result.citations == []


class UnreachableReranker:
    model_id = "unreachable"

    def score(self, query, passages):
        raise ConnectionError("the embed function is unreachable")

    def rerank(self, query, hits):
        raise ConnectionError("the embed function is unreachable")


def test_a_chat_whose_cross_encoder_fails_still_answers_from_its_sources(tmp_path):
    container = local_stack(Settings(data_dir=tmp_path / "data"), embedder=FakeEmbedder(),
                            chat_model=FakeChatModel(), index=FakeVectorIndex(),
                            reranker=UnreachableReranker())
    editor = principal_from_claims(claims_for("maria", "riverside", editor=True))
    container.notices.create(editor, title="Summer party",
                             body="The summer party is on 12 July at the boathouse.")
    result = container.chat.chat(member(), "When is the summer party?")
    assert result.support == "supported" and "12 July" in result.answer
    assert result.citations[0].title == "Summer party"


def test_a_streamed_turn_reports_the_token_counts_its_server_sent(tmp_path):
    from noticebot.ports.chat_model import StreamUsage, TextStream

    class ReportingStream(FakeChatModel):
        def stream(self, messages, params, adapter=None):
            usage = StreamUsage()

            def pieces():
                yield from FakeChatModel.stream(self, messages, params, adapter)
                usage.prompt_tokens, usage.completion_tokens = 321, 9

            return TextStream(pieces(), usage)

    container = local_stack(Settings(data_dir=tmp_path / "data"), embedder=FakeEmbedder(),
                            chat_model=ReportingStream(), index=FakeVectorIndex())
    editor = principal_from_claims(claims_for("maria", "riverside", editor=True))
    container.notices.create(editor, title="Summer party",
                             body="The summer party is on 12 July at the boathouse.")
    *_, done = container.chat.stream_chat(member(), "When is the summer party?")
    assert done.result.usage == {"prompt_tokens": 321, "completion_tokens": 9}
    # a stream that reports nothing counts its pieces and claims no prompt count
    plain = local_stack(Settings(data_dir=tmp_path / "plain"), embedder=FakeEmbedder(),
                        chat_model=FakeChatModel(), index=FakeVectorIndex())
    plain.notices.create(editor, title="Summer party",
                         body="The summer party is on 12 July at the boathouse.")
    *tokens, done = plain.chat.stream_chat(member(), "When is the summer party?")
    assert done.result.usage == {"completion_tokens": len(tokens)}
