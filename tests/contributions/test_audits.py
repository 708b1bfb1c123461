"""Issue 17 item 8: risk-based audits of verified contributions.

Per program year an admin sets the audit rate; the weekly job samples the contributions verified since
its last run, each with a probability that grows with its risk (points above the type's usual, the
member's first claim of the type, many claims verified by one verifier in a short time, the claim that
just took the member over the target, evidence by link only) above a random floor (the rate itself).
An audit asks the member for evidence by a date; the member answers on the item; a verifier confirms or
reverses the claim through the decision-correction service. Deterministic under a seed.
"""

from datetime import date, datetime, timedelta
from io import BytesIO

import openpyxl
import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from contributions.models import Audit, Contribution
from contributions.resources import AuditResource
from contributions.services import audits as audit_services
from tests.factories import ActivityTypeFactory, ContributionFactory, MACertificationFactory, UserFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime(2026, 6, 1, 9, 0))


def _ma(email: str):
    user = UserFactory(email=email)
    MACertificationFactory(user=user, qualified_on=date(2025, 6, 1))
    return user


def _verified(member, activity_type, *, points=None, by=None, at=None, url="", file="", quantity=1, **kw):
    return ContributionFactory(
        member=member,
        activity_type=activity_type,
        state=Contribution.State.VERIFIED,
        claimed_points=points if points is not None else activity_type.points,
        awarded_points=points if points is not None else activity_type.points,
        decided_by=by,
        decided_at=at or NOW - timedelta(days=2),
        evidence_url=url,
        evidence_file=file,
        quantity=quantity,
        **kw,
    )


@pytest.fixture
def blog(year_2026):
    return ActivityTypeFactory(program_year=year_2026, code="blog", name="Blog post", points=20)


def _reasons(contribution) -> set[str]:
    return set(audit_services.audit_risks(contributions=[contribution])[contribution.pk])


def test_no_risk_means_only_the_random_floor(verifier, blog):
    member = _ma("plain@example.com")
    _verified(member, blog, by=verifier, at=NOW - timedelta(days=40), file="evidence/a.pdf")
    claim = _verified(member, blog, by=verifier, file="evidence/b.pdf")
    assert _reasons(claim) == set()
    assert audit_services.audit_probability(rate=5, reasons=[]) == pytest.approx(0.05)


def test_points_above_the_types_usual_is_a_risk(verifier, blog):
    for i in range(5):
        _verified(_ma(f"usual{i}@example.com"), blog, by=verifier, file="evidence/x.pdf")
    member = _ma("big@example.com")
    _verified(member, blog, by=verifier, at=NOW - timedelta(days=40), file="evidence/y.pdf")
    claim = _verified(member, blog, points=60, quantity=3, by=verifier, file="evidence/z.pdf")
    assert "points_above_usual" in _reasons(claim)


def test_a_members_first_claim_of_a_type_is_a_risk(verifier, blog):
    member = _ma("first@example.com")
    claim = _verified(member, blog, by=verifier, file="evidence/a.pdf")
    assert _reasons(claim) == {"first_of_type"}


def test_many_claims_verified_by_one_verifier_in_a_short_time_is_a_risk(verifier, blog):
    members = [_ma(f"burst{i}@example.com") for i in range(audit_services.BURST_COUNT)]
    for m in members:
        _verified(m, blog, by=verifier, at=NOW - timedelta(days=40), file="evidence/old.pdf")
    claims = [
        _verified(m, blog, by=verifier, at=NOW - timedelta(days=2, minutes=i), file="evidence/new.pdf")
        for i, m in enumerate(members)
    ]
    risks = audit_services.audit_risks(contributions=claims)
    assert all("verifier_burst" in risks[c.pk] for c in claims)
    lone = _verified(members[0], blog, by=verifier, at=NOW - timedelta(days=20), file="evidence/lone.pdf")
    assert "verifier_burst" not in _reasons(lone)


