"""iCalendar (RFC 5545) files for scheduled engagements, built with the `icalendar` package."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from engagements.models import SignUp

DEFAULT_DURATION = timedelta(hours=1)


def signup_calendar_start(*, signup: SignUp) -> datetime | None:
    """When the member's engagement takes place: the date staff scheduled, else the opportunity's."""
    return signup.scheduled_for or signup.opportunity.starts_at


def signup_calendar(*, signup: SignUp) -> bytes:
    """One VEVENT in UTC (so no VTIMEZONE is needed); UID is stable, so re-imports update the event."""
    start = signup_calendar_start(signup=signup)
    if start is None:
        raise ValueError("A sign-up without a date has no calendar entry.")
    opportunity = signup.opportunity
    start = start.astimezone(UTC)
    if signup.scheduled_for is None and opportunity.ends_at:
        end = opportunity.ends_at.astimezone(UTC)
    else:
        end = start + DEFAULT_DURATION
    calendar = Calendar()
    calendar.add("prodid", "-//MA Home//Engagements//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    event = Event()
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0]
    event.add("uid", f"signup-{signup.pk}@{host}")
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", opportunity.title)
    description = signup.next_steps or opportunity.summary
    event.add("description", f"{description}\n\n{settings.SITE_URL}{opportunity.get_absolute_url()}")
    event.add("location", opportunity.location or "Virtual")
    event.add("url", f"{settings.SITE_URL}{opportunity.get_absolute_url()}")
    calendar.add_component(event)
    return calendar.to_ical()
