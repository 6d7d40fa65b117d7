"""ETag and If-Match for issues (RFC 9110 §8.8.3 and §13.1.1).

The ETag of an issue is a strong validator built from its id and version. A request
that changes an issue must send If-Match: without it the answer is 428 (RFC 6585),
with a value that does not match the current version 412. Weak validators (`W/"…"`)
never match, because If-Match uses the strong comparison.
"""

from __future__ import annotations

from wenti.domain import Issue

from wenti_web.problems import ApiProblem


def etag(issue: Issue) -> str:
    return f'"{issue.id}-{issue.version}"'


def expected_version(if_match: str | None, issue_id: int) -> int | None:
    """Return the version named by an If-Match header; None for `*` (any current version).

    Raises 428 when the header is missing and 412 when no listed validator names
    this issue.
    """
    if if_match is None or not if_match.strip():
        raise ApiProblem(
            "precondition-required",
            "Send the issue's ETag in an If-Match header; read the issue first to get it.",
        )
    for candidate in (part.strip() for part in if_match.split(",")):
        if candidate == "*":
            return None
        if candidate.startswith("W/") or len(candidate) < 3 or not (candidate.startswith('"') and candidate.endswith('"')):
            continue
        issue_part, _, version_part = candidate[1:-1].partition("-")
        if issue_part == str(issue_id) and version_part.isdigit():
            return int(version_part)
    raise ApiProblem(
        "precondition-failed",
        "If-Match {value} does not match issue {issue_id}. Read the issue again to get its current ETag.",
        value=if_match,
        issue_id=issue_id,
    )
