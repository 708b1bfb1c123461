"""Staff take back a member's opt-out with a reason, never by deleting it silently.

Found walking the demo as a program admin: "Delete selected opt-outs" removed Dan's opt-out with no
reason asked and nothing said to him; his dashboard flipped to "at risk" and the reminders resumed.
Now the admin has no delete at all (tests/contributions/test_admin_records_kept.py); a program admin
takes an opt-out back from its page with a reason, which the history keeps beside who did it and
which the member is told.
"""

from datetime import date

import pytest
from django.utils import timezone

from accounts.models import Notification
from contributions import services
from contributions.errors import ContributionError
from contributions.models import OptOut, ReviewOutcome
from tests.factories import ProgramYearFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_year(db):
    """A program year whose deadline is still ahead, whatever day the suite runs."""
    return ProgramYearFactory(year=timezone.localdate().year + 1)


@pytest.fixture
def opt_out(member, open_year):
    return services.opt_out_create(member=member, program_year=open_year, reason="Parental leave")


def _take_back(opt_out: OptOut) -> str:
    return f"/admin/contributions/optout/{opt_out.pk}/take-back/"


def test_a_program_admin_takes_back_an_opt_out_with_a_reason_the_history_and_the_member_keep(
    client, program_admin, member, opt_out
):
    client.force_login(with_mfa(program_admin))
    change_page = client.get(f"/admin/contributions/optout/{opt_out.pk}/change/").content.decode()
    assert _take_back(opt_out) in change_page

    response = client.post(_take_back(opt_out), {"reason": "Ava asked us by email to keep maintaining 2027."})

    assert response.status_code == 302
    assert not OptOut.objects.filter(pk=opt_out.pk).exists()
    taken_back = OptOut.history.filter(id=opt_out.pk).latest("history_date")
    assert taken_back.history_type == "-"
    assert taken_back.history_user == program_admin
    assert taken_back.history_change_reason == "Ava asked us by email to keep maintaining 2027."
    notice = Notification.objects.get(user=member, kind="maintenance.opt_out_taken_back")
    assert str(opt_out.program_year.year) in notice.title
    assert "Ava asked us by email to keep maintaining 2027." in notice.body
    page = client.get(response["Location"]).content.decode()
    assert f"opt-out of {opt_out.program_year.year} was taken back; they were told why." in page


def test_taking_back_an_opt_out_needs_a_reason(client, program_admin, opt_out):
    client.force_login(with_mfa(program_admin))

    response = client.post(_take_back(opt_out), {"reason": "   "})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert OptOut.objects.filter(pk=opt_out.pk).exists()


def test_a_verifier_sees_the_opt_out_but_cannot_take_it_back(client, verifier, opt_out):
    client.force_login(with_mfa(verifier))

    assert client.get(f"/admin/contributions/optout/{opt_out.pk}/change/").status_code == 200
    assert _take_back(opt_out) not in client.get(f"/admin/contributions/optout/{opt_out.pk}/change/").content.decode()
    assert client.get(_take_back(opt_out)).status_code == 403
    assert client.post(_take_back(opt_out), {"reason": "Because"}).status_code == 403
    assert OptOut.objects.filter(pk=opt_out.pk).exists()


def test_once_the_review_has_run_an_opt_out_cannot_be_taken_back(client, program_admin, member, opt_out):
    ReviewOutcome.objects.create(
        member=member,
        program_year=opt_out.program_year,
        outcome=ReviewOutcome.Outcome.OPTED_OUT,
        target_points=400,
        verified_points=0,
    )
    client.force_login(with_mfa(program_admin))

    response = client.post(_take_back(opt_out), {"reason": "Asked by email"})

    assert response.status_code == 200
    assert "The year-end review has already run" in response.content.decode()
    assert OptOut.objects.filter(pk=opt_out.pk).exists()
    assert not Notification.objects.filter(user=member, kind="maintenance.opt_out_taken_back").exists()


def test_the_service_refuses_an_opt_out_already_taken_back(program_admin, opt_out):
    services.opt_out_take_back(opt_out_id=opt_out.pk, by=program_admin, reason="Asked by email")

    with pytest.raises(ContributionError, match="no longer opted out"):
        services.opt_out_take_back(opt_out_id=opt_out.pk, by=program_admin, reason="Asked twice")


def test_after_the_deadline_an_opt_out_is_kept(program_admin, member):
    past = ProgramYearFactory(year=2024, deadline=date(2025, 1, 1))
    opt_out = OptOut.objects.create(member=member, program_year=past)

    with pytest.raises(ContributionError, match="deadline has passed"):
        services.opt_out_take_back(opt_out_id=opt_out.pk, by=program_admin, reason="Too late")
    assert OptOut.objects.filter(pk=opt_out.pk).exists()


def test_the_opt_outs_list_keeps_those_ended_with_who_ended_them_and_why(
    client, program_admin, member, other_member, open_year
):
    """Found by the second walk: once taken back, an opt-out left the list and the admin could no longer
    find who took it back. The list now ends with the opt-outs ended: by the member or by staff, and why."""
    taken_back = services.opt_out_create(member=member, program_year=open_year, reason="Parental leave")
    services.opt_out_take_back(opt_out_id=taken_back.pk, by=program_admin, reason="Ava asked us by email")
    services.opt_out_create(member=other_member, program_year=open_year)
    services.opt_out_undo(member=other_member, program_year=open_year)
    client.force_login(with_mfa(program_admin))

    page = client.get("/admin/contributions/optout/").content.decode()

    ended = page[page.index("Opt-outs ended") :]
    assert "Ava Patel" in ended and "Taken back by Paul" in ended and "Ava asked us by email" in ended
    assert "Ben Okafor" in ended and "Undone by the member" in ended
