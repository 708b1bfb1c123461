"""Every member-facing URL that takes an id answers 404 for another member's object.

One row per URL: (name, how to build the path from the object, how to create an object owned
by a given member). Apps add their rows to OWNED_URLS as they add URLs.
"""

import pytest

from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

OWNED_URLS = [
    ("notification_detail", lambda obj: f"/notifications/{obj.pk}/", lambda owner: NotificationFactory(user=owner)),
]


@pytest.mark.parametrize(("name", "path", "make"), OWNED_URLS, ids=[row[0] for row in OWNED_URLS])
def test_another_members_object_is_a_404(client, member, other_member, name, path, make):
    theirs = make(other_member)
    client.force_login(member)
    assert client.get(path(theirs)).status_code == 404
    client.force_login(other_member)
    assert client.get(path(theirs)).status_code == 200
