"""The dashboard's cached body (mahome/dashboard_cache.py) is never stale, and a hit is cheap (issue 16).

A scenario walks a member's year through the real services, staff's decisions, bulk SQL and the
clock; after every step the body served through the cache must equal a render that bypasses it.
Each step also has to change what the page shows, so a step the fingerprint missed would fail.
"""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.selectors import notification_unread_count
from community_levels.ingestion import ingest_stream, parse_file
from community_levels.models import CommunityMember, Level
from community_levels.recompute import levels_recompute
from contributions.models import Certificate, Contribution, ReviewOutcome
from contributions.services.certificates import certificate_revoke
from contributions.services.decisions import contribution_correct, contribution_decide, contribution_reopen
from contributions.services.opt_outs import opt_out_create, opt_out_undo
from contributions.services.requirements import requirement_status_set
from contributions.services.submission import contribution_create, contribution_reply, contribution_withdraw
from contributions.services.years import activity_type_save, program_year_save, target_override_set
from engagements.models import SignUp
from engagements.services.signups import signup_create, signup_withdraw
from mahome import dashboard_cache, page_cache
from tests.community_levels.helpers import event, write_jsonl
from tests.factories import (
    ActivityTypeFactory,
    CommunityMemberFactory,
    MACertificationFactory,
    NotificationFactory,
    OpportunityFactory,
    ProgramYearFactory,
    StaffFactory,
    TechnicalRequirementFactory,
    UserFactory,
)
from tests.page_cache_walk import CachedPageWalk

# Transactional: the view runs in autocommit, one transaction per write, and so must the scenario
# (inside a transaction the cache is not used at all, see `page_cache.enabled`).
pytestmark = pytest.mark.django_db(transaction=True)

NOW = timezone.make_aware(datetime(2026, 6, 15, 10, 0))
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.fixture(autouse=True)
def _empty_cache():
    caches[page_cache.CACHE_ALIAS].clear()
    yield
    caches[page_cache.CACHE_ALIAS].clear()


def _request(member_id: int):
    request = RequestFactory().get("/")
    request.user = User.objects.get(pk=member_id)  # as the authentication middleware reads it, each request
    return request


def _body(member_id: int, *, use_cache: bool, request=None) -> str:
    html = dashboard_cache.body(request=request or _request(member_id), use_cache=use_cache)
    return TOKEN.sub('name="csrfmiddlewaretoken" value="-"', html)


def dashboard_walk(member_id: int) -> CachedPageWalk:
    """The member's dashboard walk, its first body checked and kept ("start")."""
    walk = CachedPageWalk(lambda _key, **kwargs: _body(member_id, **kwargs), lambda _key: _request(member_id))
    walk.check("start", changes=False)
    return walk


@pytest.fixture
def setting():
    with time_machine.travel(NOW, tick=False):
        year = ProgramYearFactory(year=2026, target_points=400)
        teach = ActivityTypeFactory(program_year=year, name="Teach a class", points=120)
        requirement = TechnicalRequirementFactory(
            program_year=year, kind="training", name="Level 3", due_on=date(2026, 10, 31)
        )
        member = UserFactory(first_name="Ada")
        MACertificationFactory(user=member, qualified_on=date(2020, 3, 10))
        yield {"year": year, "teach": teach, "requirement": requirement, "member": member}