def test_the_claim_that_just_takes_a_member_over_the_target_is_a_risk(verifier, blog, speaking):
    member = _ma("target@example.com")  # target 400 (qualified before the year)
    _verified(member, speaking, points=390, by=verifier, at=NOW - timedelta(days=40), file="evidence/a.pdf")
    _verified(member, blog, by=verifier, at=NOW - timedelta(days=40), file="evidence/b.pdf")
    claim = _verified(member, blog, points=20, by=verifier, file="evidence/c.pdf")  # 390 + 20 + 20 = 430, over 400
    assert "just_over_target" not in _reasons(claim)  # 410 without it: it did not take them over
    other = _ma("target2@example.com")
    _verified(other, speaking, points=390, by=verifier, at=NOW - timedelta(days=40), file="evidence/a.pdf")
    _verified(other, blog, by=verifier, at=NOW - timedelta(days=40), file="evidence/b.pdf")
    tipping = Contribution.objects.filter(member=other, activity_type=blog).get()
    assert "just_over_target" in _reasons(tipping)  # 390 → 410: over the target by 10, with this claim


def test_evidence_by_link_only_is_a_risk(verifier, blog):
    member = _ma("link@example.com")
    _verified(member, blog, by=verifier, at=NOW - timedelta(days=40), file="evidence/a.pdf")
    claim = _verified(member, blog, by=verifier, url="https://example.com/post")
    assert _reasons(claim) == {"link_only"}


def test_the_probability_grows_with_each_risk_and_is_capped():
    one = audit_services.audit_probability(rate=5, reasons=["link_only"])
    two = audit_services.audit_probability(rate=5, reasons=["link_only", "first_of_type"])
    assert 0.05 < one < two <= 1
    assert audit_services.audit_probability(rate=60, reasons=list(audit_services.RISK_WEIGHTS)) == 1


@pytest.fixture
def many_claims(year_2026, blog, verifier):
    year_2026.audit_rate = 20
    year_2026.save(update_fields=["audit_rate"])
    claims = []
    for i in range(40):
        member = _ma(f"m{i}@example.com")
        claims.append(
            _verified(member, blog, by=verifier, at=NOW - timedelta(days=3, hours=i), url="https://x.example")
        )
    return claims


