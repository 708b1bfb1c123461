"""Every state-changing request needs POST and a CSRF token.

For each endpoint: a GET (with the form's data in the query string) changes nothing; a POST
without a CSRF token is a 403 and changes nothing; the same POST with the token does change
the state — so the 403 is the CSRF check, not a form that would have refused anyway.
"""

import pytest
from django.contrib.sessions.models import Session
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.urls import resolve
from django.utils import timezone

from tests.security.world import path_for

pytestmark = pytest.mark.django_db


def _contribution_data(world, **extra):
    return {
        "activity_type": world.contribution.activity_type_id,
        "title": "Lunch-and-learn on ALM",
        "description": "Twelve people from the customer's team",
        "occurred_on": timezone.localdate().isoformat(),
        "quantity": "1",
        "evidence_url": "https://example.com/alm",
        "action": "save",
        **extra,
    }


def _profile_data(world):
    member = world.people["member"]
    return {"first_name": "Avani", "last_name": member.last_name, "time_zone": "Europe/London"}


# (path, form data(world), proven: a POST with the token changes the state)
STATE_CHANGING = [
    ("/profile/", _profile_data, True),
    ("/profile/sign-out-everywhere/", lambda w: {}, True),
    ("/notifications/read/", lambda w: {}, True),
    ("/contributions/new/", _contribution_data, True),
    ("/contributions/{contribution}/edit/", lambda w: _contribution_data(w, title="Renamed"), True),
    ("/contributions/{contribution}/submit/", lambda w: {}, True),
    ("/contributions/{with_file}/withdraw/", lambda w: {}, True),
    ("/contributions/{questioned}/reply/", lambda w: {"body": "The Anaplan ALM webinar of March."}, True),
    ("/contributions/{contribution}/delete/", lambda w: {}, True),  # the world's draft
    ("/contributions/{audited}/audit/", lambda w: {"answer": "The post is online."}, True),
    ("/contributions/opt-out/", lambda w: {"reason": "Parental leave"}, True),
    ("/contributions/opt-out/undo/", lambda w: {}, False),  # nothing to undo: the token alone is checked
    ("/engagements/{spare}/sign-up/", lambda w: {}, True),
    ("/engagements/signups/{signup}/withdraw/", lambda w: {}, True),
    ("/engagements/signups/{offered}/accept/", lambda w: {}, True),
    ("/engagements/signups/{offered}/decline/", lambda w: {}, True),
    (
        "/engagements/suggestions/",
        lambda w: {
            "title": "ALM clinic",
            "description": "Office hours on ALM",
            "proposed_category": "enablement",
            "why_it_matters": "Many questions on the forum",
        },
        True,
    ),
    ("/community/boss/", lambda w: {"statement": "I lead the user group."}, False),  # not linked: no change
    ("/certificates/{certificate}/visibility/", lambda w: {"public": "0"}, True),
    ("/accounts/logout/", lambda w: {}, True),
]


def fingerprint(world) -> tuple:
    """Everything the endpoints above can change."""
    from accounts.models import Notification, User
    from community_levels.models import BossApplication
    from contributions.models import Audit, Certificate, Contribution, OptOut
    from engagements.models import SignUp, Suggestion

    return (
        tuple(Contribution.objects.order_by("pk").values_list("pk", "state", "title")),
        tuple(Notification.objects.order_by("pk").values_list("pk", "read_at")),
        tuple(SignUp.objects.order_by("pk").values_list("pk", "state")),
        Suggestion.objects.count(),
        OptOut.objects.count(),
        BossApplication.objects.count(),
        tuple(User.objects.order_by("pk").values_list("pk", "first_name")),
        Session.objects.count(),
        tuple(Certificate.objects.order_by("pk").values_list("pk", "is_public")),
        tuple(Audit.objects.order_by("pk").values_list("pk", "state", "answer")),
    )


def _client(world, *, enforce_csrf: bool) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    client.force_login(world.people["member"], backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.mark.parametrize(("template", "data", "proven"), STATE_CHANGING, ids=[r[0] for r in STATE_CHANGING])
def test_get_changes_nothing(world, template, data, proven):
    client = _client(world, enforce_csrf=False)
    before = fingerprint(world)
    response = client.get(path_for(template, world), data(world))
    assert response.status_code in (200, 405)
    assert fingerprint(world) == before


@pytest.mark.parametrize(("template", "data", "proven"), STATE_CHANGING, ids=[r[0] for r in STATE_CHANGING])
def test_post_without_csrf_token_is_refused(world, template, data, proven):
    path = path_for(template, world)
    client = _client(world, enforce_csrf=True)
    before = fingerprint(world)
    response = client.post(path, data(world))
    assert response.status_code == 403
    assert fingerprint(world) == before
    # A wrong token is no better than none.
    client.cookies["csrftoken"] = "x" * 32
    assert client.post(path, {**data(world), "csrfmiddlewaretoken": "y" * 32}).status_code == 403
    assert fingerprint(world) == before

    # With the token, the same request goes through.
    request = RequestFactory().get("/")
    token = get_token(request)
    client.cookies["csrftoken"] = request.META["CSRF_COOKIE"]
    response = client.post(path, {**data(world), "csrfmiddlewaretoken": token})
    assert response.status_code in (200, 302)
    if proven:
        assert fingerprint(world) != before


def test_every_post_only_url_of_the_matrix_is_checked(world):
    from tests.security.test_url_matrix import MATRIX, POST_ONLY

    post_only = {name for name, _, expected in MATRIX if expected == POST_ONLY}
    checked = {resolve(path_for(template, world)).view_name for template, _, _ in STATE_CHANGING}
    assert not post_only - checked, post_only - checked
