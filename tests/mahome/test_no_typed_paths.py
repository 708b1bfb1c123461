"""Links the services put in notifications come from reverse(), never typed paths: a moved page
cannot leave members with dead links (issue 15, finding 7)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MEMBER_PAGES = ("accounts", "contributions", "engagements", "community", "profile", "notifications", "help")
TYPED_PATH = re.compile(r"""["'](/(?:""" + "|".join(MEMBER_PAGES) + r""")/[^"']*)["']""")


@pytest.mark.parametrize(
    "module",
    [
        "accounts/services.py",
        "contributions/services.py",
        "mahome/dashboard.py",
        "engagements/services.py",
        "community_levels/services.py",
        "community_levels/recompute.py",
    ],
)
def test_services_link_to_pages_through_reverse(module):
    path = ROOT / module
    package = path.with_suffix("")
    files = sorted(package.glob("*.py")) if package.is_dir() else [path]
    assert files, module
    assert [typed for file in files for typed in TYPED_PATH.findall(file.read_text())] == []
