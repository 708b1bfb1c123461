"""Every non-trivial read of the community_levels app."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from community_levels.metrics import ACTIVE, METRICS, PASSIVE, Metric
from community_levels.models import BossApplication, BossProgramWindow, CommunityMember, CommunitySource, LevelChange
from community_levels.rules import LevelRule, Rules, criteria_text, load_rules, scores, shortfall


def member_for_user(*, user: User) -> CommunityMember | None:
    """The member's community identity (the most advanced one if several share the email)."""
    if not user.is_authenticated:
        return None
    return CommunityMember.objects.filter(user=user).select_related("level").order_by("-level__rank", "pk").first()


@dataclass(frozen=True)
class BreakdownRow:
    metric: Metric
    count: int
    weight: Decimal
    points: Decimal


@dataclass(frozen=True)
class MemberStanding:
    member: CommunityMember
    level: LevelRule | None
    tier: str
    score: Decimal
    passive_score: Decimal
    active_score: Decimal
    breakdown: list[BreakdownRow]
    next_level: LevelRule | None
    next_text: str
    rules: Rules

    @property
    def is_active_tier(self) -> bool:
        return self.tier == ACTIVE


def member_standing(*, member: CommunityMember, rules: Rules | None = None) -> MemberStanding:
    """Level, score by metric and what the next level needs, from the member's stored metrics."""
    rules = rules or load_rules()
    metrics = member.metric_values()
    level = next((lvl for lvl in rules.levels if lvl.id == member.level_id), None)
    tier = level.tier if level else PASSIVE
    passive_score, active_score = scores(metrics, rules)
    breakdown = [
        BreakdownRow(
            metric=m,
            count=metrics[m.code],
            weight=rules.weights[m.code],
            points=rules.weights[m.code] * metrics[m.code],
        )
        for m in METRICS
        if m.tier == tier
    ]
    next_level, next_text = shortfall(metrics, rules, level)
    return MemberStanding(
        member=member,
        level=level,
        tier=tier,
        score=active_score if tier == ACTIVE else passive_score,
        passive_score=passive_score,
        active_score=active_score,
        breakdown=breakdown,
        next_level=next_level,
        next_text=next_text,
        rules=rules,
    )


def level_for_member(*, user: User) -> MemberStanding | None:
    """For the dashboard card: the member's standing, or None when they have no community identity."""
    member = member_for_user(user=user)
    if member is None:
        return None
    return member_standing(member=member)


def level_history(*, member: CommunityMember, limit: int = 50) -> QuerySet[LevelChange]:
    return LevelChange.objects.filter(member=member).select_related("from_level", "to_level")[:limit]


@dataclass(frozen=True)
class LadderRow:
    level: LevelRule
    criteria: str
    members: int


def ladder(*, rules: Rules | None = None) -> list[LadderRow]:
    from django.db.models import Count

    rules = rules or load_rules()
    counts = dict(
        CommunityMember.objects.filter(level__isnull=False).values_list("level").annotate(n=Count("pk")).order_by()
    )
    return [
        LadderRow(level=level, criteria=criteria_text(level), members=counts.get(level.id, 0)) for level in rules.levels
    ]


def boss_window_open(*, today: date | None = None) -> BossProgramWindow | None:
    today = today or timezone.localdate()
    return BossProgramWindow.objects.filter(opens_on__lte=today, closes_on__gte=today).order_by("opens_on").first()


def boss_window_next(*, today: date | None = None) -> BossProgramWindow | None:
    today = today or timezone.localdate()
    return BossProgramWindow.objects.filter(opens_on__gt=today).order_by("opens_on").first()


def boss_applications_for(*, member: CommunityMember) -> QuerySet[BossApplication]:
    return BossApplication.objects.filter(member=member).select_related("window", "level_at_application")


def sources_last_sync() -> QuerySet[CommunitySource]:
    """Every community connector with its last run (when, whether it succeeded, the last error)."""
    return CommunitySource.objects.only(
        "name", "enabled", "last_run_at", "last_run_ok", "last_run_imported", "last_error"
    ).order_by("name")