def test_every_write_and_the_clock_refresh_the_cached_dashboard(setting):
    year, teach, member = setting["year"], setting["teach"], setting["member"]
    staff = StaffFactory(is_superuser=True)
    walk = dashboard_walk(member.pk)

    # The member's contributions, through the services.
    draft = contribution_create(
        member=member, activity_type=teach, title="Draft class", occurred_on=date(2026, 5, 2), today=NOW.date()
    )
    walk.check("draft created")
    submitted = contribution_create(
        member=member,
        activity_type=teach,
        title="Taught ALM",
        occurred_on=date(2026, 5, 3),
        evidence_url="https://example.com/class",
        submit=True,
        today=NOW.date(),
    )
    walk.check("contribution submitted")
    Contribution.objects.filter(pk=submitted.pk).update(title="Taught ALM to a partner")  # no signal, no timestamp
    walk.check("title changed by a bulk UPDATE")
    contribution_decide(contribution_id=submitted.pk, verifier=staff, decision="needs_info", note="Which partner?")
    walk.check("verifier asked a question")
    contribution_reply(contribution=Contribution.objects.get(pk=submitted.pk), member=member, body="Polaris")
    walk.check("member answered")
    contribution_decide(
        contribution_id=submitted.pk, verifier=staff, decision="verify", awarded_points=100, note="Half a day"
    )
    walk.check("verified")
    contribution_correct(
        contribution_id=submitted.pk, staff=staff, state="verified", awarded_points=80, reason="Shorter class"
    )
    walk.check("decision corrected")
    contribution_reopen(contribution_id=submitted.pk, staff=staff, reason="Points to check")
    walk.check("reopened")
    contribution_withdraw(contribution=Contribution.objects.get(pk=draft.pk), member=member)
    walk.check("draft withdrawn")

    # Requirements, target, opt-out, review.
    requirement_status_set(
        requirement=setting["requirement"], member=member, met_on=date(2026, 6, 1), by=staff, today=NOW.date()
    )
    walk.check("requirement met")
    target_override_set(member=member, program_year=year, target_points=250, reason="Parental leave", set_by=staff)
    walk.check("target override")
    opt_out_create(member=member, program_year=year, reason="Busy", today=NOW.date())
    walk.check("opted out")
    opt_out_undo(member=member, program_year=year, today=NOW.date())
    walk.check("opt-out undone")
    outcome = ReviewOutcome.objects.create(
        member=member,
        program_year=year,
        outcome=ReviewOutcome.Outcome.RECERTIFIED,
        reasons=[],
        target_points=250,
        verified_points=260,
    )
    walk.check("review outcome")
    outcome.delete()
    walk.check("review outcome removed")

    # Engagements: sign-up, the waitlist's offer (timed), withdrawal, the opportunity renamed.
    opportunity = OpportunityFactory(title="Polaris webinar", capacity=1)
    signup, _ = signup_create(opportunity_id=opportunity.pk, member=member)
    walk.check("signed up")
    type(opportunity).objects.filter(pk=opportunity.pk).update(title="Polaris deep dive")
    walk.check("opportunity renamed")
    full = OpportunityFactory(title="Full house", capacity=1)
    signup_create(opportunity_id=full.pk, member=UserFactory())
    waiting, _ = signup_create(opportunity_id=full.pk, member=member)
    assert waiting.state == SignUp.State.WAITLISTED
    # What the waitlist does when a slot frees (the other member's, given back first: the database
    # refuses an offer with no free slot).
    SignUp.objects.filter(opportunity=full).exclude(pk=waiting.pk).update(state=SignUp.State.WITHDRAWN)
    SignUp.objects.filter(pk=waiting.pk).update(state=SignUp.State.OFFERED, offer_expires_at=NOW + timedelta(hours=2))
    walk.check("slot offered")
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        walk.check("the offer expired, same day")  # nothing was written: only the clock moved
    signup_withdraw(signup_id=signup.pk, member=member)
    walk.check("withdrew")

    # Community level and metrics, written in bulk like the recompute does.
    community = CommunityMemberFactory(user=member)
    walk.check("community identity linked")
    top = Level.objects.order_by("-rank").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE community_levels_communitymember SET level_id = %s WHERE id = %s", [top.pk, community.pk]
        )
    walk.check("level changed by SQL")
    CommunityMember.objects.filter(pk=community.pk).update(m_posts=40)
    walk.check("metrics changed")

    # Certificates: issued, revoked.
    certificate = Certificate.objects.create(
        member=member,
        year=2025,
        number="MA-2025-900001",
        valid_from=date(2026, 1, 1),
        valid_until=date(2027, 1, 1),
    )
    walk.check("certificate issued")
    certificate_revoke(certificate=certificate, reason="Issued by mistake", by=staff)
    walk.check("certificate revoked")

    # The configuration, through the services and in bulk.
    year.deadline = date(2026, 12, 15)
    program_year_save(program_year=year, by=staff, reason="Board decision")
    walk.check("program year deadline moved")
    teach.name = "Teach a workshop"
    activity_type_save(activity_type=teach, by=staff, reason="Renamed")
    walk.check("activity type renamed")
    ActivityTypeFactory(program_year=year, name="Mentor", points=10, annual_cap=None)
    type(teach).objects.filter(pk=teach.pk).update(points=Decimal(60))
    walk.check("activity types edited in bulk", changes=False)

    # The member's name (the greeting), and the next day (days to the deadline, the pace).
    User.objects.filter(pk=member.pk).update(preferred_name="Countess")
    walk.check("display name")
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        walk.check("next day")


