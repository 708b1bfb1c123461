"""The admin site's app list (the sidebar of every admin page and the index) as Django builds it, its names
translated once and its URLs reversed once (issue 16)."""

import pytest
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.test import RequestFactory
from django.urls import get_script_prefix, set_script_prefix
from django.utils import translation

pytestmark = pytest.mark.django_db


def _django_s(request, app_label=None) -> list[dict]:
    """Django's own app list (`AdminSite._build_app_dict`, sorted as `AdminSite.get_app_list` sorts it)."""
    app_list = sorted(
        AdminSite._build_app_dict(admin.site, request, app_label).values(), key=lambda app: app["name"].lower()
    )
    for app in app_list:
        app["models"].sort(key=lambda model: model["name"])
    return app_list


def _assert_same_with_plain_names(ours: list[dict], django_s: list[dict]) -> None:
    assert [app["name"] for app in ours] == [str(app["name"]) for app in django_s]
    for app, expected in zip(ours, django_s, strict=True):
        assert type(app["name"]) is str and all(type(m["name"]) is str for m in app["models"])
        plain = [{**m, "name": str(m["name"])} for m in expected["models"]]
        assert app == {**expected, "name": str(expected["name"]), "models": plain}


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("user_fixture", ["admin_user", "program_admin", "verifier"])
def test_app_list_is_django_s_with_names_as_plain_text(request, language, user_fixture):
    """Django's app list carries lazy names, translated again at each comparison of the sort and at each
    use in the sidebar, and reverses ~90 URLs (~3-4 ms of each admin page); ours holds the same names and
    URLs, in the same order, for whoever asks, in the active language."""
    site_request = RequestFactory().get("/admin/")
    site_request.user = request.getfixturevalue(user_fixture)
    with translation.override(language):
        ours = admin.site.get_app_list(site_request)
        _assert_same_with_plain_names(ours, _django_s(site_request))
        one_app = admin.site.get_app_list(site_request, "contributions")
        _assert_same_with_plain_names(one_app, _django_s(site_request, "contributions"))
    assert sum(len(app["models"]) for app in ours) >= 3


def test_app_list_urls_follow_the_script_prefix(admin_user):
    """The URLs are kept per script prefix (and URLconf, language, site): a site served under a prefix
    gets its own."""
    site_request = RequestFactory().get("/admin/")
    site_request.user = admin_user
    before = admin.site.get_app_list(site_request)
    previous = get_script_prefix()
    set_script_prefix("/mahome/")
    try:
        prefixed = admin.site.get_app_list(site_request)
        _assert_same_with_plain_names(prefixed, _django_s(site_request))
    finally:
        set_script_prefix(previous)
    assert all(m["admin_url"].startswith("/mahome/admin/") for app in prefixed for m in app["models"])
    assert admin.site.get_app_list(site_request) == before


def test_app_list_reverses_its_urls_once(admin_user, monkeypatch):
    """A second app list (the next admin page) reverses no URL: ~90 `reverse` calls per page before."""
    from django import urls

    from mahome import admin_site

    calls = []

    def counting(*args, **kwargs):
        calls.append(args)
        return urls.reverse(*args, **kwargs)

    monkeypatch.setattr(admin_site, "reverse", counting)
    monkeypatch.setattr(admin_site, "_REVERSED", {})
    site_request = RequestFactory().get("/admin/")
    site_request.user = admin_user
    first = admin.site.get_app_list(site_request)
    assert len(calls) > len(first)  # every app's URL and its models'
    calls.clear()
    assert admin.site.get_app_list(site_request) == first
    assert calls == []


def _app_lists(request) -> list[list[dict]]:
    """The app lists of a superuser, a program admin and a verifier, one with a model neither listed nor
    addable and names full of markup, and none."""
    lists = []
    for user_fixture in ("admin_user", "program_admin", "verifier"):
        site_request = RequestFactory().get("/admin/")
        site_request.user = request.getfixturevalue(user_fixture)
        lists.append(admin.site.get_app_list(site_request))
    odd = [{**app, "models": [dict(m) for m in app["models"]]} for app in lists[0][:2]]
    odd[0]["name"] = "A & B <i>'x'</i> \"y\""
    odd[0]["models"][0].update(name="<b>Bold</b> & co", admin_url=None, add_url=None)
    odd[1]["models"][-1].update(object_name="Ünïcode<Model>", add_url='/admin/x/add/?a=1&b="2"')
    return [*lists, odd, []]


PATHS = [
    "/admin/",
    "/admin/contributions/",
    "/admin/contributions/contribution/",
    "/admin/contributions/programyear/4/report/",
    "/admin/accounts/user/3/change/",
    "/admin/é x/",
]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_sidebar_app_list_is_django_s_template_byte_for_byte(request, language):
    """`mahome.admin_app_list` writes what Django's `admin/app_list.html` writes in the sidebar (change
    links not shown), whoever asks, wherever they are, with names that need escaping."""
    from django.template.loader import get_template

    from mahome.admin_app_list import app_list_html

    django_s = get_template("admin/app_list.html")  # not overridden: Django's own
    with translation.override(language):
        for app_list in _app_lists(request):
            for path in PATHS:
                page_request = RequestFactory().get(path)
                expected = django_s.render({"app_list": app_list, "show_changelinks": False}, page_request)
                assert app_list_html(app_list, path=page_request.path) == expected, (path, app_list[:1])


def test_admin_pages_sidebar_is_django_s(admin_client):
    """An admin page's whole sidebar is Django's `admin/nav_sidebar.html` rendered with the same context."""
    from pathlib import Path

    import django
    from django.template import engines

    response = admin_client.get("/admin/contributions/contribution/")
    html = response.content.decode()
    source = Path(django.__file__).parent / "contrib/admin/templates/admin/nav_sidebar.html"
    django_s = engines["django"].from_string(source.read_text())
    sidebar = django_s.render({"available_apps": response.context["available_apps"]}, response.wsgi_request)
    assert '<nav class="sticky" id="nav-sidebar"' in sidebar and sidebar in html


def test_app_list_urls_follow_the_url_configuration(admin_user):
    """The URLs are kept per URL configuration too: a site whose ROOT_URLCONF moves the admin gets its own."""
    from django.test import override_settings

    site_request = RequestFactory().get("/admin/")
    site_request.user = admin_user
    before = admin.site.get_app_list(site_request)
    with override_settings(ROOT_URLCONF="tests.mahome.moved_urls"):
        moved = admin.site.get_app_list(site_request)
        _assert_same_with_plain_names(moved, _django_s(site_request))
    assert all(m["admin_url"].startswith("/moved/admin/") for app in moved for m in app["models"])
    assert admin.site.get_app_list(site_request) == before


FAVICON_LINK = '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">'


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/contributions/contribution/", "/admin/django_celery_beat/periodictask/add/"]
)
def test_admin_pages_name_the_site_s_favicon(admin_client, path):
    """Admin pages named no icon, so every admin visit asked for /favicon.ico and logged a 404."""
    response = admin_client.get(path)
    assert response.status_code == 200 and FAVICON_LINK in response.content.decode()


def test_favicon_ico_leads_to_the_site_s_favicon(client):
    """Browsers ask for /favicon.ico on pages that name no icon (a PDF, a JSON file): it leads to the
    static favicon (whitenoise serves it) rather than a 404."""
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == "/static/img/favicon.svg"
    icon = client.get(response["Location"])
    assert icon.status_code == 200 and icon["Content-Type"].startswith("image/svg+xml")
