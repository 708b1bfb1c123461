"""'A member may withdraw before the engagement's date' is one rule (services.withdraw_refusal) that the
opportunity page (which shows the Withdraw button) and the withdrawing service both ask."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from engagements import services
from engagements.models import SignUp
from tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("offset", "allowed"),
    [
        (timedelta(seconds=-1), True),  # a second before the engagement starts
        (timedelta(0), False),  # the moment it starts: from then on it is staff's call
        (timedelta(days=1), False),
    ],
)
def test_withdrawing_before_the_date_page_and_service_agree(client, member, offset, allowed):
    starts_at = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    opportunity = OpportunityFactory(starts_at=starts_at)
    signup, _ = services.signup_create(opportunity_id=opportunity.pk, member=member)
    client.force_login(member)
    with time_machine.travel(starts_at + offset, tick=False):
        assert (services.withdraw_refusal(signup=signup) is None) is allowed
        page = client.get(f"/engagements/{opportunity.slug}/")
        assert page.context["can_withdraw"] is allowed
        if allowed:
            services.signup_withdraw(signup_id=signup.pk, member=member)
            assert SignUp.objects.get(pk=signup.pk).state == SignUp.State.WITHDRAWN
        else:
            with pytest.raises(services.EngagementError) as refused:
                services.signup_withdraw(signup_id=signup.pk, member=member)
            assert str(refused.value) == services.withdraw_refusal(signup=signup)


def test_an_ongoing_engagement_without_a_date_may_be_withdrawn_and_an_ended_signup_not(member):
    opportunity = OpportunityFactory(starts_at=None)
    signup, _ = services.signup_create(opportunity_id=opportunity.pk, member=member)
    assert services.withdraw_refusal(signup=signup) is None
    services.signup_withdraw(signup_id=signup.pk, member=member)
    signup.refresh_from_db()
    assert "nothing to withdraw" in services.withdraw_refusal(signup=signup)