def test_a_hit_costs_the_queries_of_the_trivial_page(client, setting):
    """Session, user, and the fingerprint, which reads the header's unread count in the same round trip."""
    member = setting["member"]
    NotificationFactory.create_batch(2, user=member)
    client.force_login(member)
    client.get("/notifications/")  # the session's first request records it
    with CaptureQueriesContext(connection) as trivial:
        assert client.get("/notifications/").status_code == 200
    with time_machine.travel(NOW, tick=False):
        client.get("/")  # the miss that fills the cache
        with CaptureQueriesContext(connection) as hit:
            response = client.get("/")
    assert response.status_code == 200
    assert "Welcome back, Ada" in response.content.decode()
    assert len(hit.captured_queries) <= len(trivial.captured_queries)
    unread = notification_unread_count(user=member)
    assert unread >= 2 and f"Notifications: {unread} unread" in response.content.decode()
    # The opt-out form carries the request's own CSRF token, not the placeholder of the cached body.
    assert dashboard_cache.CSRF_PLACEHOLDER not in response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()


def test_a_miss_costs_the_same_whatever_the_history(setting):
    year, teach, member = setting["year"], setting["teach"], setting["member"]

    def miss() -> int:
        caches[page_cache.CACHE_ALIAS].clear()
        request = _request(member.pk)
        with CaptureQueriesContext(connection) as queries:
            _body(member.pk, use_cache=True, request=request)
        return len(queries.captured_queries)

    with time_machine.travel(NOW, tick=False):
        few = miss()
        for n in range(60):
            contribution_create(
                member=member,
                activity_type=teach,
                title=f"Class {n}",
                occurred_on=date(2026, 1 + n % 5, 1 + n % 27),
                evidence_url="https://example.com/class",
                submit=True,
                today=NOW.date(),
            )
        OpportunityFactory.create_batch(3)
        assert miss() <= few  # the same queries; fewer when the next step needs no catalogue
    assert year.pk


def test_two_members_never_share_a_body(setting):
    other = UserFactory(first_name="Grace")
    MACertificationFactory(user=other, qualified_on=date(2020, 3, 10))
    with time_machine.travel(NOW, tick=False):
        first = _body(setting["member"].pk, use_cache=True)
        second = _body(other.pk, use_cache=True)
    assert "Ada" in first and "Grace" in second and "Ada" not in second


def test_inside_a_transaction_the_cache_is_not_used(setting):
    """A transaction sees its own uncommitted writes: what it renders must be neither stored nor reused."""
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        request = _request(setting["member"].pk)
        _body(setting["member"].pk, use_cache=True, request=request)
        with CaptureQueriesContext(connection) as queries:
            _body(setting["member"].pk, use_cache=True, request=request)
    assert len(queries.captured_queries) > 5  # a render: no fingerprint, no hit
    assert not any(dashboard_cache.fingerprint_sql() in q["sql"] for q in queries.captured_queries)


def test_imports_and_the_recompute_refresh_the_cached_dashboard(setting, tmp_path):
    """Community activity arrives by import and the recompute writes levels and credits in bulk SQL."""
    ActivityTypeFactory(
        program_year=setting["year"], code="community-replies", tracking="community", points=2, annual_cap=50
    )
    member = setting["member"]
    walk = dashboard_walk(member.pk)
    ingest_stream(
        parse_file(write_jsonl(tmp_path / "a.jsonl", [event(1, "ada", "reply", quantity=3, email=member.email)])),
        source="file",
    )
    walk.check("import: the community identity arrives")
    levels_recompute()
    walk.check("recompute: level placed and replies credited")
    assert Contribution.objects.filter(member=member, source="community").exists()
    ingest_stream(parse_file(write_jsonl(tmp_path / "b.jsonl", [event(2, "ada", "reply", quantity=9)])), source="file")
    levels_recompute()
    walk.check("recompute: level up and a larger credit")
    levels_recompute(full=True)
    walk.check("full recompute: nothing new", changes=False)