@time_machine.travel(NOW, tick=False)
def test_sampling_is_deterministic_under_a_seed(year_2026, many_claims, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = audit_services.audits_sample(program_year_id=year_2026.pk, seed=1234, dry_run=True)
    again = audit_services.audits_sample(program_year_id=year_2026.pk, seed=1234, dry_run=True)
    other = audit_services.audits_sample(program_year_id=year_2026.pk, seed=99, dry_run=True)
    assert run.sampled_ids == again.sampled_ids and run.sampled_ids != other.sampled_ids
    assert 0 < len(run.sampled_ids) < len(many_claims)


@time_machine.travel(NOW, tick=False)
def test_a_run_opens_audits_with_reasons_and_asks_each_member_by_a_date(
    year_2026, many_claims, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = audit_services.audits_sample(program_year_id=year_2026.pk, seed=7)
    audits = list(Audit.objects.filter(run=run.run))
    assert len(audits) == len(run.sampled_ids) > 0
    audit = audits[0]
    assert audit.state == Audit.State.REQUESTED
    assert audit.evidence_due_on == date(2026, 6, 1) + timedelta(days=audit_services.EVIDENCE_DAYS)
    assert set(audit.reasons) >= {"link_only", "first_of_type"}
    assert 0 < audit.probability <= 1
    note = audit.contribution.member.notifications.get(kind="maintenance.audit_requested")
    assert "15 Jun 2026" in note.body and str(audit.contribution.pk) in note.url
    # The next run does not sample the same claims again.
    assert audit_services.audits_sample(program_year_id=year_2026.pk, seed=7).sampled_ids == []


def test_a_year_without_an_audit_rate_is_not_sampled(year_2026, blog, verifier):
    _verified(_ma("x@example.com"), blog, by=verifier, url="https://x.example")
    assert audit_services.audits_sample(program_year_id=year_2026.pk, seed=1).sampled_ids == []


@pytest.fixture
def audit(year_2026, blog, verifier):
    claim = _verified(_ma("audited@example.com"), blog, by=verifier, url="https://x.example")
    return audit_services.audit_open(contribution_id=claim.pk, reasons=["link_only"], probability=0.5, run=None)


def test_the_member_answers_on_the_item_and_a_verifier_confirms(client, audit, verifier):
    member = audit.contribution.member
    client.force_login(member)
    page = client.get(f"/contributions/{audit.contribution.pk}/").content.decode()
    assert "selected for an audit" in page
    response = client.post(
        f"/contributions/{audit.contribution.pk}/audit/",
        {"answer": "Here is the published post and the draft.", "evidence_url": "https://example.com/draft"},
    )
    assert response.status_code == 302
    audit.refresh_from_db()
    assert audit.state == Audit.State.ANSWERED and audit.answer.startswith("Here is")
    audit_services.audit_conclude(audit_id=audit.pk, staff=verifier, outcome="confirm", note="Checked the post.")
    audit.refresh_from_db()
    assert audit.state == Audit.State.CONFIRMED and audit.concluded_by == verifier
    assert audit.contribution.state == Contribution.State.VERIFIED


def test_another_member_cannot_answer_someone_elses_audit(client, audit):
    client.force_login(_ma("nosy@example.com"))
    response = client.post(f"/contributions/{audit.contribution.pk}/audit/", {"answer": "mine"})
    assert response.status_code == 404


def test_reversing_goes_through_the_decision_correction(audit, verifier):
    audit_services.audit_conclude(audit_id=audit.pk, staff=verifier, outcome="reverse", note="The post does not exist.")
    audit.refresh_from_db()
    claim = audit.contribution
    assert audit.state == Audit.State.REVERSED
    assert claim.state == Contribution.State.REJECTED and claim.awarded_points == 0
    assert claim.history.filter(history_user=verifier).exists()


def test_a_reversal_needs_a_reason_and_a_member_cannot_conclude(audit, verifier):
    from contributions.errors import ContributionError

    with pytest.raises(ContributionError, match="reason"):
        audit_services.audit_conclude(audit_id=audit.pk, staff=verifier, outcome="reverse", note=" ")
    with pytest.raises(PermissionDenied):
        audit_services.audit_conclude(audit_id=audit.pk, staff=audit.contribution.member, outcome="confirm", note="ok")


def test_one_open_audit_per_contribution_in_words(audit):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="already has an open audit"):
        Audit(
            contribution=audit.contribution, reasons=[], probability=0.1, evidence_due_on=date(2026, 7, 1)
        ).validate_constraints()


def test_audits_are_listed_with_reasons_and_exported(
    client, program_admin, audit, blog, verifier, django_assert_max_num_queries
):
    for i in range(8):  # the page's queries do not grow with the audits
        claim = _verified(_ma(f"more{i}@example.com"), blog, by=verifier, file="evidence/a.pdf")
        audit_services.audit_open(contribution_id=claim.pk, reasons=["first_of_type"], probability=0.1, run=None)
    client.force_login(with_mfa(program_admin))
    with django_assert_max_num_queries(22):
        html = client.get("/admin/contributions/audit/").content.decode()
    assert "Evidence by link only" in html and "audited@example.com" in html
    assert "The member&#x27;s first claim of this type" in html and "50%" in html
    response = client.post(
        "/admin/contributions/audit/export/",
        {"format": 1, "resource": 0, **{f"auditresource_{name}": "on" for name in AuditResource().fields}},
    )
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(BytesIO(response.content)).active
    assert sheet.title == "Audits"
    rows = {r[4].value: r for r in sheet.iter_rows(min_row=2)}
    row = rows[audit.contribution.title]
    assert row[7].value == "Evidence by link only" and row[8].value == 0.5 and row[8].data_type == "n"
    assert row[11].value == "Evidence requested"


def test_a_verifier_confirms_with_a_note_from_the_admin(client, verifier, audit):
    client.force_login(with_mfa(verifier))
    url = "/admin/contributions/audit/"
    page = client.post(url, {"action": "confirm_claims", "_selected_action": [audit.pk]})
    assert "1 audit will be concluded" in page.content.decode()
    client.post(url, {"action": "confirm_claims", "_selected_action": [audit.pk], "apply": "1", "note": "Seen it."})
    audit.refresh_from_db()
    assert audit.state == Audit.State.CONFIRMED and audit.concluded_by == verifier


def test_the_weekly_job_is_scheduled_with_a_description():
    """The data migrations' schedule (run here again: transactional tests flush what migrations wrote)."""
    import importlib

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    from mahome.beat import JOB_DESCRIPTIONS

    migration = importlib.import_module("contributions.migrations.0014_audits")
    PeriodicTask.objects.filter(name="contributions-audits-sample").delete()
    migration.schedule_weekly_audits(apps, None)
    migration.schedule_weekly_audits(apps, None)  # idempotent
    task = PeriodicTask.objects.get(name="contributions-audits-sample")
    assert task.task == "contributions.tasks.audits_sample_weekly"
    assert task.description == migration.DESCRIPTION
    # ...which 0027 rewords (the text said the default timing: the schedule is the admin's to change).
    importlib.import_module("contributions.migrations.0027_audit_job_description").reword(apps, None)
    task.refresh_from_db()
    assert task.description == JOB_DESCRIPTIONS["contributions-audits-sample"]
    assert (task.crontab.day_of_week, task.crontab.hour, task.crontab.minute) == ("1", "6", "0")


def test_the_audit_rate_is_a_percentage_in_words(year_2026):
    from django.core.exceptions import ValidationError

    year_2026.audit_rate = 101
    with pytest.raises(ValidationError, match="The audit rate is a percentage"):
        year_2026.full_clean()


def test_the_audit_list_filters_by_risk(client, program_admin, audit, blog, verifier):
    claim = _verified(_ma("other@example.com"), blog, by=verifier, file="evidence/a.pdf")
    audit_services.audit_open(contribution_id=claim.pk, reasons=["first_of_type"], probability=0.1, run=None)
    client.force_login(with_mfa(program_admin))
    html = client.get("/admin/contributions/audit/", {"risk": "link_only"}).content.decode()
    assert "audited@example.com" in html and "other@example.com" not in html
    html = client.get("/admin/contributions/audit/", {"risk": "first_of_type"}).content.decode()
    assert "other@example.com" in html and "audited@example.com" not in html


@time_machine.travel(NOW, tick=False)
def test_the_weekly_task_samples_every_running_year_with_a_rate(year_2026, blog, verifier):
    from contributions.tasks import audits_sample_weekly

    year_2026.audit_rate = 100  # every claim
    year_2026.save(update_fields=["audit_rate"])
    claims = [_verified(_ma(f"w{i}@example.com"), blog, by=verifier, file="evidence/a.pdf") for i in range(3)]
    assert audits_sample_weekly() == 3
    assert set(Audit.objects.values_list("contribution_id", flat=True)) == {c.pk for c in claims}
    assert audits_sample_weekly() == 0  # a second run finds nothing new


def test_an_unanswered_audit_past_its_date_shows_as_overdue(client, program_admin, audit):
    with time_machine.travel(timezone.now() + timedelta(days=audit_services.EVIDENCE_DAYS + 2)):
        client.force_login(with_mfa(program_admin))
        html = client.get("/admin/contributions/audit/", {"overdue": "yes"}).content.decode()
        assert "audited@example.com" in html and "overdue" in html
        audit_services.audit_answer(contribution_id=audit.contribution_id, member=audit.contribution.member, answer="x")
        html = client.get("/admin/contributions/audit/", {"overdue": "yes"}).content.decode()
        assert "audited@example.com" not in html


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_the_same_moment_open_each_audit_once(verifier):
    """A retried weekly task racing the first: the year's row lock makes them take turns (PostgreSQL)."""
    import threading

    from django.db import connection

    from tests.factories import ProgramYearFactory

    year = ProgramYearFactory(year=2026, target_points=400, audit_rate=100)
    blog = ActivityTypeFactory(program_year=year, code="blog", name="Blog post", points=20)
    claims = [_verified(_ma(f"r{i}@example.com"), blog, by=verifier, file="evidence/a.pdf") for i in range(6)]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(len(audit_services.audits_sample(program_year_id=year.pk, seed=3).sampled_ids))
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [0, len(claims)]
    assert Audit.objects.count() == len(claims)


def test_a_program_admin_sets_the_years_audit_rate_in_its_form_and_the_history_names_them(
    client, program_admin, year_2026
):
    client.force_login(with_mfa(program_admin))
    url = f"/admin/contributions/programyear/{year_2026.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: "" if form[name].value() is None else form[name].value() for name in form.fields}
    data.update({"audit_rate": "5", "requirements-TOTAL_FORMS": "0", "requirements-INITIAL_FORMS": "0"})
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:1500]
    year_2026.refresh_from_db()
    assert year_2026.audit_rate == 5
    assert year_2026.history.first().history_user == program_admin
    response = client.post(url, {**data, "audit_rate": "150"})
    assert "The audit rate is a percentage: from 0 to 100." in response.content.decode()


def test_the_audit_jobs_description_in_0027_is_the_one_beat_writes():
    import importlib

    from mahome.beat import JOB_DESCRIPTIONS

    assert JOB_DESCRIPTIONS["contributions-audits-sample"] == (
        importlib.import_module("contributions.migrations.0027_audit_job_description").TEXT
    )
