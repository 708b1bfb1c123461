"""Items and sessions are counted whole; hours may be split (walk of 2026-12-07, member ben).

"Co-author a customer story — 80 per item" with quantity 1.5 was saved as "1.50 (per item)"
claiming 120 points, and the verifier's page then bounded the award at 120. Whether a unit takes
fractions is one predicate next to the units (`ActivityType.takes_fractions`); the claim form, its
preview, the services that write a contribution, the award bound and the database all ask it.
"""

from datetime import date
from decimal import Decimal
from functools import partial

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from contributions import selectors, services
from contributions.admin import ActivityTypeForm
from contributions.models import (
    UNIT_CHANGE_CONSTRAINT,
    WHOLE_MAXIMUM_CONSTRAINT,
    WHOLE_UNITS_CONSTRAINT,
    ActivityType,
    Contribution,
)
from contributions.services.base import _save
from tests.admin_forms import admin_form_data
from tests.factories import ActivityTypeFactory, ContributionFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

WHOLE = "Enter a whole number of items"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 11, 23), tick=False):
        yield


@pytest.fixture
def story(year_2026):
    return ActivityTypeFactory(
        program_year=year_2026, code="customer-story", name="Co-author a customer story", points=80, unit="item"
    )


@pytest.fixture
def workshop(year_2026):
    return ActivityTypeFactory(program_year=year_2026, code="workshop", name="Workshop", points=50, unit="session")


@pytest.fixture
def mentoring(year_2026):
    return ActivityTypeFactory(program_year=year_2026, code="mentoring", name="Mentoring", points=20, unit="hour")


def _create(member, activity_type, quantity, title="Half story"):
    return services.contribution_create(
        member=member,
        activity_type=activity_type,
        title=title,
        occurred_on=date(2026, 11, 21),
        quantity=quantity,
        evidence_url="https://example.com/story",
        submit=True,
    )


def test_only_hours_take_fractions():
    assert {unit: ActivityType(unit=unit).takes_fractions for unit in ActivityType.Unit} == {
        ActivityType.Unit.ITEM: False,
        ActivityType.Unit.HOUR: True,
        ActivityType.Unit.SESSION: False,
    }


def test_the_service_refuses_a_fraction_of_an_item_with_a_clear_message(ma, story):
    with pytest.raises(services.ContributionError) as refused:
        _create(ma, story, Decimal("1.5"))
    assert str(refused.value) == (
        "Enter a whole number of items: “Co-author a customer story” counts whole items, and 1.5 is not one."
    )
    assert not Contribution.objects.exists()


def test_the_service_refuses_a_fraction_of_a_session(ma, workshop):
    with pytest.raises(services.ContributionError, match="Enter a whole number of sessions"):
        _create(ma, workshop, Decimal("0.5"))


def test_the_service_refuses_a_fraction_of_an_item_when_a_draft_is_changed(ma, story):
    draft = services.contribution_create(
        member=ma, activity_type=story, title="Story", occurred_on=date(2026, 11, 21), quantity=1
    )
    with pytest.raises(services.ContributionError, match=WHOLE):
        services.contribution_update(
            contribution=draft,
            member=ma,
            activity_type=story,
            title="Story",
            occurred_on=date(2026, 11, 21),
            quantity=Decimal("1.5"),
        )
    draft.refresh_from_db()
    assert draft.quantity == 1 and draft.claimed_points == 80


def test_the_service_accepts_whole_items_and_a_fraction_of_an_hour(ma, story, mentoring):
    assert _create(ma, story, 2).claimed_points == 160
    # Another story: the same claim twice is refused (tests/contributions/test_same_claim_twice.py).
    assert _create(ma, story, Decimal("2.00"), title="Second story").claimed_points == 160
    assert _create(ma, mentoring, Decimal("1.5")).claimed_points == 30


def test_an_automatic_credit_of_a_fraction_of_an_item_is_refused(ma, story):
    with pytest.raises(services.ContributionError, match=WHOLE):
        services.contribution_credit_automatic(
            member=ma,
            activity_type=story,
            occurred_on=date(2026, 11, 1),
            title="Stories",
            source_key="import:1",
            source=Contribution.Source.ENGAGEMENT,
            quantity=Decimal("1.5"),
        )
    assert not Contribution.objects.exists()


