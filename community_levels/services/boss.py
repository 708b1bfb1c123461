"""The BOSS programme: its monthly windows, members' applications and staff's decisions."""

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from community_levels.models import (
    BossApplication,
    BossProgramWindow,
    CommunityMember,
)
from community_levels.services.common import CommunityError


def _month_end(year: int, month: int) -> date:
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    return first_next - timedelta(days=1)


@transaction.atomic
def boss_windows_ensure(*, today: date | None = None, months_ahead: int = 12) -> int:
    """Create the default application windows (settings.COMMUNITY_BOSS_WINDOW_MONTHS) for the coming year."""
    today = today or timezone.localdate()
    created = 0
    for year in (today.year, today.year + 1):
        for month in settings.COMMUNITY_BOSS_WINDOW_MONTHS:
            opens = date(year, month, 1)
            closes = _month_end(year, month)
            if closes < today or (opens - today).days > months_ahead * 31:
                continue
            _window, was_created = BossProgramWindow.objects.get_or_create(
                opens_on=opens,
                defaults={
                    "closes_on": closes,
                    "name": _("Boss program, %(month)s") % {"month": opens.strftime("%B %Y")},
                },
            )
            created += was_created
    return created


@transaction.atomic
def boss_application_submit(*, member: CommunityMember, statement: str, today: date | None = None) -> BossApplication:
    from community_levels.selectors import boss_window_open

    window = boss_window_open(today=today)
    if window is None:
        raise CommunityError(_("Applications are closed right now."))
    level = member.level
    if level is None or not level.boss_program_eligible:
        raise CommunityError(_("The Boss program is open to members at Community Boss level or above."))
    if not statement.strip():
        raise CommunityError(_("Tell the team in a few words why you want to join."))
    application = BossApplication(member=member, window=window, statement=statement.strip(), level_at_application=level)
    try:
        application.full_clean(validate_constraints=False)
    except ValidationError as error:
        raise CommunityError(" ".join(error.messages)) from error
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        raise CommunityError(_("You have already applied in this window.")) from None
    return application


@transaction.atomic
def boss_application_decide(
    *, application: BossApplication, decided_by: User, accept: bool, note: str = ""
) -> BossApplication:
    from accounts.services import notification_create

    application = (
        BossApplication.objects.select_for_update(of=("self",), no_key=True)
        .select_related("member__user", "window")
        .get(pk=application.pk)
    )
    if application.state != BossApplication.State.SUBMITTED:
        raise CommunityError(_("This application was already decided."))
    application.state = BossApplication.State.ACCEPTED if accept else BossApplication.State.DECLINED
    application.decided_by = decided_by
    application.decided_at = timezone.now()
    application.decision_note = note
    application.full_clean(validate_constraints=False)
    application.save()
    user = application.member.user
    if user is not None:
        notification_create(
            user=user,
            kind="community.boss_decision",
            title=_("Welcome to the Community Boss program")
            if accept
            else _("Your Boss program application was not accepted this time"),
            body=note,
            url=reverse("community_levels:boss"),
            dedupe_key=f"community-boss-decision:{application.pk}",
        )
    return application
