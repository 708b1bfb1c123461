"""Ladder rules (levels, their requirements, scoring weights): every change records who made it.

Issue 11, finding 8. The admin tests remove simple-history's request middleware, so the actor
can only come from the service (as for a task or a command, which have no request).
"""

from decimal import Decimal

import pytest

from community_levels import services
from community_levels.models import Level, LevelRequirement, ScoringWeight
from tests.admin_forms import admin_form_data
from tests.factories import StaffFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return with_mfa(StaffFactory(email="root@example.com", is_superuser=True))


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def test_rules_save_records_who_without_a_request(superuser, django_capture_on_commit_callbacks):
    level = Level.objects.order_by("rank").last()
    weight = ScoringWeight.objects.order_by("metric").first()
    with django_capture_on_commit_callbacks():
        changed = services.rules_save(
            changed_by=superuser,
            level_scores={level.pk: level.min_score + 1},
            weights={weight.pk: (weight.weight + Decimal(1), weight.daily_cap)},
        )
    assert changed == 2
    assert level.history.latest().history_user == superuser
    assert weight.history.latest().history_user == superuser


def test_ladder_rule_save_records_who_without_a_request(superuser, django_capture_on_commit_callbacks):
    weight = ScoringWeight.objects.order_by("metric").first()
    weight.weight += Decimal(2)
    with django_capture_on_commit_callbacks() as callbacks:
        services.ladder_rule_save(rule=weight, changed_by=superuser)
    assert weight.history.latest().history_user == superuser
    assert callbacks, "a rule change queues a full recompute"


@pytest.mark.usefixtures("without_history_middleware")
def test_level_change_in_the_admin_records_who_on_the_level_and_its_requirements(admin_client, superuser):
    level = Level.objects.order_by("rank").last()
    url = f"/admin/community_levels/level/{level.pk}/change/"
    data = admin_form_data(admin_client, url, description="The top of the ladder.")
    data.update({"requirements-TOTAL_FORMS": "1", "requirements-0-metric": "ideas", "requirements-0-minimum": "3"})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert level.history.latest().history_user == superuser
    added = LevelRequirement.objects.get(level=level, metric="ideas")
    assert added.history.get().history_user == superuser


@pytest.mark.usefixtures("without_history_middleware")
def test_scoring_weight_change_in_the_admin_records_who(admin_client, superuser):
    weight = ScoringWeight.objects.order_by("metric").first()
    url = f"/admin/community_levels/scoringweight/{weight.pk}/change/"
    response = admin_client.post(url, admin_form_data(admin_client, url, weight="7.5"))
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    weight.refresh_from_db()
    assert weight.weight == Decimal("7.5")
    assert weight.history.latest().history_user == superuser
