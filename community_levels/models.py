from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from community_levels.metrics import ACTIVE, KINDS, METRIC_CHOICES, METRICS, PASSIVE
from contributions.models import text_within
from mahome.history import HistoryAttribution


class Tier(models.TextChoices):
    PASSIVE = PASSIVE, _("Passive")
    ACTIVE = ACTIVE, _("Active")


class Level(HistoryAttribution, models.Model):
    """One rung of the ladder: a tier, a minimum score of that tier and optional minimum counts."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    tier = models.CharField(_("tier"), max_length=8, choices=Tier.choices)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True, help_text=_("1 is the first level of the ladder."))
    min_score = models.DecimalField(_("minimum score"), max_digits=12, decimal_places=2, default=0)
    description = models.CharField(_("description"), max_length=300, blank=True)
    boss_program_eligible = models.BooleanField(
        _("may apply to the Boss program"), default=False, help_text=_("Community Boss and above.")
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["rank"]
        verbose_name = _("level")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_score__gte=0),
                name="level_min_score_not_negative",
                violation_error_message=_("A level's minimum score cannot be negative."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class LevelRequirement(HistoryAttribution, models.Model):
    """A minimum count of one metric that a level asks for on top of its score."""

    level = models.ForeignKey(Level, on_delete=models.CASCADE, related_name="requirements")
    metric = models.CharField(_("metric"), max_length=32, choices=METRIC_CHOICES)
    minimum = models.PositiveIntegerField(_("at least"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["level__rank", "metric"]
        verbose_name = _("level requirement")
        constraints = [
            models.UniqueConstraint(
                fields=["level", "metric"],
                name="levelrequirement_once_per_metric",
                violation_error_message=_("This level already has a requirement on this measure."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.level}: {self.get_metric_display()} ≥ {self.minimum}"


class ScoringWeight(HistoryAttribution, models.Model):
    """How many points one unit of a metric is worth (its tier is fixed by the metric)."""

    metric = models.CharField(_("metric"), max_length=32, choices=METRIC_CHOICES, unique=True)
    weight = models.DecimalField(_("points per unit"), max_digits=8, decimal_places=2, default=0)
    daily_cap = models.PositiveIntegerField(
        _("daily cap"), null=True, blank=True, help_text=_("At most this many units count per day (likes given).")
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["metric"]
        verbose_name = _("scoring weight")
        constraints = [
            models.CheckConstraint(
                condition=Q(weight__gte=0),
                name="scoringweight_not_negative",
                violation_error_message=_("A weight cannot be negative."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()}: {self.weight}"


class CommunityMember(HistoryAttribution, models.Model):
    """A person on the community platform; linked to an MA account by email when one exists."""

    external_id = models.CharField(_("community member id"), max_length=128, unique=True)
    username = models.CharField(_("username"), max_length=150, blank=True)
    email = models.EmailField(_("email"), blank=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="community_members",
    )
    is_excluded = models.BooleanField(
        _("events excluded"), default=False, help_text=_("Excluded members' activity does not count.")
    )
    # Not indexed: fourteen values over every member (a filter on one reads about what a scan does, the
    # counts per level are GROUP BYs over all), and without it a recompute's change of level is written
    # as a heap-only tuple like its metrics (see migration 0012).
    level = models.ForeignKey(Level, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False)
    level_changed_at = models.DateTimeField(null=True, blank=True)
    passive_score = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    active_score = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    # Members with new activity are marked in PendingRecompute (community_levels/marks.py).
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(
        excluded_fields=[
            *(m.column for m in METRICS),
            "passive_score",
            "active_score",
        ]
    )

    # Running metrics, refreshed from the daily aggregates by the recompute.
    m_member_days = models.PositiveIntegerField(default=0)
    m_days_visited = models.PositiveIntegerField(default=0)
    m_reading_minutes = models.PositiveIntegerField(default=0)
    m_pages_read = models.PositiveIntegerField(default=0)
    m_posts = models.PositiveIntegerField(default=0)
    m_replies = models.PositiveIntegerField(default=0)
    m_articles = models.PositiveIntegerField(default=0)
    m_comments = models.PositiveIntegerField(default=0)
    m_ideas = models.PositiveIntegerField(default=0)
    m_accepted_solutions = models.PositiveIntegerField(default=0)
    m_likes_given = models.PositiveIntegerField(default=0)
    m_likes_received = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["username", "external_id"]
        verbose_name = _("community member")

    def __str__(self) -> str:
        return self.username or self.external_id

    def metric_values(self) -> dict[str, int]:
        return {metric.code: getattr(self, metric.column) for metric in METRICS}

    @property
    def score(self):
        return self.active_score if self.level_id and self.level and self.level.tier == ACTIVE else self.passive_score


class PendingRecompute(models.Model):
    """A member the next recompute must take: new activity, an exclusion, a linked account.

    Kept apart from the member row (read and written by community_levels/marks.py): marking a member
    writes a small row here, not a new version of the wide member row and its indexes.
    """

    member = models.OneToOneField(
        CommunityMember, on_delete=models.CASCADE, primary_key=True, related_name="pending_recompute"
    )

    class Meta:
        verbose_name = _("member pending recompute")

    def __str__(self) -> str:
        return str(self.member_id)


class ActivityEvent(models.Model):
    """One line of community activity; `(source, event_id)` is unique, so replays are ignored."""

    KIND_CHOICES = [(kind, kind.replace("_", " ")) for kind in KINDS]

    source = models.CharField(max_length=64)
    event_id = models.CharField(max_length=128)
    # Neither a constraint nor an index in the database. The constraint PostgreSQL checks row by row (a
    # lookup and a lock of the member per event, as much again as the insert); ingestion takes the id
    # from the member row in the same transaction (and locks it), the member's deletion cascades in
    # Django, and the daily aggregates, written in the same transaction as the events, are guarded (see
    # DailyActivity.member), so a member deleted during an import still fails the import or the deletion
    # loudly. The index costs a random B-tree insert per event (40% of the insert) to serve only a
    # member's deletion and the admin's search by member, both rare, which scan instead.
    member = models.ForeignKey(
        CommunityMember, on_delete=models.CASCADE, related_name="events", db_constraint=False, db_index=False
    )
    kind = models.CharField(max_length=24, choices=KIND_CHOICES)
    occurred_at = models.DateTimeField()
    # Days since 1970-01-01 (UTC) of occurred_at: portable day arithmetic in SQL.
    day = models.IntegerField()
    quantity = models.PositiveIntegerField(default=1)
    minutes = models.PositiveIntegerField(default=0)
    target_member_id = models.CharField(max_length=128, blank=True)
    is_self_like = models.BooleanField(default=False)
    ingested_at = models.DateTimeField()
    # Taken back when the platform removed what it records (a deleted post, an undone like): the
    # event stays, so its id is never imported again, and the daily aggregates lose what it added.
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True, db_default="")

    class Meta:
        verbose_name = _("activity event")
        # Every index is written once per event: the dedup key is all ingestion needs; recompute reads
        # the daily aggregates, never the events.
        constraints = [
            models.UniqueConstraint(
                fields=["source", "event_id"],
                name="activityevent_once_per_source",
                violation_error_message=_("This event was already imported from this source."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.event_id}"


class DailyActivity(models.Model):
    """Per member, day and kind: what the events added (self-likes left out), updated per batch."""

    # The key is (member, day, kind) itself (migration 0017): every batch adds to some 900,000 of these
    # rows per million events, and a surrogate id was a second index written with each of them (a
    # quarter to a half of the upsert's time, measured on the benchmark's database) that nothing read.
    pk = models.CompositePrimaryKey("member_id", "day", "kind")

    # No index of its own: the key (member, day, kind) serves lookups by member. No constraint
    # either: PostgreSQL checks one row by row at commit (a lookup and a lock of the member per total,
    # some 90,000 per batch of 100,000 events). Instead each batch locks its members once (FOR KEY
    # SHARE, checking none is gone) and a deferred trigger refuses to delete a member who still has
    # totals (migration 0013): a member deleted during an import still fails the import or the deletion
    # loudly.
    member = models.ForeignKey(
        CommunityMember, on_delete=models.CASCADE, related_name="daily_activity", db_index=False, db_constraint=False
    )
    day = models.IntegerField()
    kind = models.CharField(max_length=24)
    quantity = models.PositiveIntegerField(default=0)
    minutes = models.PositiveIntegerField(default=0)
    events = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily activity")
        verbose_name_plural = _("daily activity")

    def __str__(self) -> str:
        return f"{self.member_id} {self.day} {self.kind}"


class RecomputeRun(models.Model):
    """One recompute: incremental (members with new activity) or full (after a rule change)."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    full = models.BooleanField(default=False)
    reason = models.CharField(max_length=200, blank=True)
    is_rule_change = models.BooleanField(default=False)
    members = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    raised = models.PositiveIntegerField(default=0)
    lowered = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("recompute run")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} ({'full' if self.full else 'incremental'})"


