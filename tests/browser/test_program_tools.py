"""The program team's daily tools in Debian's Chromium, through the real sign-in with MFA (issue 17):
an MA import's preview row by row, the home page at /admin/, and the queue's "decide and open the next"
by keyboard, at 1280 px."""

import re
from datetime import date, timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Notification, User
from accounts.roles import PROGRAM_ADMIN, VERIFIER
from contributions.models import Contribution
from tests.factories import (
    ActivityTypeFactory,
    CommunitySourceFactory,
    ContributionFactory,
    MACertificationFactory,
    NotificationFactory,
    ProgramYearFactory,
    StaffFactory,
    UserFactory,
)
from tests.helpers import screenshot, sign_in_fast, sign_in_staff, with_mfa

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

# A 2×2 PNG (red), real image bytes so the browser draws it.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000020000000208020000"
    "00fdd49a730000001649444154789c63f8cfc0c0f01f0418fe33c0000021fe03fd"
    "d9c1a1e70000000049454e44ae426082"
)


def test_an_ma_import_preview_lists_every_line_and_its_errors_download(page, tmp_path):
    paul = with_mfa(StaffFactory(email="paul@example.com", first_name="Paul", groups=[PROGRAM_ADMIN]))
    upload = tmp_path / "new-mas-december.csv"
    upload.write_text(
        "email,first_name,last_name,certificate_number,qualified_on,organization\n"
        "amelie@example.com,Amélie,Lefèvre,MA-2026-0301,2026-03-02,\n"
        "\n"
        "omar@example.com,Omar,Haddad,MA-2026-0302,11/03/2026,\n"
        "kenji@example.com,,Sato,MA-2026-0303,2026-01-15,\n",
        encoding="utf-8",
    )
    sign_in_staff(page, paul)
    page.goto("/admin/accounts/macertification/import/")
    page.get_by_label("File to import").set_input_files(str(upload))  # no format to choose: from the name
    page.get_by_role("button", name="Submit").click()
    rows = page.locator("#import-rows tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Line 2")
    expect(rows.nth(0)).to_contain_text("New")
    expect(rows.nth(1)).to_contain_text("Line 4")
    expect(rows.nth(1)).to_contain_text("Error: skipped")
    expect(rows.nth(1)).to_contain_text("“11/03/2026” is ambiguous")
    expect(rows.nth(2)).to_contain_text("Line 5")
    expect(page.get_by_text("2 new, 0 to update, 0 unchanged, 1 with an error")).to_be_visible()
    assert "None" not in page.locator("#import-rows").inner_text()
    shot = screenshot(page, "admin-import-preview")
    assert shot.stat().st_size > 10_000

    with page.expect_download() as download:
        page.get_by_role("button", name="Download the rows with errors (CSV)").click()
    report = download.value.path().read_bytes()
    assert download.value.suggested_filename == "new-mas-december-errors.csv"
    assert report.startswith("\ufeff".encode()) and b"ambiguous" in report and report.count(b"\n") == 2

    page.get_by_role("button", name="Confirm import").click()
    expect(page.get_by_text("Import finished: 2 new, 0 to update, 0 unchanged, 1 with an error.")).to_be_visible()
    assert set(User.objects.filter(email__endswith="@example.com", is_staff=False).values_list("email", flat=True)) == {
        "amelie@example.com",
        "kenji@example.com",
    }


def test_the_home_page_says_what_needs_attention(page):
    today = timezone.localdate()
    year = ProgramYearFactory(year=today.year, opens_on=date(today.year, 1, 1), deadline=date(today.year + 1, 1, 1))
    talk = ActivityTypeFactory(program_year=year, name="Talk", points=100)
    paul = with_mfa(StaffFactory(email="paul@example.com", first_name="Paul", last_name="Nash", groups=[PROGRAM_ADMIN]))
    for i in range(3):
        member = UserFactory(email=f"ma{i}@example.com")
        MACertificationFactory(user=member, qualified_on=date(2020, 1, 1))
        ContributionFactory(member=member, activity_type=talk, submitted_at=timezone.now() - timedelta(days=2 + i))
    star = UserFactory(email="star@example.com")
    MACertificationFactory(user=star, qualified_on=date(2020, 1, 1))
    ContributionFactory(
        member=star,
        activity_type=talk,
        state="verified",
        awarded_points=400,
        decided_by=paul,
        decided_at=timezone.now(),
    )
    NotificationFactory(user=star, email_state=Notification.EmailState.FAILED)
    CommunitySourceFactory(
        name="Anaplan Community", last_run_at=timezone.now() - timedelta(minutes=12), last_run_ok=True
    )

    from django.conf import settings

    from mahome.beat import DefaultsOnlyDatabaseScheduler
    from mahome.celery import app
    from mahome.job_runs import job_run_finished, job_run_started

    DefaultsOnlyDatabaseScheduler(app=app, lazy=True).update_from_dict(settings.CELERY_BEAT_SCHEDULE)
    job_run_started(periodic_task_name="maintenance-deadline-reminders", task="reminders")
    job_run_finished(periodic_task_name="maintenance-deadline-reminders", succeeded=True)
    job_run_started(periodic_task_name="community-sources-sync", task="sync")
    job_run_finished(periodic_task_name="community-sources-sync", succeeded=False, error="ConnectionError: timed out")

    sign_in_staff(page, paul)
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Verification queue")).to_be_visible()
    expect(page.get_by_role("link", name="3 items waiting")).to_be_visible()
    expect(page.get_by_text("The oldest has waited 4 days.")).to_be_visible()
    expect(page.locator(".home-verifiers li").first).to_have_text(re.compile(r"Paul Nash\s*1"))
    expect(page.get_by_role("link", name="1 email failed")).to_be_visible()
    expect(page.get_by_role("heading", name="Scheduled jobs")).to_be_visible()
    jobs = page.locator("#home-jobs ~ table tbody tr")
    expect(jobs.filter(has_text="community-sources-sync")).to_contain_text("Failed: ConnectionError: timed out")
    expect(jobs.filter(has_text="maintenance-deadline-reminders")).to_contain_text("Reminds members on track")
    expect(jobs.filter(has_text="maintenance-deadline-reminders")).to_contain_text("Succeeded")
    expect(page.get_by_text("Anaplan Community")).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")  # nothing runs off at 1280
    screenshot(page, "admin-home")
    page.locator(".home-status-met").click()
    expect(page).to_have_url(re.compile(r"/admin/accounts/macertification/\?year_status=met$"))
    expect(page.locator("#result_list")).to_contain_text(star.certification.certificate_number)
    expect(page.locator("#result_list tbody tr")).to_have_count(1)


