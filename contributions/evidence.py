"""What an evidence file may be: its size and its real type, read from its first bytes."""

import os
import re
from dataclasses import dataclass
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class EvidenceKind:
    label: str
    content_type: str
    extensions: tuple[str, ...]
    inline: bool  # safe to show in the browser (images); everything else downloads


KINDS = {
    "pdf": EvidenceKind("PDF", "application/pdf", (".pdf",), False),
    "png": EvidenceKind("PNG", "image/png", (".png",), True),
    "jpeg": EvidenceKind("JPEG", "image/jpeg", (".jpg", ".jpeg"), True),
    "gif": EvidenceKind("GIF", "image/gif", (".gif",), True),
    "webp": EvidenceKind("WebP", "image/webp", (".webp",), True),
    "docx": EvidenceKind(
        "Word", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",), False
    ),
    "xlsx": EvidenceKind(
        "Excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",), False
    ),
    "pptx": EvidenceKind(
        "PowerPoint", "application/vnd.openxmlformats-officedocument.presentationml.presentation", (".pptx",), False
    ),
}
ACCEPTED = ", ".join(kind.label for kind in KINDS.values())
# Markup a browser would run if it ever rendered the file as a page: a polyglot (a valid image or
# PDF header followed by HTML) is refused, whatever its first bytes say.
ACTIVE_MARKUP = re.compile(rb"<\s*(script|html|body|iframe|svg|object|embed|!doctype\s+html)\b", re.IGNORECASE)
SCAN_CHUNK = 64 * 1024


def sniff(head: bytes, name: str) -> str | None:
    """The kind whose signature the first bytes carry (Office files are ZIPs: the extension picks which)."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"PK\x03\x04"):
        suffix = PurePath(name).suffix.lower()
        return {".docx": "docx", ".xlsx": "xlsx", ".pptx": "pptx"}.get(suffix)
    return None


def _size(file: UploadedFile) -> int:
    """The upload's size in bytes: Django's upload handlers set it; measured when they did not."""
    if file.size is not None:
        return file.size
    position = file.tell()
    file.seek(0, os.SEEK_END)
    size = file.tell()
    file.seek(position)
    return size


def evidence_check(file: UploadedFile) -> EvidenceKind:
    """Refuse a file that is too large or whose content is not an accepted type, saying which."""
    size = _size(file)
    if size > MAX_EVIDENCE_BYTES:
        raise ValidationError(
            _("“%(name)s” is %(size)s; evidence files can be at most %(max)s. Share a link to a larger file instead.")
            % {"name": file.name, "size": filesizeformat(size), "max": filesizeformat(MAX_EVIDENCE_BYTES)},
            code="too_large",
        )
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    head = file.read(16)
    file.seek(position)
    kind = sniff(head, file.name or "")
    if kind is None:
        raise ValidationError(
            _(
                "“%(name)s” is not a file type we accept (%(accepted)s). "
                "The check reads the file's content, not its name."
            )
            % {"name": file.name, "accepted": ACCEPTED},
            code="bad_type",
        )
    if _carries_markup(file):
        raise ValidationError(
            _(
                "“%(name)s” contains web page code (HTML or script), so we cannot accept it. "
                "Export it again as %(label)s."
            )
            % {"name": file.name, "label": KINDS[kind].label},
            code="active_content",
        )
    return KINDS[kind]


def _carries_markup(file: UploadedFile) -> bool:
    """Scan the whole file (at most MAX_EVIDENCE_BYTES) in overlapping chunks."""
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    tail = b""
    try:
        while chunk := file.read(SCAN_CHUNK):
            if ACTIVE_MARKUP.search(tail + chunk):
                return True
            tail = chunk[-32:]
        return False
    finally:
        file.seek(position)


def kind_of_stored(*, head: bytes, name: str) -> EvidenceKind | None:
    found = sniff(head, name)
    return KINDS[found] if found else None


def display_name(name: str) -> str:
    """The member's own name for their file, for people to read: no folders, no control characters."""
    base = PurePath(name.replace("\\", "/")).name
    return "".join(c for c in base if c.isprintable()).strip()[:255]


def stored_name(kind: EvidenceKind) -> str:
    """The name a file is stored under: chosen by the server from the sniffed type, never the client's."""
    return f"evidence{kind.extensions[0]}"


def download_name(*, original: str, kind: EvidenceKind | None, fallback: str) -> str:
    """The member's name with the extension of what the file really is (a PNG called x.html downloads as x.png)."""
    stem = PurePath(display_name(original)).stem if original else ""
    return f"{stem or fallback}{kind.extensions[0] if kind else ''}"
