"""The year report's points per member-year (`StandingTotals`) follow every write of a contribution, made
by the ORM, in bulk or concurrently, and agree with the Python standing (`selectors.member_years`)."""

import threading

import pytest
from django.db import connection, connections, transaction

from contributions import selectors
from contributions.models import ActivityType, Contribution, StandingTotals
from tests.factories import ActivityTypeFactory, ContributionFactory, MACertificationFactory


def _totals(program_year) -> dict[int, tuple[int, int]]:
    return {
        row.member_id: (row.verified, row.pending)
        for row in StandingTotals.objects.filter(program_year=program_year)
        if (row.verified, row.pending) != (0, 0)
    }


def _python(program_year, members) -> dict[int, tuple[int, int]]:
    rows = selectors.member_years(program_year=program_year, members=list(members))
    return {row.member.pk: (row.verified, row.pending) for row in rows if (row.verified, row.pending) != (0, 0)}


@pytest.mark.django_db
def test_totals_follow_inserts_updates_deletes_moves_and_a_cap_change(year_2026, speaking):
    capped = ActivityTypeFactory(program_year=year_2026, code="replies", points=30, annual_cap=100)
    alice, bob = MACertificationFactory().user, MACertificationFactory().user
    members = [alice, bob]
    first = ContributionFactory(member=alice, activity_type=speaking, state="verified", awarded_points=80)
    ContributionFactory.create_batch(3, member=alice, activity_type=capped, state="verified")  # 90 of a 100 cap
    waiting = ContributionFactory(member=alice, activity_type=capped, state="submitted")  # only 10 of 30 fit
    ContributionFactory(member=bob, activity_type=speaking, state="draft")
    assert _totals(year_2026) == _python(year_2026, members) == {alice.pk: (170, 10)}

    Contribution.objects.filter(pk=waiting.pk).update(state="verified")  # a decision: capped at 100
    assert _totals(year_2026) == _python(year_2026, members) == {alice.pk: (180, 0)}
    Contribution.objects.filter(pk=first.pk).update(awarded_points=None)  # counts its claimed 100
    assert _totals(year_2026)[alice.pk] == (200, 0)
    Contribution.objects.filter(pk=first.pk).update(member=bob)  # moved: both member-years change
    assert _totals(year_2026) == _python(year_2026, members) == {alice.pk: (100, 0), bob.pk: (100, 0)}
    Contribution.objects.filter(member=bob, state="draft").update(state="submitted")
    assert _totals(year_2026)[bob.pk] == (100, 100)
    ActivityType.objects.filter(pk=capped.pk).update(annual_cap=60)  # every member's capped points change
    assert _totals(year_2026) == _python(year_2026, members) == {alice.pk: (60, 0), bob.pk: (100, 100)}
    Contribution.objects.filter(member=alice).delete()
    assert _totals(year_2026) == _python(year_2026, members) == {bob.pk: (100, 100)}


@pytest.mark.django_db
def test_a_write_that_changes_no_counted_column_recomputes_nothing(year_2026, speaking):
    item = ContributionFactory(activity_type=speaking, state="verified")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE contributions_standingtotals SET verified = -1")  # a marker the refresh would undo
    Contribution.objects.filter(pk=item.pk).update(title="Renamed", description="Longer")
    assert StandingTotals.objects.get(member=item.member).verified == -1
    Contribution.objects.filter(pk=item.pk).update(claimed_points=70)
    assert StandingTotals.objects.get(member=item.member).verified == 70


@pytest.mark.django_db
def test_a_set_based_insert_of_many_members_is_counted_once_each(year_2026, speaking):
    members = [MACertificationFactory().user for _ in range(20)]
    Contribution.objects.bulk_create(
        Contribution(
            member=member,
            activity_type=speaking,
            program_year=year_2026,
            title=f"Talk {n}",
            occurred_on=year_2026.opens_on,
            quantity=1,
            state="verified" if n % 2 else "submitted",
            claimed_points=100,
        )
        for member in members
        for n in range(3)
    )
    assert _totals(year_2026) == _python(year_2026, members)
    assert len(_totals(year_2026)) == 20


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_member_year_both_count(year_2026, speaking):
    """Two transactions add a contribution to the same member-year at once; the second to reach the totals
    waits for the first's commit and recomputes with both (no lost update)."""
    member = MACertificationFactory().user
    ContributionFactory(member=member, activity_type=speaking, state="verified")  # the row exists
    inserted, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first_writer():
        try:
            with transaction.atomic():
                ContributionFactory(member=member, activity_type=speaking, state="verified", claimed_points=10)
                inserted.set()
                release.wait(timeout=30)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    def second_writer():
        try:
            with transaction.atomic():
                ContributionFactory(member=member, activity_type=speaking, state="verified", claimed_points=1)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    holder = threading.Thread(target=first_writer)
    holder.start()
    assert inserted.wait(timeout=30)
    waiter = threading.Thread(target=second_writer)
    waiter.start()
    waiter.join(timeout=2)
    assert waiter.is_alive()  # waits on the first writer's member-year row
    release.set()
    holder.join(timeout=30)
    waiter.join(timeout=30)
    assert not errors
    assert StandingTotals.objects.get(member=member, program_year=year_2026).verified == 111
    assert _totals(year_2026) == _python(year_2026, [member])
