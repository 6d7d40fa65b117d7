"""Extraction of this plugin's translatable messages, for the catalog check and maintainers.

`python -m wenti_web.catalog` prints the msgids of the Python sources and the
templates that the `.po` files must translate. Template keys built at run time
(`"priority." ~ value` and similar) are listed in `DYNAMIC_MSGIDS`.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

PACKAGE = Path(__file__).parent

PYTHON_KEYWORDS = {
    "_": None,
    "N_": None,
    "translator": None,
    "ApiProblem": (2,),
    "UploadRejected": (1,),
    "ValidationFailed": (1,),
    "PermissionDenied": (1,),
    "NotFound": (1,),
}

DYNAMIC_MSGIDS = (
    *(f"priority.{p}" for p in ("critical", "high", "normal", "low")),
    *(f"category.{c}" for c in ("open", "waiting", "resolved", "closed")),
    *(f"sort.{s}" for s in ("-created_at", "created_at", "-updated_at", "priority", "title")),
    *(f"role.{r}" for r in ("reporter", "agent", "queue_manager", "admin")),
    *(f"link.{t}" for t in ("duplicate_of", "caused_by", "related")),
    *(f"plugin.{s}" for s in ("active", "disabled", "failed")),
    *(
        f"event.issue.{e}"
        for e in ("created", "updated", "transitioned", "assigned", "commented", "linked", "imported", "attached")
    ),
)


def extract() -> list[str]:
    """Return every msgid of the plugin, in first-seen order."""
    found: dict[str, None] = {}
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]
    options = {"templates/**.html": {"extensions": "", "trimmed": "false"}}
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map, options, keywords={**PYTHON_KEYWORDS, "ngettext": (1, 2)}
    ):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid and not msgid.startswith(("priority.", "category.", "sort.", "role.", "link.", "plugin.", "event.")):
                found[msgid] = None
    for msgid in DYNAMIC_MSGIDS:
        found[msgid] = None
    return list(found)


if __name__ == "__main__":
    for msgid in extract():
        print(msgid)
