"""The admin's import of community activity, as the program admin uses it: preview, then import."""

import json
import os
import time
import uuid
from io import BytesIO, StringIO

import pytest

from community_levels.models import ActivityEvent
from tests.community_levels.helpers import event
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

IMPORT = "/admin/community_levels/activityevent/import/"


@pytest.fixture
def paul(client, program_admin):
    client.force_login(with_mfa(program_admin))
    return client


@pytest.fixture
def imports(tmp_path, settings):
    """The folder where an uploaded file waits between its preview and its import."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path / "media" / "community-imports"


def upload(client, content: str | bytes, name: str):
    handle = BytesIO(content) if isinstance(content, bytes) else StringIO(content)
    handle.name = name
    return client.post(IMPORT, {"file": handle})


def test_a_file_with_no_good_line_offers_no_import_and_says_why(paul, imports):
    response = upload(paul, "a,b,c\n1,2,3\n", "activity.csv")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing can be imported: every line read is bad" in html
    assert "<td>1</td>" in html and "bad header: missing column(s) event_id" in html  # the reason, by line
    assert 'name="token"' not in html and "Import the" not in html
    assert response.context["token"] is None
    assert not list(imports.iterdir())  # nothing is kept for an import that cannot happen


def test_a_file_of_blank_lines_offers_no_import_and_says_why(paul, imports):
    response = upload(paul, "\n\n  \n", "activity.jsonl")
    html = response.content.decode()
    assert "Nothing can be imported: the file has no event in it." in html
    assert 'name="token"' not in html


def test_importing_a_file_with_no_good_line_imports_nothing_and_says_so(paul, imports):
    imports.mkdir(parents=True)
    token = str(uuid.uuid4())
    (imports / f"{token}.jsonl").write_text("nope\n{oops\n")
    response = paul.post(IMPORT, {"token": token})
    html = response.content.decode()
    assert "Nothing was imported" in html
    assert "2 lines read: 0 new events, 0 already known, 2 bad lines skipped." in html
    assert "Levels are being recomputed" not in html
    assert "<td>1</td>" in html and "invalid JSON" in html
    assert ActivityEvent.objects.count() == 0


def test_importing_a_file_already_imported_says_nothing_new_was_imported(paul, imports):
    content = json.dumps(event(1, "m1", "reply")) + "\n"
    paul.post(IMPORT, {"token": upload(paul, content, "a.jsonl").context["token"]})
    again = paul.post(IMPORT, {"token": upload(paul, content, "a.jsonl").context["token"]})
    html = again.content.decode()
    assert "Nothing was imported" in html and "1 line read: 0 new events, 1 already known" in html
    assert "Levels are being recomputed" not in html


def test_the_import_and_preview_buttons_are_the_admins_submit_buttons(paul, imports):
    assert '<input type="submit" class="default" value="Preview">' in paul.get(IMPORT).content.decode()
    content = json.dumps(event(1, "m1", "reply")) + "\n" + json.dumps(event(2, "m1", "post")) + "\n"
    html = upload(paul, content, "a.jsonl").content.decode()
    assert '<input type="submit" class="default" value="Import the 2 good lines">' in html
    assert "<button" not in html.split('id="content"')[1]


def test_counts_of_one_are_singular_in_the_preview_and_the_result(paul, imports):
    preview = upload(paul, json.dumps(event(1, "m1", "reply")) + "\n", "a.jsonl")
    html = preview.content.decode()
    assert "1 line read: 1 good, 0 bad." in html
    assert 'value="Import the 1 good line"' in html
    done = paul.post(IMPORT, {"token": preview.context["token"]}).content.decode()
    assert "1 line read: 1 new event, 0 already known, 0 bad lines skipped. Levels are being recomputed." in done
    mixed = json.dumps(event(2, "m1", "reply")) + "\nnope\n" + json.dumps(event(3, "m1", "reply")) + "\n"
    done = paul.post(IMPORT, {"token": upload(paul, mixed, "b.jsonl").context["token"]}).content.decode()
    assert "3 lines read: 2 new events, 0 already known, 1 bad line skipped." in done


def test_a_binary_file_named_csv_is_refused_before_any_preview(paul, imports):
    garbage = bytes(range(256)) * 4
    response = upload(paul, garbage, "garbage.csv")
    html = response.content.decode()
    assert response.status_code == 200
    assert "This file is not a text CSV or JSON Lines file (it is not UTF-8 text" in html
    assert "lines read" not in html and "line read" not in html and 'name="token"' not in html
    assert response.context["form"].errors["file"]
    assert not list(imports.iterdir())
    assert ActivityEvent.objects.count() == 0


def test_a_text_file_with_one_byte_that_is_not_utf8_is_refused_naming_its_line(paul, imports):
    good = "".join(json.dumps(event(n, "m1", "reply")) + "\n" for n in range(1, 4))
    response = upload(paul, good.encode() + b'{"username": "Jos\xe9"}\n', "latin1.jsonl")
    assert "it is not UTF-8 text: line 4" in response.content.decode()
    assert ActivityEvent.objects.count() == 0


def test_previews_left_without_an_import_are_forgotten_after_a_day(paul, imports):
    """A program admin who previews a file and walks away leaves it waiting; the next upload clears those
    waiting over a day (their import would answer "That upload has expired"), and keeps the recent ones."""
    good = "event_id,member_id,kind,occurred_at\ne1,m1,reply,2026-03-02T09:00:00+00:00\n"
    upload(paul, good, "first.csv")
    (waiting,) = imports.iterdir()
    old = imports / f"{uuid.uuid4()}.csv"
    old.write_text(good)
    day_and_a_bit = time.time() - 25 * 3600
    os.utime(old, (day_and_a_bit, day_and_a_bit))

    response = upload(paul, good, "second.csv")

    assert response.status_code == 200
    assert not old.exists()
    assert waiting.exists() and len(list(imports.iterdir())) == 2
    expired = paul.post(IMPORT, {"token": old.stem}, follow=True)
    assert "That upload has expired; choose the file again." in expired.content.decode()
    assert ActivityEvent.objects.count() == 0
