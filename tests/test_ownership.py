"""Every member-facing URL that takes an id answers 404 for another member's object.

One row per URL: the URL name, the HTTP method, how to build the path from the object, and how
to create an object owned by a given member. The owner gets anything but a 404; another member
gets a 404 and the object is left exactly as it was. Apps add their rows as they add URLs.
"""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.forms.models import model_to_dict
from django.utils import timezone

from contributions.models import Contribution
from engagements.models import SignUp
from tests.factories import ContributionFactory, NotificationFactory, SignUpFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _contribution(owner, state=Contribution.State.DRAFT):
    contribution = ContributionFactory(member=owner, state=state)
    contribution.evidence_file.save("evidence.png", ContentFile(PNG), save=True)
    return contribution


def _audited(owner):
    """A verified contribution of `owner` with an open audit (the answer form)."""
    from contributions.services.audits import audit_open

    contribution = _contribution(owner, Contribution.State.VERIFIED)
    audit_open(contribution_id=contribution.pk, reasons=["link_only"], probability=0.1, run=None)
    return contribution


def _certificate(owner):
    from datetime import date

    from contributions.models import Certificate

    return Certificate.objects.create(
        member=owner,
        year=2026,
        number=f"MA-2026-{owner.pk:06d}",
        valid_from=date(2026, 1, 1),
        valid_until=date(2027, 1, 1),
    )


def _signup(owner, state=SignUp.State.CONFIRMED, **fields):
    return SignUpFactory(member=owner, state=state, **fields)


OWNED_URLS = [
    # name, method, path, make(owner)
    ("notification_detail", "get", lambda o: f"/notifications/{o.pk}/", lambda u: NotificationFactory(user=u)),
    ("contributions:detail", "get", lambda o: f"/contributions/{o.pk}/", _contribution),
    ("contributions:edit", "get", lambda o: f"/contributions/{o.pk}/edit/", _contribution),
    ("contributions:edit (post)", "post", lambda o: f"/contributions/{o.pk}/edit/", _contribution),
    ("contributions:submit", "post", lambda o: f"/contributions/{o.pk}/submit/", _contribution),
    (
        "contributions:withdraw",
        "post",
        lambda o: f"/contributions/{o.pk}/withdraw/",
        lambda u: _contribution(u, Contribution.State.SUBMITTED),
    ),
    (
        "contributions:reply",
        "post",
        lambda o: f"/contributions/{o.pk}/reply/",
        lambda u: _contribution(u, Contribution.State.NEEDS_INFO),
    ),
    ("contributions:delete", "post", lambda o: f"/contributions/{o.pk}/delete/", _contribution),
    ("contributions:audit_answer", "post", lambda o: f"/contributions/{o.pk}/audit/", _audited),
    ("contributions:evidence", "get", lambda o: f"/contributions/{o.pk}/evidence/", _contribution),
    ("certificate_visibility", "post", lambda o: f"/certificates/{o.pk}/visibility/", _certificate),
    ("engagements:signup_withdraw", "post", lambda o: f"/engagements/signups/{o.pk}/withdraw/", _signup),
    (
        "engagements:signup_accept",
        "post",
        lambda o: f"/engagements/signups/{o.pk}/accept/",
        lambda u: _signup(u, SignUp.State.OFFERED, offer_expires_at=timezone.now() + timedelta(hours=40)),
    ),
    (
        "engagements:signup_decline",
        "post",
        lambda o: f"/engagements/signups/{o.pk}/decline/",
        lambda u: _signup(u, SignUp.State.OFFERED, offer_expires_at=timezone.now() + timedelta(hours=40)),
    ),
    (
        "engagements:signup_calendar",
        "get",
        lambda o: f"/engagements/signups/{o.pk}/calendar.ics",
        lambda u: _signup(u, SignUp.State.SCHEDULED, scheduled_for=timezone.now() + timedelta(days=10)),
    ),
]


@pytest.mark.parametrize(("name", "method", "path", "make"), OWNED_URLS, ids=[row[0] for row in OWNED_URLS])
def test_another_members_object_is_a_404(client, member, other_member, name, method, path, make):
    theirs = make(other_member)
    before = model_to_dict(type(theirs).objects.get(pk=theirs.pk))
    client.force_login(member)
    assert getattr(client, method)(path(theirs)).status_code == 404
    assert model_to_dict(type(theirs).objects.get(pk=theirs.pk)) == before, "another member's object changed"
    client.force_login(other_member)
    assert getattr(client, method)(path(theirs)).status_code != 404


def test_every_member_url_that_takes_an_id_has_a_row():
    """A new URL with an <int:...> parameter in a member-facing app must be added above."""
    from django.urls import URLPattern, URLResolver, get_resolver

    covered = {row[0].split(" ")[0] for row in OWNED_URLS}
    # Public by design, owned by nobody: the numbered revocation lists every verifier fetches.
    covered |= {"credential_status_list"}
    # Program-wide, owned by nobody: a requirement of the current year, which every MA who owes it may
    # report against (others get a 404); the report it creates is the member's contribution, above.
    covered |= {"contributions:requirement_report"}
    found = set()

    def walk(patterns, namespace=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace in ("admin",) or str(entry.pattern).startswith("accounts/"):
                    continue
                walk(entry.url_patterns, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and "<int:" in str(entry.pattern):
                found.add(f"{namespace}:{entry.name}" if namespace else entry.name)

    walk(get_resolver().url_patterns)
    assert len(found) >= 8
    assert found <= covered, f"URLs taking an id without an ownership row: {sorted(found - covered)}"