class LevelChange(models.Model):
    """The level history: from, to, when and why."""

    # Each recompute writes one row per change of level (22,907 in the bench's full run), so every index
    # counts: the member's is the prefix of levelchange_member_time below, and nothing looks changes up by
    # their former level (a level's deletion, rare, reads the history once).
    # No database constraint on the four references: PostgreSQL checked each once per row at commit (a
    # lookup and a lock each, 91,628 for the bench's full run, most of a second). Instead (migration 0018)
    # one set-based check per statement refuses history rows that refer to a missing member, run or level;
    # a deferred trigger refuses to delete a member, run or level the history still refers to (Django's
    # cascade and SET NULL take the history rows first); and a recompute locks the levels and its changed
    # members before it writes their history, so a deletion beside it waits and then fails loudly.
    member = models.ForeignKey(
        CommunityMember, on_delete=models.CASCADE, related_name="level_changes", db_index=False, db_constraint=False
    )
    run = models.ForeignKey(RecomputeRun, on_delete=models.CASCADE, related_name="level_changes", db_constraint=False)
    from_level = models.ForeignKey(
        Level, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False, db_constraint=False
    )
    to_level = models.ForeignKey(Level, on_delete=models.SET_NULL, null=True, related_name="+", db_constraint=False)
    changed_at = models.DateTimeField()
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        verbose_name = _("level change")
        indexes = [models.Index(fields=["member", "changed_at"], name="levelchange_member_time")]

    def __str__(self) -> str:
        return f"{self.member}: {self.from_level} → {self.to_level}"

    @property
    def is_up(self) -> bool:
        return self.from_level is None or (self.to_level is not None and self.to_level.rank > self.from_level.rank)


