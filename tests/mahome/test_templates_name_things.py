"""Templates name states and pages, never spell them (issue 15, finding 7).

A state is asked of its model (`contribution.is_needs_info`, `signup.is_waitlisted`), whose property
compares with the model's `TextChoices`; a page is linked with `{% url %}`. A renamed choice or a
moved page then fails in one place (or at render time), instead of silently hiding a button or
leaving a dead link. The main navigation marks the current section from the resolved URL's
namespace, not from slices of the path."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]

# `{% if x == "literal" %}`, `{% elif x != 'literal' %}`, `{% if "literal" == x %}`, `{% if "a" in x %}`.
STRING_COMPARISON = re.compile(
    r"""\{%-?\s*(?:el)?if\b[^%]*?(?:(?:==|!=|\bin)\s*["']|["']\s*(?:==|!=|(?:not\s+)?in\b))"""
)
# href="/…", action="/…", hx-get="/…" and the like: a typed path instead of {% url %}.
TYPED_PATH = re.compile(r"""\b(?:href|action|src|hx-(?:get|post|put|patch|delete))=["']/""")

# The few comparisons with strings that are not ours to name, each with its reason.
ALLOWED_COMPARISONS = {
    # allauth's own context value (`process`), compared as allauth's template does.
    ("socialaccount/login.html", 'process == "connect"'),
    # allauth's element API: its templates call `{% element alert level="error" %}` and
    # `{% element button tags="danger" %}`; the levels and tags are theirs.
    ("allauth/elements/alert.html", "attrs.level"),
    ("allauth/elements/button.html", "attrs.tags"),
    # allauth's MFA settings, as allauth's own template reads them.
    ("mfa/index.html", "in MFA_SUPPORTED_TYPES"),
}


def _templates():
    for folder in TEMPLATE_DIRS:
        for path in sorted(folder.rglob("*.html")) + sorted(folder.rglob("*.txt")):
            yield folder, path


def _allowed(relative: str, line: str) -> bool:
    return any(relative == name and snippet in line for name, snippet in ALLOWED_COMPARISONS)


def test_templates_compare_no_state_with_a_string():
    found = []
    for folder, path in _templates():
        relative = str(path.relative_to(folder))
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if STRING_COMPARISON.search(line) and not _allowed(relative, line):
                found.append(f"{relative}:{number}: {line.strip()[:120]}")
    assert found == []


def test_templates_link_pages_through_url_tags():
    found = []
    for folder, path in _templates():
        relative = str(path.relative_to(folder))
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if TYPED_PATH.search(line):
                found.append(f"{relative}:{number}: {line.strip()[:120]}")
    assert found == []


def test_no_template_reads_which_page_it_is_from_the_path():
    """`{% aria_current %}` asks the resolved URL; comparing or slicing `request.path` breaks when a page moves."""
    found = []
    for folder, path in _templates():
        relative = str(path.relative_to(folder))
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\{%-?\s*(?:el)?if\b[^%]*request\.path", line):
                found.append(f"{relative}:{number}: {line.strip()[:120]}")
    assert found == []


def test_the_guard_sees_what_it_forbids():
    """The two patterns catch the forms they are meant to (a guard that cannot fail is no guard)."""
    assert STRING_COMPARISON.search('{% if signup.state == "offered" %}')
    assert STRING_COMPARISON.search("{% elif x != 'draft' %}")
    assert STRING_COMPARISON.search('{% if a and b.state == "x" %}')
    assert STRING_COMPARISON.search("{% if 'danger' in attrs.tags %}")
    assert STRING_COMPARISON.search('{% if state in "draft submitted" %}')
    assert not STRING_COMPARISON.search("{% if signup.is_offered %}")
    assert not STRING_COMPARISON.search("{% if contribution in drafts %}")
    assert not STRING_COMPARISON.search('{% url "engagements:signup_list" as u %}{% if request.path == u %}')
    assert TYPED_PATH.search('<a href="/profile/">')
    assert not TYPED_PATH.search("<a href=\"{% url 'profile' %}\">")
    assert not TYPED_PATH.search('<a href="https://example.com/">')


NAV = [
    ("dashboard", "Dashboard"),
    ("contributions:list", "Contributions"),
    ("engagements:opportunity_list", "Opportunities"),
    ("community_levels:me", "Community"),
    ("profile", "Profile"),
]
NAV_LINK = re.compile(r'<a href="([^"]*)"\s*(aria-current="page")?\s*>([^<]+)</a>')


def _main_nav(html: str) -> list[tuple[str, bool, str]]:
    nav = html.split('id="main-nav"', 1)[1].split("</nav>", 1)[0]
    return [(href, bool(current), label.strip()) for href, current, label in NAV_LINK.findall(nav)]


@pytest.mark.django_db
def test_every_main_nav_link_is_its_page_by_name(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    html = client.get(reverse("profile")).content.decode()
    assert [(href, label) for href, _current, label in _main_nav(html)] == [
        (reverse(name), label) for name, label in NAV
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("page", "current"),
    [
        (lambda: reverse("dashboard"), "Dashboard"),
        (lambda: reverse("contributions:catalogue"), "Contributions"),
        (lambda: reverse("engagements:opportunity_list"), "Opportunities"),
        (lambda: reverse("community_levels:levels"), "Community"),
        (lambda: reverse("profile"), "Profile"),
        (lambda: reverse("notification_list"), None),
        (lambda: reverse("help"), None),
    ],
)
def test_the_nav_marks_the_section_of_the_page_it_shows(client, page, current):
    from tests.factories import ProgramYearFactory, UserFactory

    ProgramYearFactory()
    client.force_login(UserFactory())
    response = client.get(page())
    assert response.status_code == 200
    assert [label for _href, is_current, label in _main_nav(response.content.decode()) if is_current] == (
        [current] if current else []
    )


@pytest.mark.parametrize("status", [404, 500])
def test_error_pages_render_with_their_links_without_a_request(status):
    """500 renders with an empty context (the database may be what failed); its links still resolve."""
    from django.template.loader import get_template

    html = get_template(f"{status}.html").render({})
    assert f'href="{reverse("dashboard")}"' in html


@pytest.mark.django_db
def test_a_404_page_renders_for_a_member(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get("/contributions/no-such-page/")
    assert response.status_code == 404
    assert f'href="{reverse("dashboard")}"' in response.content.decode()


def test_aria_current_matches_a_namespace_a_name_or_a_name_prefix():
    from django.urls import resolve

    from mahome.templatetags.mahome_tags import matches

    assert matches(resolve(reverse("contributions:catalogue")), "contributions:")
    assert not matches(resolve(reverse("contributions:catalogue")), "engagements:")
    assert matches(resolve(reverse("profile")), "profile")
    assert not matches(resolve(reverse("contributions:list")), "list")  # a plain name is not namespaced
    assert matches(resolve(reverse("mfa_activate_totp")), "mfa_*")
    assert not matches(resolve(reverse("account_email")), "mfa_*")
    assert not matches(None, "dashboard")


APPS = ("accounts", "community_levels", "contributions", "engagements", "mahome")
OUR_PAGES = re.compile(
    r"""["'](/(?:accounts|admin|certificates|community|contributions|engagements|help|notifications|profile|verify)"""
    r"""/[^"']*)["']"""
)
# Paths of other systems' APIs, not our pages.
FOREIGN_PATHS = {"community_levels/connectors/discourse.py"}


def test_python_links_and_recognises_our_pages_through_url_names():
    """Every app module, not only the services: a typed '/admin/' or '/profile/' is a page renamed in two places."""
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = str(path.relative_to(ROOT))
            if "/migrations/" in relative or relative in FOREIGN_PATHS:
                continue
            found += [f"{relative}: {typed}" for typed in OUR_PAGES.findall(path.read_text())]
    assert found == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "current"),
    [
        ("account_email", "Email address"),
        ("mfa_index", "Two-factor authentication"),
        ("usersessions_list", "Where you are signed in"),
    ],
)
def test_the_account_settings_nav_marks_the_page_it_shows(client, name, current):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    nav = html.split('class="card manage-nav"', 1)[1].split("</nav>", 1)[0]
    marked = re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', nav)
    assert marked == [current]
    assert f'<a href="{reverse("profile")}">' in nav
