"""The one domain error type, and the one way a refusal reaches the person who asked.

Each app keeps its own subclass (`ContributionError`, `EngagementError`, `CommunityError`) so callers
can catch one app's refusals; pages and the admin turn any of them into words with `show_refusal`.
"""

from django import forms
from django.contrib import messages
from django.http import HttpRequest


def violated_constraint(error: Exception) -> str | None:
    """The constraint PostgreSQL named when it refused a write (a database trigger's `RAISE ... USING
    CONSTRAINT` included), read from the driver's error behind Django's; None when it named none."""
    return getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)


class DomainError(Exception):
    """A rule of the program refused the change; the message is for the person who asked.

    `field` names the form field the refusal is about, when there is one (e.g. "capacity").
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def show_refusal(
    request: HttpRequest,
    error: DomainError,
    *,
    form: forms.BaseForm | None = None,
    field: str | None = None,
    prefix: str = "",
    level: int = messages.ERROR,
) -> None:
    """Put the refusal where the person looks: beside the form field it is about (`field`, else the
    error's own), at the top of the form, or, with no form, as a message on the next page.

    `prefix` names the item a bulk action refused ("MA-2026-000123: ...").
    """
    text = f"{prefix}: {error}" if prefix else str(error)
    if form is not None:
        field = field or error.field
        form.add_error(field if field in form.fields else None, text)
        return
    messages.add_message(request, level, text)
