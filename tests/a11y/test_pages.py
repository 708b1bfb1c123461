"""Every page a member (or a visitor signing in) sees, in a real browser at desktop and phone width:

* axe-core (tests/a11y/node_modules, from package-lock.json) finds no serious or critical violation;
* the Content-Security-Policy (no unsafe-inline) blocks nothing: no `securitypolicyviolation`
  event and no CSP message in the console;
* a screenshot of each is saved under var/screenshots/a11y-<page>-<desktop|phone>.png.

axe is added with `context.add_init_script(path=...)`: DevTools-injected scripts are not subject
to the page's CSP, whereas `page.add_script_tag` would insert an inline <script> that the strict
policy rightly blocks (and would itself count as a violation).
"""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string

from tests.helpers import SCREENSHOT_DIR, screenshot, sign_in_fast, with_mfa

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${where})`);
});
"""
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
}"""


def _prepare(page, problems: list[str]):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in tests/a11y (scripts/test does).")
    page.context.add_init_script(script=WATCH_CSP)
    page.context.add_init_script(path=str(AXE))
    page.on(
        "console",
        lambda message: (
            problems.append(f"{page.url}: console: {message.text}")
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text
            else None
        ),
    )


# Viewport-sized (not full-page) shots for the README: copied to docs/screenshots/ by hand.
README_SHOTS = {
    ("dashboard-ava", "desktop"): "dashboard",
    ("dashboard-ava", "phone"): "dashboard-phone",
    ("sign-in", "desktop"): "sign-in",
    ("opportunity", "desktop"): "opportunity",
    ("community-me", "desktop"): "community-me",
    ("admin-queue", "desktop"): "admin-queue",
    ("catalogue", "phone"): "catalogue-phone",
    ("help", "desktop"): "help",
    ("account-sessions", "phone"): "sessions-phone",
}


def _check(page, name: str, width: str, problems: list[str], *, axe: bool = True) -> None:
    page.wait_for_load_state("load")
    for violation in page.evaluate("window.__cspViolations || []"):
        problems.append(f"{name} [{width}]: CSP: {violation}")
    if axe:
        for violation in page.evaluate(AXE_RUN):
            problems.append(f"{name} [{width}]: axe: {violation}")
    screenshot(page, f"a11y-{name}-{width}")
    if (name, width) in README_SHOTS:
        page.screenshot(path=str(SCREENSHOT_DIR / f"readme-{README_SHOTS[name, width]}.png"))


def _visit(page, name, path, width, problems, *, status=200):
    response = page.goto(path)
    if response is None or response.status != status:
        problems.append(f"{name} [{width}]: {path} answered {response.status if response else 'nothing'}")
    _check(page, name, width, problems)


def _serve(body: str, csp: str):
    """A Playwright route handler answering with `body` under the site's policy."""
    return lambda route: route.fulfill(
        status=200, body=body, content_type="text/html", headers={"Content-Security-Policy": csp}
    )


def _world():
    """The demo data (realistic pages), plus a member who is not an MA and a certificate."""
    from accounts.models import User
    from contributions.models import Certificate, Contribution
    from engagements.models import Opportunity
    from tests.factories import UserFactory

    call_command("seed_demo", stdout=io.StringIO())
    people = {
        email.split("@")[0]: User.objects.get(email=email)
        for email in (
            "ava.member@example.com",
            "ben.member@example.com",
            "cara.met@example.com",
            "eli.lapsed@example.com",
            "paul.admin@example.com",
        )
    }
    people["not-an-ma"] = UserFactory(email="noor.guest@example.com", first_name="Noor", last_name="Haddad")
    with_mfa(people["paul.admin"])
    ava = people["ava.member"]
    certificate = Certificate.objects.order_by("-year").first()
    return {
        **_ben_asked_and_owing(people),
        "people": people,
        "contribution": Contribution.objects.filter(member=ava).order_by("-pk").first(),
        "opportunity": Opportunity.objects.filter(state="published").order_by("starts_at").first(),
        "certificate": certificate,
    }


def _crontab_task():
    """A scheduled job on a crontab (beat creates them from CELERY_BEAT_SCHEDULE when it starts)."""
    from django.conf import settings
    from django_celery_beat.models import PeriodicTask

    from mahome.beat import DefaultsOnlyDatabaseScheduler
    from mahome.celery import app

    DefaultsOnlyDatabaseScheduler(app=app, lazy=True).update_from_dict(settings.CELERY_BEAT_SCHEDULE)
    return PeriodicTask.objects.filter(crontab__isnull=False).order_by("name").first()


def _ben_asked_and_owing(people) -> dict:
    """Ben (certified in June) with a verifier's question to answer and a training he owes to report."""
    from contributions import selectors
    from contributions import services as contribution_services
    from contributions.models import ActivityType, TechnicalRequirement
    from tests.factories import ContributionFactory

    ben = people["ben.member"]
    current = selectors.program_year_current()
    manual = ActivityType.objects.filter(program_year=current, tracking="manual", is_active=True).first()
    asked = ContributionFactory(
        member=ben,
        activity_type=manual,
        title="Lunch-and-learn for a customer team",
        state="submitted",
        evidence_url="https://example.com/lunch-and-learn",
    )
    contribution_services.contribution_decide(
        contribution_id=asked.pk,
        verifier=people["paul.admin"],
        decision="needs_info",
        note="Which customer was it, and how many attended?",
    )
    owed = (
        TechnicalRequirement.objects.filter(program_year=current, due_on__gte=ben.certification.qualified_on)
        .order_by("due_on")
        .first()
    )
    return {"asked": asked, "owed": owed}


def _member_pages(world):
    return [
        ("dashboard-ava", "ava.member", "/"),
        ("dashboard-ben", "ben.member", "/"),
        ("dashboard-cara", "cara.met", "/"),
        ("dashboard-eli", "eli.lapsed", "/"),
        ("dashboard-not-an-ma", "not-an-ma", "/"),
        ("profile", "ava.member", "/profile/"),
        ("notifications", "ava.member", "/notifications/"),
        ("contributions", "ava.member", "/contributions/"),
        ("contribution-new", "ava.member", "/contributions/new/"),
        ("contribution-detail", "ava.member", f"/contributions/{world['contribution'].pk}/"),
        ("catalogue", "ava.member", "/contributions/catalogue/"),
        ("contribution-needs-info", "ben.member", f"/contributions/{world['asked'].pk}/"),
        ("contribution-answer-edit", "ben.member", f"/contributions/{world['asked'].pk}/edit/"),
        *(
            [("requirement-report", "ben.member", f"/contributions/requirements/{world['owed'].pk}/report/")]
            if world["owed"]
            else []
        ),
        ("engagements", "ava.member", "/engagements/"),
        ("opportunity", "ava.member", f"/engagements/{world['opportunity'].slug}/"),
        ("engagements-mine", "ava.member", "/engagements/mine/"),
        ("suggestions", "ava.member", "/engagements/suggestions/"),
        ("community-levels", "ava.member", "/community/levels/"),
        ("community-me", "ava.member", "/community/me/"),
        ("community-boss", "ava.member", "/community/boss/"),
        ("help", "ava.member", "/help/"),
        ("status", "ava.member", "/status/"),
        ("not-found", "ava.member", "/contributions/999999/", 404),
        ("certificates", "ava.member", "/certificates/"),
        ("verify", None, f"/verify/{world['certificate'].verification_code}/"),
    ]


def test_member_pages_are_accessible_and_csp_clean(page, phone_page, live_server):
    world = _world()
    problems: list[str] = []
    for width, browser_page in (("desktop", page), ("phone", phone_page)):
        _prepare(browser_page, problems)
        current = object()
        for name, who, path, *status in _member_pages(world):
            if who != current:
                browser_page.context.clear_cookies()
                if who:
                    sign_in_fast(browser_page, live_server, world["people"][who])
                current = who
            _visit(browser_page, name, path, width, problems, status=status[0] if status else 200)
    assert not problems, "\n".join(problems)


def test_sign_in_pages_are_accessible_and_csp_clean(page, phone_page, live_server):
    from accounts.models import Organization, SSOConnection
    from tests.factories import OrganizationFactory, UserFactory, sso_connection_create

    UserFactory(email="ava@example.com", first_name="Ava")
    contoso = OrganizationFactory(
        name="Contoso", fallback_policy=Organization.FallbackPolicy.SSO_REQUIRED, domains=["contoso.example"]
    )
    sso_connection_create(
        organization=contoso,
        kind=SSOConnection.Kind.SAML,
        slug="contoso",
        idp_entity_id="urn:contoso:idp",
        idp_metadata_url="http://127.0.0.1:9/metadata",
    )
    refused = render_to_string(
        "accounts/sso_refused.html",
        {
            "reason": "foreign_domain",
            "email": "chloe@gmail.example",
            "organization": contoso,
            "domains": ["contoso.example"],
            "support_email": "ma-program@mahome.example",
        },
    )
    problems: list[str] = []
    for width, browser_page in (("desktop", page), ("phone", phone_page)):
        _prepare(browser_page, problems)
        _visit(browser_page, "sign-in", "/accounts/login/", width, problems)
        browser_page.get_by_label("Email").fill("ava@example.com")
        browser_page.get_by_role("button", name="Continue").click()
        browser_page.get_by_label("Password").wait_for()
        _check(browser_page, "sign-in-password", width, problems)
        browser_page.get_by_label("Password").fill("not the password")
        browser_page.get_by_role("button", name="Sign In").click()
        _check(browser_page, "sign-in-wrong-password", width, problems)
        _visit(browser_page, "sign-in-sso-required", "/accounts/login/?email=chloe@contoso.example", width, problems)
        _visit(browser_page, "reset", "/accounts/password/reset/", width, problems)
        browser_page.get_by_label("Email").fill("chloe@contoso.example")
        browser_page.get_by_role("button", name="Reset My Password").click()
        _check(browser_page, "reset-refused", width, problems)
        _visit(browser_page, "reset-done", "/accounts/password/reset/done/", width, problems)
        _visit(browser_page, "reset-bad-link", "/accounts/password/reset/key/1-not-a-key/", width, problems)
        # The SSO refusal page is only reached through a live identity provider (tests/browser/test_sso.py);
        # here the server-rendered page is served at a URL of the site, with the site's CSP.
        csp = browser_page.request.get("/accounts/login/").headers["content-security-policy"]
        browser_page.route("**/sso-refused-preview/", _serve(refused, csp))
        _visit(browser_page, "sso-refused", "/sso-refused-preview/", width, problems)
    assert not problems, "\n".join(problems)

    # The watchers are not blind: a page with an inline script, an inline style and an unlabelled
    # input, under the same policy, is reported on all three counts.
    canary = '<!doctype html><html lang="en"><title>x</title><main><p style="color:red">x</p>'
    canary += '<input type="text"><script>document.title = "ran"</script></main></html>'
    page.route("**/csp-canary/", _serve(canary, csp))
    _visit(page, "canary", "/csp-canary/", "desktop", problems)
    assert page.title() == "x"
    found = "\n".join(problems)
    assert "script-src-elem blocked inline" in found and "style-src-attr blocked inline" in found, found
    assert "axe: label (critical)" in found, found


def test_admin_pages_are_csp_clean(page, live_server):
    world = _world()
    from contributions.models import Contribution, ProgramYear

    problems: list[str] = []
    _prepare(page, problems)
    sign_in_fast(page, live_server, world["people"]["paul.admin"])
    submitted = Contribution.objects.filter(state="submitted").first()
    verified = Contribution.objects.filter(state="verified").first()
    year = ProgramYear.objects.order_by("-year").first()
    for name, path in (
        ("admin-index", "/admin/"),
        ("admin-queue", "/admin/contributions/contribution/?state__exact=submitted"),
        ("admin-contribution", f"/admin/contributions/contribution/{submitted.pk}/change/"),
        ("admin-decide", f"/admin/contributions/contribution/{submitted.pk}/decide/"),
        ("admin-correct", f"/admin/contributions/contribution/{verified.pk}/correct/"),
        ("admin-requirement-import", "/admin/contributions/requirementstatus/import/"),
        ("admin-report", f"/admin/contributions/programyear/{year.pk}/report/"),
        ("admin-review", f"/admin/contributions/programyear/{year.pk}/review/"),
        ("admin-import", "/admin/accounts/macertification/import/"),
        ("admin-export", "/admin/contributions/requirementstatus/export/"),
        ("admin-provision", "/admin/accounts/macertification/provision/"),
        ("admin-levels-preview", "/admin/community_levels/level/preview/"),
        ("admin-opportunity-add", "/admin/engagements/opportunity/add/"),
        # django-celery-beat's form inlined its crontab "Translation" script (blocked, so never shown).
        ("admin-periodic-task-add", "/admin/django_celery_beat/periodictask/add/"),
        ("admin-periodic-task-change", f"/admin/django_celery_beat/periodictask/{_crontab_task().pk}/change/"),
        ("admin-user", f"/admin/accounts/user/{world['people']['ava.member'].pk}/change/"),
    ):
        response = page.goto(path)
        if response.status != 200 or not page.url.split("?")[0].endswith(path.split("?")[0]):
            problems.append(f"{name}: {path} answered {response.status}")
        _check(page, name, "desktop", problems, axe=False)  # the Django admin's markup is Django's
    assert not problems, "\n".join(problems)

    # The export page's "Select all" works without its inline handler (templates/admin/import_export).
    page.goto("/admin/contributions/requirementstatus/export/")
    checked = "document.querySelectorAll('.selectable-field-export-row input[type=checkbox]:checked').length"
    assert page.evaluate(checked) > 0
    page.get_by_label("Select all").uncheck()
    assert page.evaluate(checked) == 0


def test_account_pages_are_accessible_csp_clean_and_fit_a_phone(page, phone_page, live_server):
    """allauth's pages in MA Home's design (issue 13, finding 6): axe, CSP, and no sideways scroll."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.usersessions.models import UserSession

    from accounts.models import SSOConnection
    from tests.factories import OrganizationFactory, UserFactory, sso_connection_create

    northwind = OrganizationFactory(name="Northwind Partners", domains=["northwind.example"])
    sso_connection_create(
        organization=northwind,
        kind=SSOConnection.Kind.OIDC,
        slug="northwind",
        server_url="https://login.northwind.example",
        client_id="ma-home",
        client_secret="s3cret",
    )
    nora = UserFactory(email="nora.lind@northwind.example", first_name="Nora", organization=northwind)
    with_mfa(nora)
    RecoveryCodes.activate(nora)
    omar = UserFactory(email="omar.haddad@northwind.example", first_name="Omar", organization=northwind)
    omar.set_unusable_password()
    omar.save()
    invitation = f"/accounts/password/reset/key/{user_pk_to_url_str(omar)}-{default_token_generator.make_token(omar)}/"
    problems: list[str] = []
    for width, browser_page in (("desktop", page), ("phone", phone_page)):
        _prepare(browser_page, problems)
        browser_page.context.clear_cookies()
        _visit(browser_page, "first-password", invitation, width, problems)
        _visit(browser_page, "reset-done", "/accounts/password/reset/done/", width, problems)
        _visit(browser_page, "reset-bad-link", "/accounts/password/reset/key/1-not-a-key/", width, problems)
        # allauth's session middleware records this browser (user agent, address) for the sessions page.
        sign_in_fast(browser_page, live_server, nora)
        for name, path in (
            ("account-email", "/accounts/email/"),
            ("account-password", "/accounts/password/change/"),
            ("account-mfa", "/accounts/2fa/"),
            ("account-recovery-codes", "/accounts/2fa/recovery-codes/"),
            ("account-sessions", "/accounts/sessions/"),
            ("account-sso", "/accounts/3rdparty/"),
            ("account-sign-out", "/accounts/logout/"),
        ):
            _visit(browser_page, name, path, width, problems)
            overflow = browser_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 0:
                problems.append(f"{name} [{width}]: {overflow}px wider than the screen")
        assert UserSession.objects.filter(user=nora).exists()
    assert not problems, "\n".join(problems)