def test_a_connector_error_without_spaces_stays_inside_the_home_page(page):
    """The walk saw the page run off at 1280 px: a failed sync's error (requests' own words, one
    unbroken "(HTTPSConnectionPool(host='…'," run) widened the Community connector panel."""
    paul = with_mfa(StaffFactory(email="paul@example.com", first_name="Paul", groups=[PROGRAM_ADMIN]))
    CommunitySourceFactory(
        name="Anaplan Community",
        last_run_at=timezone.now() - timedelta(minutes=1),
        last_run_ok=False,
        last_error=(
            "Could not reach https://community.example.invalid after 5 attempts "
            "(HTTPSConnectionPool(host='community.example.invalid',port=443):MaxRetriesExceeded)"
        ),
    )
    sign_in_staff(page, paul)
    page.goto("/admin/")
    expect(page.locator("#home-community ~ p")).to_contain_text("failed: Could not reach")
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    screenshot(page, "admin-home-connector-error")


def test_the_home_page_keeps_each_job_result_whole(page):
    """The walk saw "Succee/ded" broken over two lines when every result was short (no error beside it)."""
    from django.conf import settings

    from mahome.beat import DefaultsOnlyDatabaseScheduler
    from mahome.celery import app
    from mahome.job_runs import job_run_finished, job_run_started

    paul = with_mfa(StaffFactory(email="paul@example.com", first_name="Paul", groups=[PROGRAM_ADMIN]))
    DefaultsOnlyDatabaseScheduler(app=app, lazy=True).update_from_dict(settings.CELERY_BEAT_SCHEDULE)
    for name in ("engagements-offers-expire", "notifications-outbox-sweep", "worker-heartbeat"):
        job_run_started(periodic_task_name=name, task=name)
        job_run_finished(periodic_task_name=name, succeeded=True)
    sign_in_staff(page, paul)
    page.goto("/admin/")
    states = page.locator("#home-jobs ~ table tbody td strong")
    expect(states).to_have_count(3)
    for state in states.all():
        expect(state).to_have_text("Succeeded")
        lines = state.evaluate(
            "s => { const r = document.createRange(); r.selectNodeContents(s); return r.getClientRects().length; }"
        )
        assert lines == 1, f"{state.inner_text()!r} wraps over {lines} lines"
    screenshot(page, "admin-home-results")


