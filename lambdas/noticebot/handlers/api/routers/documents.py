from __future__ import annotations

import json
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import File, Form, UploadFile
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from noticebot.domain.errors import InvalidRequest
from noticebot.handlers.api.identity import principal_from_event, reject_foreign_identity
from noticebot.handlers.api.schemas import DocumentList, DocumentOut, UploadOut
from noticebot.handlers.runtime import get_container

router = APIGatewayRouter()


def _principal():
    return principal_from_event(router.current_event.raw_event)


@router.post("/upload", summary="Upload a small file (multipart: file + metadata JSON)",
             responses={202: {"description": "Queued for indexing"}})
def upload(file: Annotated[UploadFile, File(description="the document")],
           metadata: Annotated[str | None, Form(description="JSON object, e.g. {\"title\": ...}")] = None,
           ) -> Response[UploadOut]:
    principal = _principal()
    meta = {}
    if metadata:
        try:
            meta = json.loads(metadata)
        except json.JSONDecodeError:
            raise InvalidRequest("metadata must be a JSON object") from None
        if not isinstance(meta, dict):
            raise InvalidRequest("metadata must be a JSON object")
        reject_foreign_identity(principal, meta)
    if not isinstance(file, UploadFile):
        raise InvalidRequest("send the document as the multipart field 'file'")
    doc, created = get_container().documents.upload(
        principal, file.filename or "upload", file.content, file.content_type, meta,
    )
    body = UploadOut(document_id=doc.document_id, status=doc.status.value, duplicate=not created)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON,
                    body=body.model_dump())


@router.get("/documents", summary="Documents of the caller's workspace")
def list_documents() -> DocumentList:
    docs = get_container().documents.list(_principal())
    return DocumentList(documents=[DocumentOut.of(d) for d in docs])


@router.get("/documents/<document_id>", summary="One document with its indexing status")
def get_document(document_id: str) -> DocumentOut:
    return DocumentOut.of(get_container().documents.get(_principal(), document_id))


@router.delete("/documents/<document_id>", summary="Delete a document and its chunks (editors)")
def delete_document(document_id: str):
    get_container().documents.delete(_principal(), document_id)
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")
