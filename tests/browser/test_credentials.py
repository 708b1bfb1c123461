"""The public credential page (valid, expired, revoked, hidden) at 1280 and 390 px, and the member's
certificates list: screenshots under var/screenshots/, no horizontal scrolling, no console error."""

from datetime import date

import pytest
from django.utils import timezone

from contributions import services
from contributions.models import Certificate
from tests.factories import MACertificationFactory, ProgramYearFactory, StaffFactory, UserFactory
from tests.helpers import SCREENSHOT_DIR, screenshot, sign_in_fast

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture
def certificates(db):
    year = timezone.localdate().year
    ProgramYearFactory(year=year, target_points=400)
    member = UserFactory(email="ava@example.com", first_name="Ava", last_name="Patel")
    staff = StaffFactory(email="paul@example.com", first_name="Paul")
    MACertificationFactory(user=member, qualified_on=date(year - 2, 3, 10))
    services.certificates_issue_missing(member=member)
    by_year = {c.year: c for c in Certificate.objects.filter(member=member)}
    valid, expired = by_year[year], by_year[year - 1]
    other = UserFactory(email="ben@example.com", first_name="Ben", last_name="Okafor")
    MACertificationFactory(user=other, qualified_on=date(year, 2, 1))
    services.certificates_issue_missing(member=other)
    revoked = services.certificate_revoke(
        certificate=Certificate.objects.get(member=other), reason="The qualifying exam result was annulled.", by=staff
    )
    hidden_owner = UserFactory(email="cara@example.com", first_name="Cara", last_name="Nguyen")
    MACertificationFactory(user=hidden_owner, qualified_on=date(year, 5, 2))
    services.certificates_issue_missing(member=hidden_owner)
    hidden = services.certificate_set_public(
        certificate=Certificate.objects.get(member=hidden_owner), member=hidden_owner, is_public=False
    )
    return member, {"valid": valid, "expired": expired, "revoked": revoked, "hidden": hidden}


def _new_page(browser, live_server, size):
    width, height = size
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": height}, is_mobile=width < 600
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return context, page, problems


EXPECTED = {
    "valid": "Valid until",
    "expired": "Expired after",
    "revoked": "Revoked on",
    "hidden": "This certificate is not public",
}


def test_public_page_in_every_state_at_both_widths(browser, live_server, certificates):
    _member, by_state = certificates
    for label, size in WIDTHS.items():
        context, page, problems = _new_page(browser, live_server, size)
        for state, certificate in by_state.items():
            page.goto(f"/verify/{certificate.verification_code}/")
            assert EXPECTED[state] in page.inner_text("main"), state
            if state == "revoked":
                assert "The qualifying exam result was annulled." in page.inner_text(".status-banner")
            if state == "hidden":
                assert "Cara" not in page.inner_text("main")
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= size[0], f"{state} at {label}: {scroll}px wide"
            screenshot(page, f"credential-{state}-{label}")
        assert not problems, problems
        context.close()


def test_members_certificates_list_at_both_widths(browser, live_server, certificates):
    member, by_state = certificates
    for label, size in WIDTHS.items():
        context, page, problems = _new_page(browser, live_server, size)
        sign_in_fast(page, live_server, member)
        page.goto("/certificates/")
        text = page.inner_text("main")
        assert by_state["valid"].number in text and by_state["expired"].number in text
        assert "Add to LinkedIn" in text and "Download PDF" in text
        overflow = page.evaluate(
            "[...document.querySelectorAll('.table-wrap')].some(w => w.scrollWidth > w.clientWidth)"
        )
        assert not overflow, f"the list scrolls sideways at {label}"
        screenshot(page, f"certificates-list-{label}")
        assert not problems, problems
        context.close()


def test_current_certificate_card_status_fits_its_card_at_both_widths(browser, live_server, certificates):
    """The walk found "Valid until 1 Jan 2027." in the badge, past the card's right edge on / and /profile/."""
    member, _by_state = certificates
    for label, size in WIDTHS.items():
        context, page, problems = _new_page(browser, live_server, size)
        sign_in_fast(page, live_server, member)
        for path in ("/", "/profile/"):
            page.goto(path)
            pill = page.locator(".card .facts .pill").first
            assert pill.inner_text() == "Valid", f"{path} at {label}: the badge says {pill.inner_text()!r}"
            facts = page.locator(".card .facts").first
            assert "Valid until" in facts.inner_text(), f"{path} at {label}: the date is missing"
            sticks_out = pill.evaluate(
                "pill => pill.getBoundingClientRect().right - pill.closest('.card').getBoundingClientRect().right"
            )
            assert sticks_out <= 0, f"{path} at {label}: the badge sticks out of its card by {sticks_out}px"
            card = page.locator(".card", has=page.locator(".facts .pill")).first
            card.screenshot(path=str(SCREENSHOT_DIR / f"certificate-card-{path.strip('/') or 'dashboard'}-{label}.png"))
        assert not problems, problems
        context.close()
