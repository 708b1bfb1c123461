"""A 200-character unbroken title never widens a page past the screen (issue 13, finding 4)."""

from datetime import date

import pytest
from django.utils import timezone

from tests.factories import ActivityTypeFactory, ContributionFactory, MACertificationFactory, ProgramYearFactory
from tests.helpers import screenshot, sign_in_fast

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.mark.parametrize("viewport", ["page", "phone_page"])
def test_a_long_unbroken_title_wraps_on_dashboard_list_and_detail(request, live_server, member, viewport):
    page = request.getfixturevalue(viewport)
    year = ProgramYearFactory(year=timezone.localdate().year)
    speaking = ActivityTypeFactory(program_year=year, name="Speak at an event", points=100)
    MACertificationFactory(user=member, qualified_on=date(2024, 3, 10))
    withdrawn = ContributionFactory(
        member=member, activity_type=speaking, title="W" * 200, state="withdrawn", occurred_on=date(year.year, 3, 1)
    )
    sign_in_fast(page, live_server, member)
    for path in ("/", "/contributions/", f"/contributions/{withdrawn.pk}/"):
        page.goto(path)
        assert page.evaluate(OVERFLOW) <= 0, f"{path} scrolls sideways at {viewport}"
    screenshot(page, f"long-title-detail-{viewport}")
