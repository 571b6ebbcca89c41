"""POST /api/uploads: a presigned upload form for files too large to send through the API.

Why: API Gateway takes at most 10 MB per request and Lambda 6 MB (less after base64),
so large files go straight to S3 with a presigned POST. The document row is written
first (status ``queued``), so the S3 ObjectCreated event that follows the upload finds
it and ingestion runs exactly as for ``POST /api/upload``. The form's policy pins the
key (inside the caller's tenant prefix), the declared content type and the declared
size as the upper bound, so S3 itself refuses anything else.

The client sends ``{filename, content_type, size_bytes, title?, metadata?}`` and then
POSTs multipart/form-data to ``upload.url``: every entry of ``upload.fields``, then
the file as ``upload.file_field``. In local mode (no S3) the form points at
``/api/upload`` instead (``direct: false``); that route creates the document itself.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, Field

from noticebot.domain.errors import PayloadTooLarge, UnsupportedMediaType
from noticebot.domain.keys import raw_key
from noticebot.domain.models import Document
from noticebot.handlers.api.identity import principal_from_event
from noticebot.handlers.api.request_container import request_container
from noticebot.handlers.api.responses import SIGNED_IN, WITH_BODY, declare
from noticebot.handlers.api.schemas import Strict, json_int
from noticebot.services.documents import require_editor, safe_filename

router = APIGatewayRouter()

# Declared types a document upload may have; the content decides the parser later.
ALLOWED_TYPES = frozenset({
    "application/pdf", "text/plain", "text/markdown", "text/x-markdown", "text/html",
    "application/xhtml+xml", "text/csv", "text/tab-separated-values", "application/json",
    "application/xml", "text/xml", "application/rtf", "text/rtf", "message/rfc822",
    "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation", "application/epub+zip",
    "application/octet-stream",  # what browsers declare for .md and other unknown extensions
})


class UploadRequestIn(Strict):
    filename: str = Field(min_length=1, max_length=255)
    # The schema lists the types; letter case and parameters ("; charset=...") are tolerated,
    # and any other type is a 415.
    content_type: str = Field(default="application/octet-stream", max_length=255,
                              json_schema_extra={"enum": sorted(ALLOWED_TYPES)})
    size_bytes: json_int(ge=1) = Field(description="exact size of the file; the policy enforces "
                                       "it; over the deployment's upload limit: 413")
    title: str | None = Field(default=None, max_length=300)
    metadata: dict = Field(default_factory=dict)


class UploadFormOut(BaseModel):
    url: str
    method: str
    fields: dict[str, str]
    file_field: str
    max_bytes: int
    expires_at: datetime | None
    direct: bool


class PresignedUploadOut(BaseModel):
    document_id: str | None  # None in local mode: /api/upload assigns it
    status: str
    upload: UploadFormOut


@router.post("/uploads", summary="Presigned upload form for a large file (editors)",
             status_code=201,
             responses=declare(201, "Form to POST the file with", SIGNED_IN, WITH_BODY, 413))
def create_upload(request: UploadRequestIn) -> PresignedUploadOut:
    principal = principal_from_event(router.current_event.raw_event)
    require_editor(principal)
    container = request_container(router)
    settings = container.settings
    # The type first: it is part of the request's schema, the size limit is the deployment's.
    content_type = request.content_type.split(";")[0].strip().lower()
    if content_type not in ALLOWED_TYPES:
        raise UnsupportedMediaType(f"'{content_type}' is not a document type this board reads")
    if request.size_bytes > settings.presigned_max_bytes:
        raise PayloadTooLarge(f"file is {request.size_bytes} bytes; the upload limit is "
                              f"{settings.presigned_max_bytes} bytes")
    name = safe_filename(request.filename)
    title = str(request.title or request.metadata.get("title") or name).strip()[:300] or name
    document_id = uuid.uuid4().hex
    key = raw_key(principal.workspace_id, document_id, name)
    form = container.blobs.presign_upload(key, content_type, request.size_bytes,
                                          expires_in=settings.upload_url_ttl_s)
    fields = dict(form.fields)
    if form.direct:
        # The row first: the ObjectCreated event that follows the upload must find it.
        container.metadata.put_document(Document(
            workspace_id=principal.workspace_id, document_id=document_id, filename=name,
            title=title, content_type=content_type, size_bytes=request.size_bytes,
            sha256="", blob_key=key, metadata=request.metadata, uploaded_by=principal.user_id,
        ))
        status, doc_id = "queued", document_id
    else:
        if request.size_bytes > settings.max_upload_bytes:
            raise PayloadTooLarge(f"file is {request.size_bytes} bytes; this deployment takes "
                                  f"uploads up to {settings.max_upload_bytes} bytes")
        fields["metadata"] = json.dumps({**request.metadata, "title": title})
        status, doc_id = "upload_via_api", None
    return PresignedUploadOut(document_id=doc_id, status=status, upload=UploadFormOut(
        url=form.url, method=form.method, fields=fields, file_field=form.file_field,
        max_bytes=form.max_bytes, expires_at=form.expires_at, direct=form.direct))
