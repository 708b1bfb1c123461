"""Reading the local run's outbox: the files Django's file email backend writes, newest first.

Each file holds one or more messages as written by `django.core.mail.backends.filebased`
(the message's bytes followed by a line of 79 dashes), parsed with the standard library.
"""

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# django/core/mail/backends/filebased.py writes each message followed by "-" * 79.
SEPARATOR = "\n" + "-" * 79 + "\n"
LINK = re.compile(r"https?://[^\s<>\"']+")
SHOWN = 200


@dataclass(frozen=True)
class OutboxEmail:
    sent_at: datetime | None
    to: str
    subject: str
    body: str

    @property
    def body_html(self) -> SafeString:
        """The text with its links clickable (everything else escaped)."""
        parts: list[str] = []
        last = 0
        for match in LINK.finditer(self.body):
            parts.append(escape(self.body[last : match.start()]))
            url = escape(match.group(0))
            parts.append(f'<a href="{url}">{url}</a>')
            last = match.end()
        parts.append(escape(self.body[last:]))
        return mark_safe("".join(parts))  # noqa: S308 - every piece above is escaped


def _text(message) -> str:
    part = message.get_body(preferencelist=("plain", "html")) if message.is_multipart() else message
    if part is None:
        return ""
    try:
        return part.get_content()
    except (LookupError, KeyError):
        return part.get_payload(decode=True).decode("utf-8", "replace")


def dev_outbox_emails(*, folder: Path, limit: int = SHOWN) -> list[OutboxEmail]:
    if not folder.is_dir():
        return []
    found: list[OutboxEmail] = []
    for path in sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True):
        for chunk in path.read_text(encoding="utf-8", errors="replace").split(SEPARATOR):
            if not chunk.strip():
                continue
            message = email.message_from_string(chunk.lstrip("\n"), policy=email.policy.default)
            date = message.get("Date")
            found.append(
                OutboxEmail(
                    sent_at=parsedate_to_datetime(date) if date else None,
                    to=str(message.get("To", "")),
                    subject=str(message.get("Subject", "")),
                    body=_text(message),
                )
            )
    found.sort(key=lambda m: m.sent_at.timestamp() if m.sent_at else 0, reverse=True)
    return found[:limit]
