"""The program admin's guide names admin pages as *Section › Page* (e.g. *Accounts › MA certifications*);
a newcomer looks for those words on /admin/. The walk found *Contributions › Program years* where the
admin says *Certification maintenance*, and *Engagements › Opportunities* where it says *Engagement
opportunities*: every section and page the guide names must be one the admin shows."""

import re
from pathlib import Path

from django.conf import settings
from django.contrib import admin

GUIDE = Path(settings.BASE_DIR) / "docs" / "program-admin-guide.md"
# *Section › Page* or *Section › Page › Add*; "Credit › credited as" is a part of an opportunity's page.
ADMIN_PATH = re.compile(r"\*([A-Z][^*›]*?) › ([^*›]+?)(?: › [^*]+)?\*")
NOT_ADMIN_SECTIONS = {"credit"}


def _admin_pages() -> dict[str, set[str]]:
    """Each admin section's pages, as the index writes them (case aside: its headings are in capitals)."""
    pages: dict[str, set[str]] = {}
    for model in admin.site._registry:
        section = str(model._meta.app_config.verbose_name).casefold()
        pages.setdefault(section, set()).add(str(model._meta.verbose_name_plural).casefold())
    return pages


def test_every_admin_page_the_guide_names_is_on_the_admin():
    pages = _admin_pages()
    named = [(m.group(1).casefold(), m.group(2).casefold()) for m in ADMIN_PATH.finditer(GUIDE.read_text())]
    assert len(named) > 20  # the pattern still finds the guide's paths
    wrong = sorted(
        {f"{section} › {page}" for section, page in named if section not in NOT_ADMIN_SECTIONS}
        - {f"{section} › {page}" for section, names in pages.items() for page in names},
        key=str.casefold,
    )
    assert wrong == [], f"the admin shows no such page: {wrong}; its sections are {sorted(pages)}"
