"""Every member page at 390×844, on the demo data (issue 13, finding 9).

The navigation scrolled sideways with no cue ("Opportunitie", Community and Profile hidden), the
catalogue was an 11,400-px stack of table rows, and the opportunity filters pushed every
opportunity below the fold. Each page's screenshot is saved as var/screenshots/phone-<page>.png.
"""

import pytest

from tests.a11y.test_pages import _member_pages, _world
from tests.helpers import SCREENSHOT_DIR, screenshot, sign_in_fast

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

WIDER_THAN_THE_SCREEN = "document.documentElement.scrollWidth - window.innerWidth"


def test_no_member_page_scrolls_sideways_on_a_phone(phone_page, live_server):
    world = _world()
    problems = []
    current = object()
    for name, who, path, *_status in _member_pages(world):
        if who != current:
            phone_page.context.clear_cookies()
            if who:
                sign_in_fast(phone_page, live_server, world["people"][who])
            current = who
        phone_page.goto(path)
        overflow = phone_page.evaluate(WIDER_THAN_THE_SCREEN)
        if overflow > 0:
            problems.append(f"{name}: {overflow}px wider than the screen")
        screenshot(phone_page, f"phone-{name}")
        phone_page.screenshot(path=str(SCREENSHOT_DIR / f"phone-{name}-first-screen.png"))
    assert not problems, "\n".join(problems)


def test_the_phone_navigation_is_a_menu_button(phone_page, page, live_server):
    world = _world()
    sign_in_fast(phone_page, live_server, world["people"]["ava.member"])
    phone_page.goto("/")
    menu = phone_page.get_by_role("button", name="Menu")
    assert menu.is_visible()
    assert menu.get_attribute("aria-expanded") == "false"
    profile = phone_page.get_by_role("navigation", name="Main").get_by_role("link", name="Profile")
    assert not profile.is_visible()
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    for label in ("Dashboard", "Contributions", "Opportunities", "Community", "Profile"):
        link = phone_page.get_by_role("navigation", name="Main").get_by_role("link", name=label, exact=True)
        assert link.is_visible(), label
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, label
    screenshot(phone_page, "phone-menu-open")
    phone_page.keyboard.press("Escape")
    assert menu.get_attribute("aria-expanded") == "false"
    profile.wait_for(state="hidden")
    # On a desktop the links are simply there, with no menu button.
    sign_in_fast(page, live_server, world["people"]["ava.member"])
    page.goto("/")
    assert not page.get_by_role("button", name="Menu").is_visible()
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Profile").is_visible()


def test_the_catalogue_is_cards_grouped_by_category_on_a_phone(phone_page, live_server):
    world = _world()
    sign_in_fast(phone_page, live_server, world["people"]["ava.member"])
    phone_page.goto("/contributions/catalogue/")
    assert phone_page.locator("table").count() == 0
    this_year = phone_page.locator(".catalogue-year").first
    groups = this_year.locator(".activity-group")
    assert groups.count() >= 4
    for index in range(groups.count()):
        group = groups.nth(index)
        assert group.get_by_role("heading").first.is_visible()
        assert group.locator(".activity-card").count() >= 1
    first_card = phone_page.locator(".activity-card").first
    assert "point" in first_card.inner_text()
    height = phone_page.evaluate("document.documentElement.scrollHeight")
    assert height < 11_400 / 2, f"catalogue is {height}px tall on a phone"
    screenshot(phone_page, "phone-catalogue")
    later = phone_page.locator("details.catalogue-later")
    if later.count():  # next year's catalogue, once published, is one tap away
        assert later.first.get_attribute("open") is None
        later.first.locator("summary").click()
        assert later.first.locator(".activity-card").first.is_visible()


def test_opportunity_filters_fold_away_on_a_phone_and_stay_open_on_a_desktop(phone_page, page, live_server):
    world = _world()
    sign_in_fast(phone_page, live_server, world["people"]["ava.member"])
    phone_page.goto("/engagements/")
    filters = phone_page.locator("details.engagement-filters")
    assert filters.get_attribute("open") is None
    assert not phone_page.get_by_label("Category").is_visible()
    first = phone_page.locator(".opportunity-card").first
    assert first.bounding_box()["y"] < 844, "the first opportunity is below the fold"
    phone_page.get_by_text("Filters", exact=False).first.click()
    assert phone_page.get_by_label("Category").is_visible()
    screenshot(phone_page, "phone-opportunities-filters")
    phone_page.goto("/engagements/?category=blog")
    assert "1 active" in phone_page.locator("details.engagement-filters summary").inner_text()
    sign_in_fast(page, live_server, world["people"]["ava.member"])
    page.goto("/engagements/")
    assert page.get_by_label("Category").is_visible()


def test_my_signups_stack_into_cards_on_a_phone(phone_page, live_server):
    """The walk found the sign-ups table clipped sideways on a phone: Details and "Add to calendar" hidden."""
    world = _world()
    sign_in_fast(phone_page, live_server, world["people"]["ava.member"])
    phone_page.goto("/engagements/mine/")
    assert not phone_page.locator("table thead").is_visible()
    scrolls = phone_page.evaluate(
        "[...document.querySelectorAll('.table-wrap')].some(w => w.scrollWidth > w.clientWidth)"
    )
    assert not scrolls, "the sign-ups table scrolls sideways"
    calendar = phone_page.get_by_role("link", name="Add to calendar").first
    assert calendar.is_visible()
    for cell in (calendar, phone_page.locator("td[data-label='Details']").first):
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, cell
    screenshot(phone_page, "phone-engagements-mine-cards")
