from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import File, Form, UploadFile
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from noticebot.domain.errors import InvalidRequest
from noticebot.handlers.api.identity import principal_from_event, refuse_identity_fields
from noticebot.handlers.api.request_container import request_container
from noticebot.handlers.api.responses import BY_ID, SIGNED_IN, WITH_BODY, declare
from noticebot.handlers.api.schemas import DocumentList, DocumentOut, UploadMetadata, UploadOut
from noticebot.services.documents import UploadOutcome

router = APIGatewayRouter()


def _principal():
    return principal_from_event(router.current_event.raw_event)


@router.post("/upload", summary="Upload a small file (multipart: file + metadata JSON)",
             status_code=202,
             responses=declare(202, "Queued for indexing", SIGNED_IN, WITH_BODY, 413))
def upload(file: Annotated[UploadFile, File(description="the document")],
           # Nullable: multipart can only say "null" by leaving the part out, so a null
           # metadata and an absent one are the same request.
           metadata: Annotated[UploadMetadata | None,
                               Form(description='e.g. {"title": ...}')] = None,
           ) -> Response[UploadOut]:
    principal = _principal()
    meta = (metadata.root if metadata is not None else None) or {}
    refuse_identity_fields(meta)
    if not isinstance(file, UploadFile):
        raise InvalidRequest("send the document as the multipart field 'file'")
    doc, outcome = request_container(router).documents.upload(
        principal, file.filename or "upload", file.content, file.content_type, meta,
    )
    body = UploadOut(document_id=doc.document_id, status=doc.status.value,
                     duplicate=outcome is UploadOutcome.DUPLICATE,
                     retried=outcome is UploadOutcome.RETRIED)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON,
                    body=body.model_dump())


@router.get("/documents", summary="Documents of the caller's workspace",
            responses=declare(200, "The workspace's documents", SIGNED_IN))
def list_documents() -> DocumentList:
    docs = request_container(router).documents.list(_principal())
    return DocumentList(documents=[DocumentOut.of(d) for d in docs])


@router.get("/documents/<document_id>", summary="One document with its indexing status",
            responses=declare(200, "The document", SIGNED_IN, BY_ID))
def get_document(document_id: str) -> DocumentOut:
    return DocumentOut.of(request_container(router).documents.get(_principal(), document_id))


@router.delete("/documents/<document_id>", summary="Delete a document and its chunks (editors)",
               status_code=204,
               responses=declare(204, "Deleted", SIGNED_IN, BY_ID, no_content=True))
def delete_document(document_id: str):
    request_container(router).documents.delete(_principal(), document_id)
    return Response(status_code=204, content_type=None, body="")
