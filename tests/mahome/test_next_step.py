"""One next step, the most urgent (issue 13, finding 3).

The rule order (mahome/dashboard.py, `next_step`): the year decided; opted out (only the
undo); a slot offer held for the member; a verifier's question; points behind the pace with the
cheapest ways to close them; technical requirements owed; drafts; then the points still to go.
A member at 0 of 334 points with 31 days left was told only about a training; a member holding a
slot offer was not told about it; an opted-out member still saw overdue and pace warnings.
"""

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from contributions import services
from contributions.models import OptOut, TargetOverride
from engagements.models import SignUp
from tests.factories import (
    ActivityTypeFactory,
    ContributionFactory,
    MACertificationFactory,
    OpportunityFactory,
    ProgramYearFactory,
    SignUpFactory,
    TechnicalRequirementFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 12, 1), tick=False):
        yield


@pytest.fixture
def year():
    return ProgramYearFactory(year=2026, target_points=400)


@pytest.fixture
def catalogue(year):
    return {
        "speaking": ActivityTypeFactory(program_year=year, name="Speak at an event", points=100),
        "blog": ActivityTypeFactory(program_year=year, name="Write a blog post", points=25, annual_cap=50),
        "replies": ActivityTypeFactory(
            program_year=year, name="Community replies", points=2, tracking="community", annual_cap=100
        ),
        "teach": ActivityTypeFactory(program_year=year, name="Teach a class", points=120),
    }


@pytest.fixture
def ma(member, year):
    MACertificationFactory(user=member, qualified_on=date(2024, 3, 10))
    TargetOverride.objects.create(member=member, program_year=year, target_points=334, reason="Leave")
    return member


@pytest.fixture
def training(year):
    return TechnicalRequirementFactory(program_year=year, kind="training", name="Level 3", due_on=date(2026, 10, 31))


def _step(client, member):
    client.force_login(member)
    response = client.get("/")
    return response.context["maintenance"]["next_step"], response.content.decode()


def test_points_behind_the_pace_come_before_a_requirement_with_the_cheapest_ways(client, ma, catalogue, training):
    step, page = _step(client, ma)
    assert step["rule"] == "points"
    assert "334" in step["text"] and "31 days" in step["text"]
    names = [option["text"] for option in step["options"]]
    # Fewest contributions that close the gap first; a capped type that cannot close it comes last;
    # community replies are counted automatically, so they are not offered.
    assert names[0].startswith("3 × Teach a class")
    assert names[1].startswith("4 × Speak at an event")
    assert not any("Community replies" in name for name in names)
    assert f"/contributions/new/?type={catalogue['teach'].pk}" in page


def test_a_slot_offer_before_its_expiry_comes_first(client, ma, catalogue, training):
    opportunity = OpportunityFactory(title="Speak at the user group", slug="user-group", capacity=1)
    SignUpFactory(
        opportunity=opportunity,
        member=ma,
        state=SignUp.State.OFFERED,
        offer_expires_at=timezone.now() + timedelta(hours=20),
    )
    step, _page = _step(client, ma)
    assert step["rule"] == "offer"
    assert "Speak at the user group" in step["text"]
    assert step["url"] == "/engagements/user-group/"


def test_an_expired_offer_is_not_the_next_step(client, ma, catalogue):
    opportunity = OpportunityFactory(title="Speak at the user group", slug="user-group", capacity=1)
    SignUpFactory(
        opportunity=opportunity,
        member=ma,
        state=SignUp.State.OFFERED,
        offer_expires_at=timezone.now() - timedelta(hours=1),
    )
    step, _page = _step(client, ma)
    assert step["rule"] == "points"


def test_a_verifiers_question_comes_before_the_points(client, ma, catalogue, verifier):
    asked = ContributionFactory(member=ma, activity_type=catalogue["speaking"], title="Keynote", state="submitted")
    services.contribution_decide(
        contribution_id=asked.pk, verifier=verifier, decision="needs_info", note="Which event?"
    )
    step, _page = _step(client, ma)
    assert step["rule"] == "needs_info"
    assert step["url"] == f"/contributions/{asked.pk}/"


def test_a_requirement_owed_comes_after_the_points_once_the_pace_is_kept(client, ma, catalogue, training):
    ContributionFactory(member=ma, activity_type=catalogue["teach"], state="verified", claimed_points=360)
    step, _page = _step(client, ma)
    assert step["rule"] == "requirement"
    assert step["url"] == f"/contributions/requirements/{training.pk}/report/"


