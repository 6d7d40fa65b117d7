"""Attachments: upload to an issue, list, download."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from wenti.app import App
from wenti.domain import Attachment

from wenti_web.threads import in_thread
from wenti_web.api.common import API_DEPENDENCIES, PROBLEM_RESPONSES, encode, problem_for
from wenti_web.api.issues import IdempotencyKey
from wenti_web.api.models import AttachmentOut
from wenti_web.auth import Principal, wenti_app
from wenti_web.idempotency import request_hash, run_idempotent
from wenti_web.problems import ApiProblem
from wenti_web.uploads import check_upload, content_disposition

log = logging.getLogger(__name__)


def blob_store(request: Request):
    return request.app.state["blob_store"]


def store_attachment(app: App, request: Request, principal: Principal, issue_id: int, upload: UploadFile) -> Attachment:
    """Check an upload, store its bytes and record its metadata; nothing is kept on failure."""
    limit = request.app.state["max_upload_bytes"]
    # Read one byte more than allowed so an oversized file is recognised without reading it all.
    data = upload.file.read(limit + 1)
    filename, content_type = check_upload(data, upload.filename, upload.content_type, limit)
    # The issue check runs before the bytes are written, so a forbidden upload stores nothing.
    app.issues.get(principal.ctx, issue_id)
    store = blob_store(request)
    blob_id = store.put(data, content_type)
    try:
        attachment = app.issues.attach(
            principal.ctx, issue_id, blob_id=blob_id, filename=filename, content_type=content_type, size=len(data)
        )
    except Exception:
        store.delete(blob_id)
        raise
    log.info(
        "attachment stored: tenant=%s issue=%s attachment=%s bytes=%s",
        principal.ctx.tenant_id,
        issue_id,
        attachment.id,
        len(data),
    )
    return attachment


def download_response(request: Request, attachment: Attachment) -> Response:
    data = blob_store(request).get(attachment.blob_id)
    return Response(
        content=data,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": content_disposition(attachment.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )


class AttachmentController(Controller):
    path = "/api/v1"
    tags = ["attachments"]
    dependencies = API_DEPENDENCIES

    @get("/issues/{issue_id:int}/attachments", responses=PROBLEM_RESPONSES, summary="List attachments")
    @in_thread
    def list_attachments(self, request: Request, principal: NamedDependency[Principal], issue_id: FromPath[int]) -> list[AttachmentOut]:
        return [AttachmentOut.of(a) for a in wenti_app(request).issues.attachments(principal.ctx, issue_id)]

    @post("/issues/{issue_id:int}/attachments", responses=PROBLEM_RESPONSES, summary="Upload an attachment", status_code=201)
    @in_thread
    def upload(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        issue_id: FromPath[int],
        data: Annotated[
            dict[str, Any],
            Body(media_type=RequestEncodingType.MULTI_PART, description="The file in the form field `data`."),
        ],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[AttachmentOut]:
        """Upload one file as multipart form field `data`. Size and type are checked against the bytes."""
        # A dict rather than `UploadFile`, because Litestar 2.25 returns a server error instead
        # of a validation error for a multipart body without the declared file field.
        upload_file = data.get("data") if isinstance(data, dict) else None
        if not isinstance(upload_file, UploadFile):
            raise ApiProblem("malformed-request", "Send the file as multipart/form-data in a field named data.")
        app = wenti_app(request)
        # A multipart body cannot be read twice, so the fingerprint covers the file's
        # name, declared type and bytes instead of the raw body.
        head = upload_file.file.read(request.app.state["max_upload_bytes"] + 1)
        upload_file.file.seek(0)
        fingerprint = request_hash(
            "POST", request.url.path, f"{upload_file.filename}\0{upload_file.content_type}\0".encode() + head
        )

        def execute() -> Response:
            attachment = store_attachment(app, request, principal, issue_id, upload_file)
            return Response(
                AttachmentOut.of(attachment),
                status_code=201,
                headers={"Location": f"/api/v1/attachments/{attachment.id}"},
            )

        return run_idempotent(
            app,
            principal.ctx.tenant_id,
            principal.username,
            idempotency_key,
            fingerprint,
            execute,
            encode,
            problem_for(request),
        )

    @get("/attachments/{attachment_id:int}", responses=PROBLEM_RESPONSES, summary="Attachment metadata")
    @in_thread
    def get_attachment(self, request: Request, principal: NamedDependency[Principal], attachment_id: FromPath[int]) -> AttachmentOut:
        return AttachmentOut.of(wenti_app(request).issues.attachment(principal.ctx, attachment_id))

    @get("/attachments/{attachment_id:int}/content", responses=PROBLEM_RESPONSES,
        summary="Download an attachment",
        media_type="application/octet-stream",
    )
    @in_thread
    def download(self, request: Request, principal: NamedDependency[Principal], attachment_id: FromPath[int]) -> Response[bytes]:
        """Send the file's bytes, always as a download (`Content-Disposition: attachment`)."""
        attachment = wenti_app(request).issues.attachment(principal.ctx, attachment_id)
        return download_response(request, attachment)
