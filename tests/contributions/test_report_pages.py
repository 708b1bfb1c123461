"""The admin year report at scale: one page of rows, the same queries whatever the number of MAs."""

import pytest

from contributions import admin_views, selectors
from tests.factories import ContributionFactory, MACertificationFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db


def _report(client, program_year):
    return client.get(f"/admin/contributions/programyear/{program_year.pk}/report/")


def test_report_pages_rows_and_keeps_counts_and_queries_constant(
    client, program_admin, speaking, django_assert_max_num_queries, monkeypatch
):
    monkeypatch.setattr(admin_views.years, "REPORT_PAGE_SIZE", 5)
    client.force_login(with_mfa(program_admin))
    for _ in range(3):
        certification = MACertificationFactory()
        ContributionFactory(member=certification.user, activity_type=speaking, state="verified", awarded_points=50)
    client.get("/admin/")  # the session's first request records it; measure the steady state
    with django_assert_max_num_queries(14) as few:
        response = _report(client, speaking.program_year)
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 3
    assert "Page 1 of" not in response.content.decode()

    for _ in range(9):
        certification = MACertificationFactory()
        ContributionFactory(member=certification.user, activity_type=speaking, state="verified", awarded_points=50)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = _report(client, speaking.program_year)
    html = response.content.decode()
    page = response.context["page"]
    assert page.paginator.count == 12 and len(page.object_list) == 5
    assert "Page 1 of 3" in html and "page=2" in html
    assert sum(response.context["chart"]["counts"]) == 12  # the chart covers every member, not the page

    last = client.get(f"/admin/contributions/programyear/{speaking.program_year.pk}/report/?page=3")
    assert len(last.context["page"].object_list) == 2
    exported = client.get(f"/admin/contributions/programyear/{speaking.program_year.pk}/report/?page=3&export=csv")
    assert len(exported.content.decode().strip().splitlines()) == 13  # header + every member


def test_report_computes_the_full_standing_of_one_page_only(client, program_admin, speaking, monkeypatch):
    """Every MA's status comes from SQL; the Python standing runs for the page's rows alone."""
    monkeypatch.setattr(admin_views.years, "REPORT_PAGE_SIZE", 5)
    client.force_login(with_mfa(program_admin))
    for n in range(12):
        certification = MACertificationFactory()
        ContributionFactory(
            member=certification.user, activity_type=speaking, state="verified", awarded_points=50 * (n % 3)
        )
    computed = []
    original = selectors.member_years

    def counting(**kwargs):
        computed.append(len(kwargs["members"]))
        return original(**kwargs)

    monkeypatch.setattr(selectors.report, "member_years", counting)  # where the report calls it
    response = _report(client, speaking.program_year)
    assert computed == [5]
    assert response.context["page"].paginator.count == 12
    assert sum(response.context["chart"]["counts"]) == 12
    names = [row.member.last_name for row in response.context["page"].object_list]
    assert names == sorted(names)


def _some_members(count, speaking, requirement):
    from contributions.models import OptOut, RequirementStatus, TargetOverride

    for n in range(count):
        member = MACertificationFactory().user
        ContributionFactory(member=member, activity_type=speaking, state="verified", awarded_points=40 * n)
        ContributionFactory(member=member, activity_type=speaking, state="submitted")
        if n % 2:
            RequirementStatus.objects.create(requirement=requirement, member=member, met_on=requirement.due_on)
        if n % 3 == 1:
            TargetOverride.objects.create(
                member=member, program_year=speaking.program_year, target_points=50, reason="x"
            )
        if n % 5 == 2:
            OptOut.objects.create(member=member, program_year=speaking.program_year, reason="Sabbatical")


@pytest.mark.parametrize("query", ["", "?page=2", "?status=at_risk", "?q=example", "?page=99"])
def test_report_page_queries_do_not_grow_with_the_number_of_mas(client, program_admin, speaking, query, monkeypatch):
    """The counts and the page come from one statement; the Python standing runs for the page's rows in
    a fixed number of queries: 12 MAs or 60, the same queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contributions.models import TechnicalRequirement

    monkeypatch.setattr(admin_views.years, "REPORT_PAGE_SIZE", 10)
    client.force_login(with_mfa(program_admin))
    requirement = TechnicalRequirement.objects.create(
        program_year=speaking.program_year, kind="exam", name="Exam", due_on=speaking.program_year.deadline
    )
    client.get("/admin/")
    counted = []
    for count in (12, 48):
        _some_members(count, speaking, requirement)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/admin/contributions/programyear/{speaking.program_year.pk}/report/{query}")
        assert response.status_code == 200
        counted.append(len(captured.captured_queries))
    # 14: session, user, authenticator, year, the staff member's permissions (2), the standing's counts, the
    # page's members with their override, opt-out and outcome of the year joined (from the index on the
    # names; by a status: the counts and page ids in one statement, then the members), the Python
    # standing's 4 (types, points by type, requirements, their statuses) and the queue's 2; a page past the
    # last costs no more.
    assert counted[0] == counted[1] <= 14, counted


def test_report_queue_size_of_a_year_is_counted_from_an_index_alone(speaking):
    """The report's queue size (`queue_stats` of the year) counts the year's submitted items from an
    index holding every column the count filters on (program year, state), not from the table's rows:
    25,000 submitted items cost ~15 ms by the table, ~2 ms by an index-only scan (issue 16)."""
    from django.db import connection

    from contributions.models import Contribution

    queue = selectors.verification_queue(program_year=speaking.program_year)
    filtered = {child.lhs.target.column for child in queue.query.where.children}
    assert filtered == {"state", "program_year_id"}
    table = Contribution._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    covering = [
        name for name, c in constraints.items() if c["index"] and set(c["columns"][: len(filtered)]) == filtered
    ]
    assert covering, f"no index of {table} leads with {sorted(filtered)}"
