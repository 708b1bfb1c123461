"""One domain error type, and one way a refusal reaches the person who asked (form field, form, or message)."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage

from accounts.errors import AccountError
from community_levels.services import CommunityError
from contributions.errors import ContributionError
from engagements.services import EngagementError
from mahome.errors import DomainError, show_refusal


class _Form(forms.Form):
    capacity = forms.IntegerField(required=False)


def _request(rf):
    request = rf.post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


@pytest.mark.parametrize("error_class", [AccountError, ContributionError, EngagementError, CommunityError])
def test_every_apps_refusal_is_a_domain_error_with_its_message_and_field(error_class):
    error = error_class("Sign-ups are closed.", field="capacity")
    assert isinstance(error, DomainError)
    assert (str(error), error.field) == ("Sign-ups are closed.", "capacity")
    assert error_class("No field.").field is None


def test_a_refusal_about_a_field_goes_beside_that_field(rf):
    form = _Form(data={"capacity": "3"})
    form.is_valid()
    show_refusal(_request(rf), ContributionError("Too few places.", field="capacity"), form=form)
    assert form.errors == {"capacity": ["Too few places."]}


def test_a_refusal_without_a_field_tops_the_form_or_becomes_a_message(rf):
    form = _Form(data={})
    form.is_valid()
    show_refusal(_request(rf), EngagementError("Closed."), form=form)
    assert form.non_field_errors() == ["Closed."]
    other = _Form(data={})
    other.is_valid()
    show_refusal(_request(rf), EngagementError("On the answer.", field="body"), form=other, field="capacity")
    assert other.errors == {"capacity": ["On the answer."]}
    request = _request(rf)
    show_refusal(request, CommunityError("Already applied."), prefix="Ava")
    assert [(m.level_tag, m.message) for m in get_messages(request)] == [("error", "Ava: Already applied.")]
