"""A member's application to the Boss program and their suggestions are decided in the admin (accepted or
declined, with who and when in the history), never deleted: deleting one lost what the member had sent and
the member was never told. Program admins hold their apps' delete permission, so the admins refuse it."""

import pytest

from community_levels.models import BossApplication
from engagements.models import Suggestion
from tests.factories import BossProgramWindowFactory, CommunityMemberFactory, SuggestionFactory, UserFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["program_admin", "superuser"])
def test_a_boss_application_and_a_suggestion_are_decided_never_deleted(client, request, who):
    staff = request.getfixturevalue(who) if who != "superuser" else UserFactory(is_staff=True, is_superuser=True)
    application = BossApplication.objects.create(
        window=BossProgramWindowFactory(), member=CommunityMemberFactory(), level_at_application=None, statement="Hi"
    )
    suggestion = SuggestionFactory()
    client.force_login(with_mfa(staff))
    for path in (
        f"/admin/community_levels/bossapplication/{application.pk}/delete/",
        f"/admin/engagements/suggestion/{suggestion.pk}/delete/",
    ):
        assert client.post(path, {"post": "yes"}).status_code == 403
    for path, model, pk in (
        ("/admin/community_levels/bossapplication/", BossApplication, application.pk),
        ("/admin/engagements/suggestion/", Suggestion, suggestion.pk),
    ):
        listing = client.get(path)
        assert listing.status_code == 200 and "delete_selected" not in listing.content.decode()
        client.post(path, {"action": "delete_selected", "_selected_action": [pk], "post": "yes"})
        assert model.objects.filter(pk=pk).exists()