def test_the_form_says_enter_a_whole_number_of_items(client, ma, story):
    client.force_login(ma)
    response = client.post(
        "/contributions/new/",
        {
            "activity_type": story.pk,
            "title": "Half story",
            "description": "x",
            "occurred_on": "2026-11-21",
            "quantity": "1.5",
            "evidence_url": "https://example.com/story",
            "action": "submit",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["quantity"] == [
        "Enter a whole number of items: “Co-author a customer story” counts whole items, and 1.5 is not one."
    ]
    assert not Contribution.objects.exists()


def test_the_preview_refuses_a_fraction_of_an_item_and_prices_a_fraction_of_an_hour(ma, story, mentoring):
    preview = selectors.claim_preview(user=ma, activity_type_id=story.pk, quantity="1.5")
    assert preview.refusal.startswith(WHOLE) and preview.points is None
    assert selectors.claim_preview(user=ma, activity_type_id=mentoring.pk, quantity="1.5").points == 30


def test_the_database_refuses_a_fraction_of_a_unit_that_takes_none(ma, year_2026):
    """The trigger and `takes_fractions` agree on every unit, for rows written past the services."""
    for unit in ActivityType.Unit:
        activity_type = ActivityTypeFactory(program_year=year_2026, unit=unit)
        if activity_type.takes_fractions:
            ContributionFactory(member=ma, activity_type=activity_type, quantity=Decimal("1.5"))
            continue
        with pytest.raises(IntegrityError) as refused, transaction.atomic():
            ContributionFactory(member=ma, activity_type=activity_type, quantity=Decimal("1.5"))
        assert refused.value.__cause__.diag.constraint_name == WHOLE_UNITS_CONSTRAINT
        ContributionFactory(member=ma, activity_type=activity_type, quantity=Decimal("2"))


def test_a_fraction_the_database_refuses_reads_as_the_rule_not_the_constraint(ma, story):
    contribution = Contribution(
        member=ma,
        program_year=story.program_year,
        activity_type=story,
        title="Written past the checks",
        occurred_on=date(2026, 11, 21),
        quantity=Decimal("1.5"),
    )
    with pytest.raises(services.ContributionError) as refused:
        _save(contribution, actor=ma)
    assert str(refused.value).startswith(WHOLE)
    assert "contribution_whole_units" not in str(refused.value)


def _stored_before_the_rule(member, activity_type, quantity, **fields):
    """A claim of `quantity` written as rows were before migration 0024: PostgreSQL's replica role
    fires no trigger, the whole-units one included (for this one insert)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        contribution = ContributionFactory(member=member, activity_type=activity_type, quantity=quantity, **fields)
        cursor.execute("SET LOCAL session_replication_role = origin")
    return contribution


def _legacy_half_item(member, story):
    """A 1.5-item claim stored before the rule. (It was once made by changing the type's unit from
    hours past the services; PostgreSQL refuses that now, migration 0026.)"""
    return _stored_before_the_rule(member, story, Decimal("1.5"), title="Half story", claimed_points=120)


def test_the_award_bound_of_a_stored_fractional_item_claim_counts_whole_items(ma, story, verifier):
    contribution = _legacy_half_item(ma, story)
    limit = services.award_limit(contribution=contribution)
    assert limit.bound == 80
    assert limit.explain() == "at most 80 points: the type's points for 1 whole item (1.5 claimed)"
    with pytest.raises(services.ContributionError, match="can be awarded at most 80 points"):
        services.contribution_decide(contribution_id=contribution.pk, verifier=verifier, decision="verify")
    decided = services.contribution_decide(
        contribution_id=contribution.pk,
        verifier=verifier,
        decision="verify",
        awarded_points=80,
        note="Counted one story: items are whole.",
    )
    assert decided.state == Contribution.State.VERIFIED and decided.awarded_points == 80


def test_the_decide_page_shows_the_whole_item_bound(client, ma, story, verifier):
    contribution = _legacy_half_item(ma, story)
    client.force_login(with_mfa(verifier))
    page = client.get(f"/admin/contributions/contribution/{contribution.pk}/decide/").content.decode()
    assert "at most 80 points: the type&#x27;s points for 1 whole item (1.5 claimed)" in page


def test_a_type_with_fractional_claims_cannot_become_whole_units(ma, mentoring, program_admin):
    _create(ma, mentoring, Decimal("1.5"))
    mentoring.unit = ActivityType.Unit.SESSION
    with pytest.raises(services.ContributionError, match="1 contribution of “Mentoring” claims part of one hour"):
        services.activity_type_save(activity_type=mentoring, by=program_admin, reason="Counted per session now")
    assert ActivityType.objects.get(pk=mentoring.pk).unit == ActivityType.Unit.HOUR


def test_the_admin_says_why_a_type_with_fractional_claims_keeps_its_unit(client, ma, mentoring, program_admin):
    _create(ma, mentoring, Decimal("1.5"))
    client.force_login(with_mfa(program_admin))
    url = f"/admin/contributions/activitytype/{mentoring.pk}/change/"
    response = client.post(url, admin_form_data(client, url, unit="session"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["unit"] == [
        "1 contribution of “Mentoring” claims part of one hour, so the type cannot be counted per session: "
        "correct that claim first, or add a new type for the new unit."
    ]
    assert ActivityType.objects.get(pk=mentoring.pk).unit == ActivityType.Unit.HOUR


# A type's maximum per claim is a quantity of its unit: whole for items and sessions.
WHOLE_MAXIMUM = (
    "A type counted per item is claimed in whole numbers, so its maximum per claim must be a whole number too, not 2.5."
)


def test_the_model_refuses_a_fractional_maximum_for_a_type_counted_whole_beside_the_field(year_2026):
    for unit in ActivityType.Unit:
        activity_type = ActivityType(
            program_year=year_2026,
            code=f"x-{unit}",
            name="X",
            category="brand",
            points=10,
            unit=unit,
            max_quantity_per_claim=Decimal("2.5"),
        )
        if activity_type.takes_fractions:
            activity_type.full_clean()
            continue
        with pytest.raises(ValidationError) as refused:
            activity_type.full_clean()
        label = ActivityType.Unit(unit).label
        assert refused.value.message_dict == {
            "max_quantity_per_claim": [
                f"A type counted {label} is claimed in whole numbers, so its maximum per claim must be a whole "
                "number too, not 2.5."
            ]
        }
        activity_type.max_quantity_per_claim = Decimal("2.00")
        activity_type.full_clean()


def test_the_admin_says_a_type_counted_per_item_takes_a_whole_maximum(client, story, program_admin):
    client.force_login(with_mfa(program_admin))
    url = f"/admin/contributions/activitytype/{story.pk}/change/"
    response = client.post(url, admin_form_data(client, url, max_quantity_per_claim="2.5"))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors == {"max_quantity_per_claim": [WHOLE_MAXIMUM]}
    assert ActivityType.objects.get(pk=story.pk).max_quantity_per_claim == 20


def test_the_admin_refuses_to_count_per_item_a_type_whose_maximum_is_part_of_an_hour(client, mentoring, program_admin):
    ActivityType.objects.filter(pk=mentoring.pk).update(max_quantity_per_claim=Decimal("2.5"))
    client.force_login(with_mfa(program_admin))
    url = f"/admin/contributions/activitytype/{mentoring.pk}/change/"
    response = client.post(url, admin_form_data(client, url, unit="item"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"max_quantity_per_claim": [WHOLE_MAXIMUM]}
    assert ActivityType.objects.get(pk=mentoring.pk).unit == ActivityType.Unit.HOUR


def _refused_by(constraint, statement):
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        statement()
    assert refused.value.__cause__.diag.constraint_name == constraint


def _raw_update(activity_type, **columns):
    """An UPDATE written past Django's models, as another program or a psql session would."""
    table = connection.ops.quote_name(ActivityType._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(column)} = %s" for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {assignments} WHERE id = %s", [*columns.values(), activity_type.pk])


def test_the_database_refuses_a_fractional_maximum_for_a_type_counted_whole(year_2026):
    """The check and `takes_fractions` agree on every unit, for rows written past the model's clean."""
    for unit in ActivityType.Unit:
        _the_database_keeps_the_maximum_whole(ActivityTypeFactory(program_year=year_2026, unit=unit))


def _the_database_keeps_the_maximum_whole(activity_type):
    rows = ActivityType.objects.filter(pk=activity_type.pk)
    if activity_type.takes_fractions:
        rows.update(max_quantity_per_claim=Decimal("2.5"))
        _refused_by(WHOLE_MAXIMUM_CONSTRAINT, lambda: rows.update(unit=ActivityType.Unit.ITEM))
        _raw_update(activity_type, max_quantity_per_claim=Decimal("3"))
        return
    _refused_by(WHOLE_MAXIMUM_CONSTRAINT, lambda: rows.update(max_quantity_per_claim=Decimal("2.5")))
    _refused_by(WHOLE_MAXIMUM_CONSTRAINT, lambda: _raw_update(activity_type, max_quantity_per_claim="0.5"))
    _raw_update(activity_type, max_quantity_per_claim=Decimal("3"))
    assert rows.get().max_quantity_per_claim == 3


# A type's unit cannot become whole while claims of it count part of an hour, however it is changed.
UNIT_KEPT = (
    "1 contribution of “Mentoring” claims part of one hour, so the type cannot be counted per session: "
    "correct that claim first, or add a new type for the new unit."
)


def test_the_database_refuses_a_unit_change_while_claims_count_part_of_an_hour(ma, mentoring):
    _create(ma, mentoring, Decimal("1.5"))
    rows = ActivityType.objects.filter(pk=mentoring.pk)
    _refused_by(UNIT_CHANGE_CONSTRAINT, lambda: rows.update(unit=ActivityType.Unit.SESSION))
    _refused_by(UNIT_CHANGE_CONSTRAINT, lambda: _raw_update(mentoring, unit="item"))
    assert rows.get().unit == ActivityType.Unit.HOUR
    rows.update(name="Mentoring a new model builder", points=25)  # anything else may change


def test_the_database_and_the_rule_agree_on_which_unit_changes_are_refused(ma, year_2026):
    """`unit_change_refusal` and the trigger refuse the same changes: to a whole unit, from one that
    takes fractions, while a claim of the type counts part of one."""
    for old in ActivityType.Unit:
        for new in ActivityType.Unit:
            if new == old:
                continue
            whole_claims = ActivityTypeFactory(program_year=year_2026, unit=old)
            ContributionFactory(member=ma, activity_type=whole_claims, quantity=2)
            _raw_update(whole_claims, unit=new)
            assert ActivityType.objects.get(pk=whole_claims.pk).unit == new
            split_claim = ActivityTypeFactory(program_year=year_2026, unit=old)
            _stored_before_the_rule(ma, split_claim, Decimal("1.5"))
            if services.unit_change_refusal(activity_type_id=split_claim.pk, unit=new):
                _refused_by(UNIT_CHANGE_CONSTRAINT, partial(_raw_update, split_claim, unit=new))
            else:
                _raw_update(split_claim, unit=new)
                assert ActivityType.objects.get(pk=split_claim.pk).unit == new


def test_the_services_database_refusal_of_a_unit_change_reads_as_the_rule(ma, mentoring, program_admin, monkeypatch):
    """Were the service's own count skipped, the database refuses, in the rule's words."""
    _create(ma, mentoring, Decimal("1.5"))
    monkeypatch.setattr("contributions.services.years._whole_units_change_check", lambda **kwargs: None)
    mentoring.unit = ActivityType.Unit.SESSION
    with pytest.raises(services.ContributionError) as refused:
        services.activity_type_save(activity_type=mentoring, by=program_admin, reason="Counted per session now")
    assert (str(refused.value), refused.value.field) == (UNIT_KEPT, "unit")
    assert ActivityType.objects.get(pk=mentoring.pk).unit == ActivityType.Unit.HOUR


def test_a_database_refusal_whose_claims_are_gone_on_recount_says_try_again(ma, mentoring, program_admin, monkeypatch):
    """The claims the database found were corrected before they could be counted again."""
    _create(ma, mentoring, Decimal("1.5"))
    monkeypatch.setattr("contributions.services.years._whole_units_change_check", lambda **kwargs: None)
    monkeypatch.setattr("contributions.services.years.unit_change_refusal", lambda **kwargs: None)
    mentoring.unit = ActivityType.Unit.SESSION
    with pytest.raises(services.ContributionError) as refused:
        services.activity_type_save(activity_type=mentoring, by=program_admin, reason="Counted per session now")
    assert str(refused.value) == "Claims of “Mentoring” changed while its unit was being saved; try again in a moment."
    assert refused.value.field == "unit"


def test_the_admin_says_why_when_a_claim_of_part_of_an_hour_arrives_after_the_forms_check(
    client, ma, mentoring, program_admin, monkeypatch
):
    """The form found no such claim; one came in before the save: the page says why, no error page."""
    checked = ActivityTypeForm.clean

    def clean_then_a_claim_arrives(form):
        cleaned = checked(form)
        if not Contribution.objects.exists():
            _create(ma, mentoring, Decimal("1.5"))
        return cleaned

    monkeypatch.setattr(ActivityTypeForm, "clean", clean_then_a_claim_arrives)
    client.force_login(with_mfa(program_admin))
    url = f"/admin/contributions/activitytype/{mentoring.pk}/change/"
    response = client.post(url, admin_form_data(client, url, unit="session"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"unit": [UNIT_KEPT]}
    assert ActivityType.objects.get(pk=mentoring.pk).unit == ActivityType.Unit.HOUR


def test_the_admin_shows_the_databases_refusal_of_a_unit_change_in_words(
    client, ma, mentoring, program_admin, monkeypatch
):
    """Even with the form's and the service's checks out of the way, the page names the rule, not
    the constraint."""
    _create(ma, mentoring, Decimal("1.5"))
    monkeypatch.setattr("contributions.admin.years.services.unit_change_refusal", lambda **kwargs: None)
    monkeypatch.setattr("contributions.services.years._whole_units_change_check", lambda **kwargs: None)
    client.force_login(with_mfa(program_admin))
    url = f"/admin/contributions/activitytype/{mentoring.pk}/change/"
    response = client.post(url, admin_form_data(client, url, unit="session"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"unit": [UNIT_KEPT]}
    assert UNIT_CHANGE_CONSTRAINT not in response.content.decode()
    assert ActivityType.objects.get(pk=mentoring.pk).unit == ActivityType.Unit.HOUR