def test_an_opted_out_member_sees_only_the_undo(client, ma, catalogue, training, year):
    OptOut.objects.create(member=ma, program_year=year, reason="Sabbatical")
    step, page = _step(client, ma)
    assert step["rule"] == "opted_out"
    assert step["label"] == "Undo my opt-out"
    assert "Overdue" not in page
    assert "behind the pace" not in page
    assert "Pace today" not in page


def test_rule_order_is_written_down_where_it_is_decided():
    from mahome import dashboard

    doc = dashboard.next_step.__doc__
    positions = [
        doc.index(word) for word in ("slot offer", "question", "behind the pace", "requirements owed", "Drafts")
    ]
    assert positions == sorted(positions)


def test_a_quickest_way_opens_the_form_with_its_type_chosen(client, ma, catalogue):
    client.force_login(ma)
    page = client.get(f"/contributions/new/?type={catalogue['teach'].pk}").content.decode()
    assert f'<option value="{catalogue["teach"].pk}" selected>' in page


def _standing(**overrides):
    """The facts next_step reads of a MemberYear, for a member on pace with nothing owed."""
    from types import SimpleNamespace

    facts = {
        "outcome": None,
        "opt_out": None,
        "can_change_opt_out": True,
        "program_year": SimpleNamespace(deadline=date(2027, 1, 31)),
        "target_points": 400,
        "verified": 100,
        "pending": 0,
        "pace_points": 50,
        "deadline_passed": False,
        "new_member": False,
        "days_to_deadline": 61,
        "requirements_pending": [],
        "status": "on_track",
    }
    return SimpleNamespace(**{**facts, **overrides})


def _requirement(*, overdue: bool, due_on: date, pk: int):
    from types import SimpleNamespace

    return SimpleNamespace(
        report_open=False, overdue=overdue, requirement=SimpleNamespace(pk=pk, name=f"R{pk}", due_on=due_on)
    )


@pytest.mark.parametrize(
    ("overrides", "drafts", "expected"),
    [
        ({}, 0, "to_go"),
        ({"deadline_passed": True}, 0, "deadline"),
        ({"verified": 300, "pending": 100}, 0, "covered"),
        ({"verified": 400, "status": "met"}, 2, "drafts"),
        ({"verified": 400, "status": "met"}, 0, "met"),
        ({"verified": 0, "pace_points": 200}, 3, "points"),
        ({"verified": 0, "pace_points": 200, "new_member": True}, 3, "drafts"),
        ({"verified": 0, "pace_points": 200, "deadline_passed": True}, 0, "deadline"),
    ],
)
def test_each_rule_answers_in_its_turn_without_the_database(overrides, drafts, expected, monkeypatch):
    from mahome import dashboard
    from mahome.dashboard import next_step

    monkeypatch.setattr(dashboard, "cheapest_ways", lambda **kwargs: [])  # the catalogue query, tested above

    step = next_step(standing=_standing(**overrides), needs_info=None, drafts=drafts)
    assert step["rule"] == expected
    assert step["url"] and step["label"] and step["text"]


def test_the_decided_year_comes_before_everything_and_says_which_outcome():
    from types import SimpleNamespace

    from contributions.models import ReviewOutcome
    from mahome.dashboard import next_step

    recertified = SimpleNamespace(outcome=ReviewOutcome.Outcome.RECERTIFIED)
    step = next_step(standing=_standing(outcome=recertified, verified=0, pace_points=400), needs_info=None, drafts=4)
    assert step["rule"] == "decided" and "recertified" in str(step["text"])
    other = next((o for o in ReviewOutcome.Outcome if o != ReviewOutcome.Outcome.RECERTIFIED), None)
    step = next_step(standing=_standing(outcome=SimpleNamespace(outcome=other)), needs_info=None, drafts=0)
    assert step["rule"] == "decided" and "closed this year" in str(step["text"])


def test_requirements_owed_name_the_overdue_one_first_then_the_next_due():
    from mahome.dashboard import next_step

    later = _requirement(overdue=False, due_on=date(2026, 12, 20), pk=1)
    overdue = _requirement(overdue=True, due_on=date(2026, 11, 1), pk=2)
    sooner = _requirement(overdue=False, due_on=date(2026, 12, 10), pk=3)
    step = next_step(standing=_standing(requirements_pending=[later, overdue, sooner]), needs_info=None, drafts=1)
    assert step["rule"] == "requirement" and "R2" in step["text"] and "was due" in step["text"]
    step = next_step(standing=_standing(requirements_pending=[later, sooner]), needs_info=None, drafts=1)
    assert "R3" in step["text"] and "is due" in step["text"]
    step = next_step(standing=_standing(requirements_pending=[later], deadline_passed=True), needs_info=None, drafts=0)
    assert step["rule"] == "deadline"
