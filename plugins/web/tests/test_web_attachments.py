"""Attachments: checks on upload, storage under generated ids, safe download headers."""

from __future__ import annotations

import pytest
from wenti_web.uploads import UploadRejected, check_upload, clean_filename, content_disposition

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
EXE = b"MZ\x90\x00" + b"\x00" * 60


@pytest.fixture
def issue_id(web):
    agent = web.client("agent")
    response = agent.post("/api/v1/issues", json={"title": "扫描仪坏了", "reporter": "reporter"}, headers=web.headers(agent))
    return response.json()["id"]


def upload(web, client, issue_id, name, data, content_type):
    return client.post(
        f"/api/v1/issues/{issue_id}/attachments",
        files={"data": (name, data, content_type)},
        headers=web.headers(client),
    )


def stored_blobs(web) -> list:
    root = web.asgi.state["blob_store"].root
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_upload_and_download_chinese_name(web, issue_id):
    client = web.client("reporter")

    response = upload(web, client, issue_id, "故障截图.png", PNG, "image/png")
    attachment = response.json()
    download = client.get(attachment["download_url"])

    assert response.status_code == 201, response.text
    assert attachment["filename"] == "故障截图.png"
    assert attachment["content_type"] == "image/png"
    assert download.status_code == 200
    assert download.content == PNG
    assert download.headers["x-content-type-options"] == "nosniff"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E6%95%85%E9%9A%9C%E6%88%AA%E5%9B%BE.png" in disposition
    blobs = stored_blobs(web)
    assert len(blobs) == 1
    assert "故障" not in str(blobs[0])


def test_traversal_name_is_reduced_to_last_part(web, issue_id):
    client = web.client("agent")

    response = upload(web, client, issue_id, "../../etc/passwd.txt", b"hello", "text/plain")

    assert response.status_code == 201, response.text
    assert response.json()["filename"] == "passwd.txt"
    assert all(".." not in str(path) for path in stored_blobs(web))


@pytest.mark.parametrize(
    ("name", "data", "content_type", "status", "problem"),
    [
        ("tool.exe", EXE, "application/octet-stream", 415, "unsupported-media-type"),
        ("photo.png", PDF, "image/png", 415, "unsupported-media-type"),
        ("empty.txt", b"", "text/plain", 422, "validation-failed"),
    ],
)
def test_bad_uploads_are_rejected_and_not_stored(web, issue_id, name, data, content_type, status, problem):
    client = web.client("agent")

    response = upload(web, client, issue_id, name, data, content_type)

    assert response.status_code == status, response.text
    assert response.json()["type"] == f"urn:wenti:problem:{problem}"
    assert stored_blobs(web) == []
    assert client.get(f"/api/v1/issues/{issue_id}/attachments").json() == []


def test_control_character_in_name_is_rejected(web, issue_id):
    client = web.client("agent")
    # Built by hand: HTTP clients percent-encode control characters in file names.
    boundary = "wentiboundary"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="data"; filename="bad\x07name.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
        "hello\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    headers = web.headers(client, **{"Content-Type": f"multipart/form-data; boundary={boundary}"})

    response = client.post(f"/api/v1/issues/{issue_id}/attachments", content=body, headers=headers)

    assert response.status_code == 422, response.text
    assert "控制字符" in response.json()["detail"]
    assert stored_blobs(web) == []


def test_oversized_upload_is_rejected(web, issue_id):
    client = web.client("agent")
    limit = web.asgi.state["max_upload_bytes"]

    response = upload(web, client, issue_id, "big.txt", b"a" * (limit + 1), "text/plain")

    assert response.status_code == 413, response.text
    assert str(limit) in response.json()["detail"]
    assert stored_blobs(web) == []


def test_other_reporter_cannot_upload_or_download(web, issue_id):
    owner = web.client("reporter")
    other = web.client("reporter2")
    attachment = upload(web, owner, issue_id, "a.pdf", PDF, "application/pdf").json()

    denied_upload = upload(web, other, issue_id, "b.pdf", PDF, "application/pdf")
    denied_download = other.get(attachment["download_url"])
    outsider = web.client("outsider").get(attachment["download_url"])

    assert denied_upload.status_code == 404
    assert denied_download.status_code == 404
    assert outsider.status_code == 404
    assert len(stored_blobs(web)) == 1


def test_clean_filename_cases():
    assert clean_filename("C:\\Users\\王\\报告.docx") == "报告.docx"
    assert clean_filename("  .hidden.txt ") == "hidden.txt"
    assert len(clean_filename("长" * 300 + ".pdf")) == 200
    with pytest.raises(UploadRejected):
        clean_filename("a\u202etxt.exe")
    with pytest.raises(UploadRejected):
        clean_filename("../..")


def test_check_upload_detects_type_from_bytes():
    assert check_upload(PNG, "x.bin", "application/octet-stream", 1000) == ("x.bin", "image/png")
    assert check_upload("中文文本".encode("gb18030"), "说明.txt", "text/plain", 1000)[1] == "text/plain"
    assert check_upload(b"a,b\n1,2\n", "data.csv", "text/csv", 1000)[1] == "text/csv"


def test_content_disposition_keeps_ascii_fallback():
    header = content_disposition('报告 "final".pdf')

    assert header.startswith('attachment; filename="')
    assert '\\"' not in header
    assert "filename*=UTF-8''%E6%8A%A5%E5%91%8A%20%22final%22.pdf" in header
