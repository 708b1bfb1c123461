"""The admin sidebar's app list as HTML, built in Python: Django 5.2's `admin/app_list.html` (as the sidebar
includes it, `show_changelinks` false), byte for byte (issue 16).

The template engine spent ~2 ms of every admin page on it (40-odd models, each a dozen variables, three
`request.path|urlencode` and four translations); here it is one string per model. Values are escaped as
the template escapes them (`escape`; the translated literals are not, as Django marks them safe); the path
is quoted as `urlencode` quotes it. `tests/mahome/test_admin_site.py` renders Django's template beside it
on varied app lists and paths. `templates/admin/nav_sidebar.html` (Django's, the include replaced) calls it.
"""

from html import escape
from urllib.parse import quote

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

APP = (
    '\n    <div class="app-{label} module{current}">\n      <table>\n        <caption>\n'
    '          <a href="{url}" class="section" title="{title}">{name}</a>\n        </caption>\n'
    '        <thead class="visually-hidden">\n          <tr>\n            <th scope="col">{model_name}</th>\n'
    '            <th scope="col">{add_link}</th>\n            <th scope="col">{change_link}</th>\n'
    "          </tr>\n        </thead>\n        {models}\n      </table>\n    </div>\n  "
)
MODEL = (
    '\n          \n            <tr class="model-{model}{current}">\n'
    '              <th scope="row" id="{label}-{model}">\n                {link}\n              </th>\n\n'
    "              {add}\n\n              \n            </tr>\n          \n        "
)
LINK = '\n                  <a href="{url}"{current}>{name}</a>\n                '
ADD = (
    '\n                <td><a href="{url}" class="addlink" aria-describedby="{label}-{model}">{add}</a></td>'
    "\n              "
)
NO_ADD = "\n                <td></td>\n              "


def app_list_html(app_list: list[dict], *, path: str) -> SafeString:
    """`admin/app_list.html` rendered with `app_list` for a request of `path`, change links not shown."""
    if not app_list:
        return mark_safe(  # noqa: S308 - escaped
            f"\n\n\n  <p>{_('You don’t have permission to view or edit anything.')}</p>\n\n"
        )
    quoted = quote(path)
    labels = {  # the template's {% translate %} of a literal: not escaped (Django marks literals safe)
        "model_name": _("Model name"),
        "add_link": _("Add link"),
        "change_link": _("Change or view list link"),
        "add": _("Add"),
        "title": _("Models in the %(name)s application"),
    }
    html = "".join(_app_html(app, quoted=quoted, labels=labels) for app in app_list)
    return mark_safe(f"\n\n\n  {html}\n\n")  # noqa: S308 - every value escaped


def _app_html(app: dict, *, quoted: str, labels: dict) -> str:
    label = escape(str(app["app_label"]))
    models = "".join(_model_html(model, label=label, quoted=quoted, add=labels["add"]) for model in app["models"])
    return APP.format(
        label=label,
        current=" current-app" if _in(app["app_url"], quoted) else "",
        url=escape(str(app["app_url"])),
        title=labels["title"] % {"name": escape(str(app["name"]))},
        name=escape(str(app["name"])),
        model_name=labels["model_name"],
        add_link=labels["add_link"],
        change_link=labels["change_link"],
        models=models,
    )


def _model_html(model: dict, *, label: str, quoted: str, add: str) -> str:
    name, url, current = escape(str(model["name"])), model["admin_url"], _in(model["admin_url"], quoted)
    model_name = escape(str(model["object_name"]).lower())
    if url:
        link = LINK.format(url=escape(str(url)), current=' aria-current="page"' if current else "", name=name)
    else:
        link = f"\n                  {name}\n                "
    return MODEL.format(
        model=model_name,
        current=" current-model" if current else "",
        label=label,
        link=link,
        add=ADD.format(url=escape(str(model["add_url"])), label=label, model=model_name, add=add)
        if model["add_url"]
        else NO_ADD,
    )


def _in(url: str | None, quoted: str) -> bool:
    """The template's `url in request.path|urlencode` (false when there is no URL, as the template's error is)."""
    return url is not None and str(url) in quoted
