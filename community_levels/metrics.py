"""The metrics a member's score is built from: what they are, which tier they feed, how they read.

Metrics are fixed by the code (they are columns of `CommunityMember`, computed from the daily
aggregates); how much each is worth, and what each level asks for, are data (`ScoringWeight`,
`Level`, `LevelRequirement`).
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

KINDS = (
    "joined",
    "visit",
    "read",
    "post",
    "reply",
    "article",
    "comment",
    "idea",
    "like_given",
    "like_received",
    "accepted_solution",
)
LIKE_KINDS = ("like_given", "like_received")
PASSIVE = "passive"
ACTIVE = "active"


@dataclass(frozen=True)
class Metric:
    code: str
    tier: str
    label: str | Promise  # lazily translated
    # ngettext pair for "N more <thing>" sentences
    singular: str
    plural: str
    # True when any count of it moves a member to the Active tier
    is_contribution: bool = False

    @property
    def column(self) -> str:
        return f"m_{self.code}"

    def more(self, count: int) -> str:
        return ngettext(self.singular, self.plural, count) % {"count": count}


METRICS: tuple[Metric, ...] = (
    Metric(
        "member_days",
        PASSIVE,
        _("Days as a member"),
        "%(count)d more day as a member",
        "%(count)d more days as a member",
    ),
    Metric("days_visited", PASSIVE, _("Days visited"), "%(count)d more day visiting", "%(count)d more days visiting"),
    Metric(
        "reading_minutes",
        PASSIVE,
        _("Minutes reading"),
        "%(count)d more minute reading",
        "%(count)d more minutes reading",
    ),
    Metric("pages_read", PASSIVE, _("Pages read"), "%(count)d more page read", "%(count)d more pages read"),
    Metric("posts", ACTIVE, _("Posts (new topics)"), "%(count)d more post", "%(count)d more posts", True),
    Metric("replies", ACTIVE, _("Replies"), "%(count)d more reply", "%(count)d more replies", True),
    Metric("articles", ACTIVE, _("Articles"), "%(count)d more article", "%(count)d more articles", True),
    Metric("comments", ACTIVE, _("Comments"), "%(count)d more comment", "%(count)d more comments", True),
    Metric("ideas", ACTIVE, _("Ideas"), "%(count)d more idea", "%(count)d more ideas", True),
    Metric(
        "accepted_solutions",
        ACTIVE,
        _("Accepted solutions"),
        "%(count)d more accepted solution",
        "%(count)d more accepted solutions",
        True,
    ),
    Metric("likes_given", ACTIVE, _("Likes given"), "%(count)d more like given", "%(count)d more likes given"),
    Metric(
        "likes_received", ACTIVE, _("Likes received"), "%(count)d more like received", "%(count)d more likes received"
    ),
)
METRIC_BY_CODE = {metric.code: metric for metric in METRICS}
METRIC_CHOICES = [(metric.code, metric.label) for metric in METRICS]

# Which metrics "what I need for the next level" suggests first, per tier.
SUGGESTED = {
    PASSIVE: ("days_visited", "reading_minutes"),
    ACTIVE: ("replies", "accepted_solutions", "posts"),
}

# Activity type codes of the contributions catalogue counted from community activity.
CONTRIBUTION_CODES = {
    "community-posts": "post",
    "community-replies": "reply",
    "community-articles": "article",
    "community-comments": "comment",
    "community-ideas": "idea",
    "community-accepted-solutions": "accepted_solution",
}
