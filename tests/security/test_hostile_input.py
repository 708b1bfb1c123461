"""Hostile input from outside (issue 13, finding 11): no value a member can type or craft ends in a 5xx.

Every field of every member form, every query-string parameter of every member page and the
path converters get the values an outside tester sent: a word where an id is expected, SQL, a
decimal, a number too large for any column, a negative one, a superscript digit (which
`str.isdigit()` accepts and `int()` refuses), a NUL (which PostgreSQL refuses in any text), and
1 MB of text. A bad value is a form error or a 404; free
text is refused above the limit the form, the model and the database agree on.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from contributions.models import Contribution
from engagements.models import Suggestion
from tests.security.world import PNG, path_for

pytestmark = pytest.mark.django_db

MEGABYTE = "word " * 200_000
HOSTILE = {
    "word": "abc",
    "sql": "1 OR 1=1",
    "decimal": "1.5",
    "superscript": "²",
    "nul": "\x00",
    "huge": "9" * 30,
    "negative": "-1",
    "megabyte": MEGABYTE,
}


def _client(world, role: str = "member") -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(world.people[role], backend="django.contrib.auth.backends.ModelBackend")
    return client


def _contribution_data(world) -> dict:
    contribution = world.contribution
    return {
        "activity_type": str(contribution.activity_type_id),
        "title": "Hostile title",
        "description": "What I did.",
        "occurred_on": contribution.occurred_on.isoformat(),
        "quantity": "1",
        "evidence_url": "https://example.com/evidence",
        "action": "submit",
    }


def _profile_data(world) -> dict:
    return {
        "first_name": "Ava",
        "last_name": "Patel",
        "time_zone": "Europe/London",
        "company_type": "partner",
        "interests": ["speaking"],
        "email_account": "on",
    }


# (name, path template, valid data builder, the fields to replace one at a time)
FORMS = [
    (
        "contribution new",
        "/contributions/new/",
        _contribution_data,
        ["activity_type", "title", "description", "occurred_on", "quantity", "evidence_url", "action"],
    ),
    (
        "contribution edit",
        "/contributions/{contribution}/edit/",
        _contribution_data,
        ["activity_type", "title", "description", "occurred_on", "quantity", "evidence_url", "action"],
    ),
    (
        "profile",
        "/profile/",
        _profile_data,
        [
            "first_name",
            "last_name",
            "preferred_name",
            "employer",
            "company_type",
            "job_title",
            "country",
            "time_zone",
            "phone",
            "linkedin_url",
            "bio",
            "interests",
            "email_maintenance",
        ],
    ),
    (
        "suggestion",
        "/engagements/suggestions/",
        lambda world: {
            "title": "A podcast",
            "description": "Record an episode.",
            "proposed_category": "brand",
            "why_it_matters": "Reach.",
        },
        ["title", "description", "proposed_category", "why_it_matters"],
    ),
    ("notifications read", "/notifications/read/", lambda world: {}, ["notification"]),
    ("opt-out", "/contributions/opt-out/", lambda world: {"reason": "Leave"}, ["reason"]),
    ("boss application", "/community/boss/", lambda world: {"statement": "I help."}, ["statement"]),
    ("sign-up", "/engagements/{spare}/sign-up/", lambda world: {}, ["opportunity"]),
    ("reply", "/contributions/{contribution}/reply/", lambda world: {"body": "An answer"}, ["body"]),
    (
        "requirement report",
        "/contributions/requirements/{requirement}/report/",
        lambda world: {"met_on": world.contribution.occurred_on.isoformat(), "evidence_url": "https://e.example/c"},
        ["met_on", "evidence_url", "note"],
    ),
]
FORM_CASES = [
    pytest.param(name, template, build, field, key, id=f"{name}|{field}|{key}")
    for name, template, build, fields in FORMS
    for field in fields
    for key in HOSTILE
]


@pytest.mark.parametrize(("name", "template", "build", "field", "key"), FORM_CASES)
def test_a_hostile_value_in_any_member_form_field_is_never_a_server_error(world, name, template, build, field, key):
    data = build(world) | {field: HOSTILE[key]}
    response = _client(world).post(path_for(template, world), data)
    assert response.status_code < 500, f"{name}: {field}={key!r} answered {response.status_code}"


QUERY_PAGES = [
    ("/", ["year", "page"]),
    ("/contributions/", ["year", "state", "page"]),
    ("/contributions/new/", ["activity_type", "type"]),
    ("/contributions/preview/", ["activity_type", "quantity"]),
    ("/contributions/catalogue/", ["year"]),
    ("/notifications/", ["page"]),
    ("/engagements/", ["category", "open_slots", "date_from", "date_to", "page"]),
    ("/engagements/mine/", ["page"]),
    ("/engagements/suggestions/", ["page"]),
    ("/community/me/", ["page"]),
    ("/profile/", ["page"]),
]
QUERY_CASES = [
    pytest.param(page, parameter, key, id=f"{page}|{parameter}|{key}")
    for page, parameters in QUERY_PAGES
    for parameter in parameters
    for key in HOSTILE
    if key != "megabyte"  # a URL of 1 MB is refused by any web server before it reaches us
]


@pytest.mark.parametrize(("page", "parameter", "key"), QUERY_CASES)
def test_a_hostile_query_string_on_any_member_page_is_never_a_server_error(world, page, parameter, key):
    response = _client(world).get(page, {parameter: HOSTILE[key]})
    assert response.status_code < 500, f"{page}?{parameter}={key!r} answered {response.status_code}"


@pytest.mark.parametrize(
    "path",
    [
        "/verify/%00/",
        "/verify/%C2%B2/",
        "/verify/1%20OR%201=1/",
        "/contributions/%C2%B2/",
        "/contributions/1.5/",
        "/notifications/%00/",
        "/engagements/%00/",
        "/engagements/%C2%B2/",
        "/engagements/signups/%C2%B2/calendar.ics",
    ],
)
def test_a_hostile_value_in_a_path_is_a_404(world, path):
    assert _client(world).get(path).status_code == 404


def test_the_sign_in_email_step_takes_any_value_without_a_server_error(world):
    for value in HOSTILE.values():
        if value is MEGABYTE:
            continue
        assert Client(raise_request_exception=False).get("/accounts/login/", {"email": value}).status_code < 500
        response = Client(raise_request_exception=False).post("/accounts/login/", {"login": value, "password": value})
        assert response.status_code < 500


# --- Free-text limits: the form refuses what the model and the database would refuse ---------


def test_a_megabyte_description_is_refused_with_a_message_and_nothing_is_stored(world):
    before = Contribution.objects.count()
    data = _contribution_data(world) | {"description": MEGABYTE}
    response = _client(world).post("/contributions/new/", data)
    assert response.status_code == 200
    assert "at most 5,000 characters" in response.content.decode()
    assert Contribution.objects.count() == before


def test_a_megabyte_suggestion_is_refused_with_a_message_and_nothing_is_stored(world):
    before = Suggestion.objects.count()
    for field in ("description", "why_it_matters"):
        data = {"title": "Podcast", "description": "x", "proposed_category": "brand", "why_it_matters": "y"}
        response = _client(world).post("/engagements/suggestions/", data | {field: MEGABYTE})
        assert response.status_code == 200
        assert "at most 5,000 characters" in response.content.decode()
    assert Suggestion.objects.count() == before


def test_a_superscript_notification_id_marks_nothing_and_answers_normally(world):
    response = _client(world).post("/notifications/read/", {"notification": "²"})
    assert response.status_code == 302
    world.notification.refresh_from_db()
    assert not world.notification.is_read


# --- Evidence is stored under a name the server derives from the sniffed content ------------


def test_evidence_is_stored_under_the_sniffed_extension_not_the_clients(world):
    """A PNG named `.html` (with markup-looking bytes in its name) is stored as `.png`."""
    upload = SimpleUploadedFile("<img src=x onerror=alert(1)>.html", PNG, content_type="text/html")
    data = _contribution_data(world) | {"evidence_file": upload, "action": "draft"}
    response = _client(world).post("/contributions/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    contribution = Contribution.objects.get(title="Hostile title")
    assert contribution.evidence_file.name.endswith(".png")
    assert "onerror" not in contribution.evidence_file.name
    assert contribution.evidence_name == "<img src=x onerror=alert(1)>.html"


def test_the_database_itself_refuses_text_over_the_limits(world):
    """The CHECK constraints hold even for a write that skips the forms (a script, a bulk update)."""
    from django.db import IntegrityError, transaction

    from accounts.models import User

    for queryset, field, limit in (
        (Contribution.objects.filter(pk=world.contribution.pk), "description", 5000),
        (User.objects.filter(pk=world.people["member"].pk), "bio", 1000),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            queryset.update(**{field: "x" * (limit + 1)})
        queryset.update(**{field: "x" * limit})


def test_a_too_long_description_is_explained_in_words_by_the_model(world):
    from django.core.exceptions import ValidationError

    contribution = world.contribution
    contribution.description = "x" * 5001
    with pytest.raises(ValidationError) as error:
        contribution.validate_constraints()
    assert error.value.messages == ["A description can be at most 5,000 characters."]


def test_the_member_sees_and_downloads_evidence_under_their_own_file_name(world):
    upload = SimpleUploadedFile("Keynote slides.png", PNG, content_type="image/png")
    data = _contribution_data(world) | {"evidence_file": upload, "action": "draft"}
    client = _client(world)
    client.post("/contributions/new/", data)
    contribution = Contribution.objects.get(title="Hostile title")
    assert "Keynote slides.png" in client.get(f"/contributions/{contribution.pk}/").content.decode()
    response = client.get(f"/contributions/{contribution.pk}/evidence/")
    assert 'filename="Keynote slides.png"' in response["Content-Disposition"]
