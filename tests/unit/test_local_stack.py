"""The local stack: the composition root builds the parts, ``entrypoints.local_stack``
connects their events to the handlers, and every handler is given its container, so two
stacks in one process never reach each other's data."""

from apiclient import ApiClient, claims_for
from fakes import FakeChatModel, FakeEmbedder, FakeReranker, FakeVectorIndex
from noticebot.bootstrap_local import bootstrap_local
from noticebot.config import Settings
from noticebot.domain.models import DocumentStatus, Principal
from noticebot.entrypoints.local_stack import local_stack
from noticebot.handlers.api.app import handler_for

EDITOR = Principal("maria", "riverside", is_editor=True)


def ports():
    return dict(embedder=FakeEmbedder(), chat_model=FakeChatModel(), index=FakeVectorIndex())


def test_the_composition_root_leaves_the_events_unconnected(tmp_path):
    container = bootstrap_local(Settings(data_dir=tmp_path), **ports())
    assert container.queue.consumer is None and container.queue.housekeeping is None
    assert container.launcher.on_event is None


def test_the_search_reranks_only_with_the_local_models_or_a_given_reranker(tmp_path):
    with_fakes = bootstrap_local(Settings(data_dir=tmp_path / "fakes"), **ports())
    assert with_fakes.search.reranker is None  # a fake embedder's test ranks without a model
    reranker = FakeReranker()
    given = bootstrap_local(Settings(data_dir=tmp_path / "given"), reranker=reranker, **ports())
    assert given.search.reranker is reranker and given.chat.search is given.search
    assert given.search.search(EDITOR, "boathouse opening", top_k=1) == []
    assert reranker.calls == []  # nothing found: nothing to score


def test_with_the_local_embedder_the_search_reranks_with_the_cross_encoder(tmp_path):
    from noticebot.adapters.local.onnx_cross_encoder import OnnxCrossEncoder

    container = bootstrap_local(Settings(data_dir=tmp_path), chat_model=FakeChatModel(),
                                index=FakeVectorIndex())  # the embedder is the local model
    assert isinstance(container.search.reranker, OnnxCrossEncoder)


def test_the_local_stack_connects_the_queue_and_the_training_events(tmp_path):
    container = local_stack(Settings(data_dir=tmp_path), **ports())
    assert container.queue.consumer is not None and container.queue.housekeeping is not None
    assert container.launcher.on_event is not None
    doc, _ = container.documents.upload(EDITOR, "a.txt", b"The boathouse opens at nine.")
    container.queue.drain()
    assert container.documents.get(EDITOR, doc.document_id).status == DocumentStatus.INDEXED


def test_two_stacks_in_one_process_keep_to_their_own_data(tmp_path):
    first = local_stack(Settings(data_dir=tmp_path / "first"), **ports())
    second = local_stack(Settings(data_dir=tmp_path / "second"), **ports())
    doc, _ = first.documents.upload(EDITOR, "a.txt", b"The boathouse opens at nine.")
    second.queue.drain()  # the second stack's worker has nothing to deliver
    assert first.documents.get(EDITOR, doc.document_id).status == DocumentStatus.QUEUED
    first.queue.drain()
    assert first.documents.get(EDITOR, doc.document_id).status == DocumentStatus.INDEXED
    assert second.metadata.list_documents("riverside") == []
    member = claims_for("sam", "riverside")
    _, listed = ApiClient(handler_for(first)).call("GET", "/api/documents", claims=member)
    assert [d["document_id"] for d in listed["documents"]] == [doc.document_id]
    _, listed = ApiClient(handler_for(second)).call("GET", "/api/documents", claims=member)
    assert listed["documents"] == []
