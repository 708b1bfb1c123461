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
