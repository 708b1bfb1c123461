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
    monkeypatch.setattr(admin_views, "REPORT_PAGE_SIZE", 5)
    client.force_login(with_mfa(program_admin))
    for _ in range(3):
        certification = MACertificationFactory()
        ContributionFactory(member=certification.user, activity_type=speaking, state="verified", awarded_points=50)
    client.get("/admin/")  # the session's first request records it; measure the steady state
    with django_assert_max_num_queries(18) as few:
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
    monkeypatch.setattr(admin_views, "REPORT_PAGE_SIZE", 5)
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

    monkeypatch.setattr(selectors, "member_years", counting)
    response = _report(client, speaking.program_year)
    assert computed == [5]
    assert response.context["page"].paginator.count == 12
    assert sum(response.context["chart"]["counts"]) == 12
    names = [row.member.last_name for row in response.context["page"].object_list]
    assert names == sorted(names)
