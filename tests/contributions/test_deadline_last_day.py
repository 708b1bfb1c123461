"""Where a member reads the year's deadline, they read its last day, 31 Dec 2026, not 1 Jan 2027.

The deadline is stored as the first day after the year (spec 20-maintenance: requirements "must be complete
before" 1 January; the certificates expire that day). Shown bare, "deadline 1 Jan 2027" reads as a day a member
can still submit on; after the certificates' "valid until 31 Dec 2026" (b279ce4), the dashboard, the catalogue
and the reminders said the same deadline as the exclusive bound. They now name the last day, by
`ProgramYear.last_day`; the admin keeps the field as the program team typed it.
"""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.cache import cache

from accounts.models import Notification
from contributions import services
from contributions.services.submission import program_year_span

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now():
    cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield
    cache.clear()


def test_the_dashboard_counts_the_days_left_through_the_last_day(client, ma, year_2026):
    client.force_login(ma)
    html = client.get("/").content.decode()
    assert "days left, the last 31 Dec 2026" in html
    assert "1 Jan 2027" not in html


def test_after_the_last_day_the_dashboard_names_it(client, ma, year_2026):
    year_2026.grace_until = date(2027, 1, 15)  # still open to the late, so the dashboard still shows the year
    year_2026.save()
    with time_machine.travel(datetime(2027, 1, 5, 9, tzinfo=UTC), tick=False):
        client.force_login(ma)
        html = client.get("/").content.decode()
    assert "Last day was 31 Dec 2026" in html
    assert "1 Jan 2027" not in html


def test_the_catalogue_names_the_last_day(client, ma, year_2026, speaking):
    client.force_login(ma)
    html = client.get("/contributions/catalogue/").content.decode()
    assert "last day 31 December 2026" in html
    assert "1 January 2027" not in html


def test_the_reminder_names_the_last_day_and_the_days_left(ma, year_2026):
    assert services.maintenance_deadline_reminders_send(today=date(2026, 12, 7)) == 1
    body = Notification.objects.get(kind="maintenance.reminder").body
    assert "Last day: 31 Dec 2026 (25 days left)." in body
    assert "1 Jan 2027" not in body


def test_the_years_span_ends_on_its_last_day(year_2026):
    assert program_year_span(year_2026) == "1 Jan 2026 – 31 Dec 2026"


def test_an_opted_out_member_is_told_the_last_day_they_can_undo_it(client, ma, year_2026):
    client.force_login(ma)
    client.post("/contributions/opt-out/", {"reason": "Parental leave"})
    html = client.get("/").content.decode()
    assert "You can undo it until 31 Dec 2026." in html
    assert "1 Jan 2027" not in html