def test_the_queue_decides_by_keyboard_and_opens_the_next(page):
    year = ProgramYearFactory(year=2026, target_points=400)
    talk = ActivityTypeFactory(program_year=year, code="talk", name="Speak at an event", points=100, annual_cap=300)
    vera = with_mfa(StaffFactory(email="vera@example.com", first_name="Vera", groups=[VERIFIER]))
    ava = UserFactory(email="ava@example.com", first_name="Ava", last_name="Patel")
    MACertificationFactory(user=ava, qualified_on=date(2024, 3, 10))
    ContributionFactory(member=ava, activity_type=talk, state="verified", awarded_points=100, claimed_points=100)
    first = ContributionFactory(
        member=ava,
        activity_type=talk,
        title="Keynote at the Anaplan user group in Lyon with a very long title that used to push columns out",
        submitted_at=timezone.now() - timedelta(days=12, hours=3),
    )
    first.evidence_file.save("keynote.png", ContentFile(PNG), save=True)
    second = ContributionFactory(
        member=ava, activity_type=talk, title="Panel at Connect", submitted_at=timezone.now() - timedelta(days=2)
    )

    sign_in_staff(page, vera)
    page.goto("/admin/contributions/contribution/")
    expect(page.get_by_role("heading", name="Verification queue", exact=True)).to_be_visible()
    waiting = page.locator("td.field-waiting").first
    expect(waiting).to_contain_text("1\u00a0week")
    clipped = waiting.evaluate(
        "cell => cell.scrollWidth > cell.clientWidth || cell.getBoundingClientRect().right > window.innerWidth"
    )
    table, room = page.locator("#result_list").evaluate("t => [t.scrollWidth, t.parentElement.clientWidth]")
    assert table <= room  # the whole list fits beside the navigation and the filters
    assert clipped is False
    lines = waiting.evaluate(
        "cell => { const r = document.createRange(); r.selectNodeContents(cell); return r.getClientRects().length; }"
    )
    assert lines == 1  # "1 week", on one line
    screenshot(page, "admin-queue-1280")

    page.get_by_role("link", name="Decide").first.click()
    expect(page.get_by_role("heading", name=first.title, exact=True)).to_be_visible()
    year_panel = page.locator("#member-year")
    expect(year_panel).to_contain_text("Target")
    expect(year_panel).to_contain_text("400")
    expect(year_panel).to_contain_text("Cap left for this type")
    expect(year_panel).to_contain_text("200")
    image = page.locator("img.evidence-preview")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.naturalWidth") == 2
    expect(page.get_by_text("1 more waiting in the queue.")).to_be_visible()
    screenshot(page, "admin-decide")

    # Keyboard only: the decision has the focus; Space picks "Verify"; Alt+N decides and opens the next.
    page.keyboard.press("Space")
    expect(page.get_by_label("Verify")).to_be_checked()
    page.keyboard.press("Alt+KeyN")
    expect(page.get_by_role("heading", name="Panel at Connect", exact=True)).to_be_visible()
    first.refresh_from_db()
    assert first.state == Contribution.State.VERIFIED and first.decided_by == vera
    page.keyboard.press("Space")
    page.keyboard.press("Control+Enter")  # the other shortcut
    expect(page.get_by_text("The queue is empty")).to_be_visible()
    second.refresh_from_db()
    assert second.state == Contribution.State.VERIFIED


def test_the_queue_fits_at_1280_with_the_demo_s_names_and_types(page, live_server):
    """The walk, on the demo data: the list was 692 px in 631 ("4 minu…" clipped under the filters) and the
    activity type filter listed every type of every year (~70), a sidebar 3,400 px tall."""
    from tests.a11y.test_pages import _world

    world = _world()
    sign_in_fast(page, live_server, world["people"]["paul.admin"])
    page.goto("/admin/contributions/contribution/")
    expect(page).to_have_title("Verification queue | MA Home admin")
    table, room = page.locator("#result_list").evaluate("t => [t.scrollWidth, t.parentElement.clientWidth]")
    assert table <= room, f"the list is {table} px wide in {room}"
    for cell in page.locator("td.field-waiting").all():
        right, edge = cell.evaluate(
            "c => [c.getBoundingClientRect().right, c.closest('.results').getBoundingClientRect().right]"
        )
        assert right <= edge, cell.inner_text()
    types = page.locator("#changelist-filter details", has_text="By activity type").locator("li")
    assert 2 < types.count() <= 25, types.count()
    sidebar = page.locator("#changelist-filter").evaluate("f => f.scrollHeight")
    assert sidebar < 2000, f"the filters are {sidebar} px tall"
    screenshot(page, "admin-queue-demo-1280")


def test_a_periodic_task_s_crontab_is_read_out_in_words(page):
    """django-celery-beat's form explains the chosen crontab; its inline script was blocked by the CSP."""
    from django.conf import settings
    from django_celery_beat.models import PeriodicTask

    from mahome.beat import DefaultsOnlyDatabaseScheduler
    from mahome.celery import app

    paul = with_mfa(StaffFactory(email="paul@example.com", first_name="Paul", groups=[PROGRAM_ADMIN]))
    DefaultsOnlyDatabaseScheduler(app=app, lazy=True).update_from_dict(settings.CELERY_BEAT_SCHEDULE)
    reminders = PeriodicTask.objects.get(name="maintenance-deadline-reminders")
    monthly = PeriodicTask.objects.get(name="maintenance-monthly-status")
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    sign_in_staff(page, paul)
    page.goto(f"/admin/django_celery_beat/periodictask/{reminders.pk}/change/")
    words = page.locator(".field-crontab .help .crontab-translation")
    expect(words).to_have_text(f"Translation: {reminders.crontab.human_readable}")
    expect(page.locator(".field-crontab_translation")).to_be_hidden()
    page.locator("#id_crontab").select_option(str(monthly.crontab_id))
    expect(words).to_have_text(f"Translation: {monthly.crontab.human_readable}")
    screenshot(page, "admin-periodic-task-crontab")
    page.goto("/admin/django_celery_beat/periodictask/add/")
    expect(words).to_have_text("")
    page.locator("#id_crontab").select_option(str(reminders.crontab_id))
    expect(words).to_have_text(f"Translation: {reminders.crontab.human_readable}")
    assert not problems, problems