class CommunitySource(HistoryAttribution, models.Model):
    """A place activity comes from: a platform API pulled on a schedule, with its watermark and status."""

    class Kind(models.TextChoices):
        DISCOURSE = "discourse", _("Discourse")

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("source key"), max_length=64, unique=True, help_text=_("Stored with each event."))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.DISCOURSE)
    base_url = models.URLField(_("base URL"))
    api_username = models.CharField(_("API username"), max_length=100, default="system")
    api_key = models.CharField(
        _("API key"), max_length=200, blank=True, help_text=_("Or leave empty and set the environment variable below.")
    )
    api_key_env = models.CharField(
        _("API key environment variable"), max_length=100, default="DISCOURSE_API_KEY", blank=True
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    watermark = models.DateTimeField(_("fetched up to"), null=True, blank=True)
    cursor = models.JSONField(default=dict, blank=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_run_ok = models.BooleanField(_("last run succeeded"), null=True, blank=True)
    last_run_items = models.PositiveIntegerField(_("items in last run"), default=0)
    last_run_imported = models.PositiveIntegerField(_("new events in last run"), default=0)
    last_run_errors = models.PositiveIntegerField(_("errors in last run"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # Who changed the source and when (settings, a cursor reset); the key and the run status are not kept.
    history = HistoricalRecords(
        excluded_fields=[
            "api_key",
            "cursor",
            "last_run_at",
            "last_run_ok",
            "last_run_items",
            "last_run_imported",
            "last_run_errors",
            "last_error",
        ]
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("community source")

    def __str__(self) -> str:
        return self.name


class SourceRun(models.Model):
    """One pull of a source: what it read and wrote, how it ended. A run whose worker was killed
    stays "running" until the next run of the source marks it interrupted."""

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        INTERRUPTED = "interrupted", _("Interrupted (worker stopped)")

    source = models.ForeignKey(CommunitySource, on_delete=models.CASCADE, related_name="runs")
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.RUNNING)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    caught_up = models.BooleanField(_("caught up"), default=False, help_text=_("Every stream read to its end."))
    requests = models.PositiveIntegerField(_("requests"), default=0)
    fetched = models.PositiveIntegerField(_("events read"), default=0)
    imported = models.PositiveIntegerField(_("new events written"), default=0)
    skipped = models.PositiveIntegerField(_("rows skipped"), default=0, help_text=_("Deleted users, system users."))
    bad = models.PositiveIntegerField(_("bad events"), default=0)
    revoked = models.PositiveIntegerField(
        _("events taken back"), default=0, help_text=_("Posts deleted and likes undone on the platform.")
    )
    message = models.TextField(_("message"), blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("source run")
        constraints = [
            models.UniqueConstraint(
                fields=["source"],
                condition=Q(state="running"),
                name="sourcerun_one_running_per_source",
                violation_error_message=_("This source is already being pulled; wait for that run to finish."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M} ({self.get_state_display()})"


class BossProgramWindow(HistoryAttribution, models.Model):
    """A period in which members at Community Boss or above may apply to the Boss program."""

    name = models.CharField(_("name"), max_length=100)
    opens_on = models.DateField(_("opens on"), unique=True)
    closes_on = models.DateField(_("closes on"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["opens_on"]
        verbose_name = _("Boss program window")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_on__gte=models.F("opens_on")),
                name="bosswindow_closes_after_open",
                violation_error_message=_("A Boss program window must close on or after the day it opens."),
            )
        ]

    def __str__(self) -> str:
        return self.name


BOSS_STATEMENT_MAX_LENGTH = 4000


class BossApplication(HistoryAttribution, models.Model):
    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    member = models.ForeignKey(CommunityMember, on_delete=models.CASCADE, related_name="boss_applications")
    window = models.ForeignKey(BossProgramWindow, on_delete=models.PROTECT, related_name="applications")
    level_at_application = models.ForeignKey(
        Level, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )  # blank: the level may since have been deleted, and the application must stay decidable
    statement = models.TextField(_("why you want to join"), max_length=BOSS_STATEMENT_MAX_LENGTH)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.SUBMITTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("note to the member"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Boss program application")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "window"],
                name="bossapplication_once_per_window",
                violation_error_message=_("This member has already applied in this window."),
            ),
            models.CheckConstraint(
                condition=text_within("statement", BOSS_STATEMENT_MAX_LENGTH),
                name="bossapplication_statement_length",
                violation_error_message=_("An application statement can be at most 4,000 characters."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} — {self.window}"

    @property
    def is_accepted(self) -> bool:
        return self.state == self.State.ACCEPTED

    @property
    def is_declined(self) -> bool:
        return self.state == self.State.DECLINED
