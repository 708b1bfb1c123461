"""Demo opportunities of every kind, and the demo members signed up to some (idempotent)."""

from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from contributions.models import ActivityType, ProgramYear
from engagements import services
from engagements.models import Opportunity

DEMO_YEAR = 2026

ACTIVITY_TYPES = [
    # code, name, category, points
    ("community-blog-post", "Community blog post", ActivityType.Category.BRAND, 40),
    ("public-speaking", "Public speaking engagement", ActivityType.Category.BRAND, 60),
    ("training-delivery", "Deliver a training session", ActivityType.Category.TALENT, 50),
    ("mentoring-programme", "Mentor an emerging modeler", ActivityType.Category.TALENT, 30),
]


def _program_year() -> ProgramYear:
    year, _ = ProgramYear.objects.get_or_create(
        year=DEMO_YEAR, defaults={"opens_on": date(DEMO_YEAR, 1, 1), "deadline": date(DEMO_YEAR + 1, 1, 1)}
    )
    return year


def _activity_types(year: ProgramYear) -> dict[str, ActivityType]:
    types = {}
    for code, name, category, points in ACTIVITY_TYPES:
        types[code], _ = ActivityType.objects.get_or_create(
            program_year=year,
            code=code,
            defaults={
                "name": name,
                "category": category,
                "points": points,
                "tracking": ActivityType.Tracking.ENGAGEMENT,
                "evidence_required": False,
                "description": f"Earned by completing a “{name.lower()}” opportunity.",
            },
        )
    return types


def _at(days: int, hour: int = 15) -> datetime:
    moment = timezone.now() + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


# The demo opportunities: the activity type by its code, moments as (days from today, hour).
OPPORTUNITIES: list[dict] = [
    {
        "slug": "community-blog-winter-series",
        "title": "Community blog: the winter modelling series",
        "category": Opportunity.Category.BLOG,
        "activity_type": "community-blog-post",
        "summary": "Write one post of the winter series on the Community blog.",
        "description": "The Community team runs a themed series each season. This winter: models that "
        "survived a reorganisation. Tell the story of one of yours.",
        "participation": "Pick a publication week, send a draft (800–1,500 words) two weeks before, "
        "work through one round of edits with the Community editor.",
        "crediting": "Credited when the post is published; the program team marks it completed.",
        "starts_at": (21, 15),
        "capacity": 6,
        "signup_closes_at": (14, 15),
    },
    {
        "slug": "anaplan-live-speaker-slots",
        "title": "Speaker slots at the regional user group",
        "category": Opportunity.Category.SPEAKING,
        "activity_type": "public-speaking",
        "summary": "A 20-minute talk about a connected-planning use case, in front of 150 customers.",
        "description": "Two speaker slots in the customer track of the regional user group.",
        "participation": "Submit an abstract, rehearse once with the program team, present for 20 minutes "
        "plus 10 minutes of questions.",
        "crediting": "Credited after the event, when the program team confirms the talk took place.",
        "starts_at": (45, 10),
        "location": "London, Anaplan office",
        "capacity": 2,
        "points": 80,
    },
    {
        "slug": "train-the-trainer-spring",
        "title": "Train-the-trainer: deliver the Level 1 course",
        "category": Opportunity.Category.TRAINING,
        "activity_type": "training-delivery",
        "summary": "Co-deliver the Level 1 model-building course to a partner cohort.",
        "description": "A week-long virtual cohort; you co-deliver two of the five days.",
        "participation": "Attend the two-hour trainer briefing, then co-deliver two days of the course.",
        "crediting": "Credited per completed cohort.",
        "starts_at": (20, 9),
        "capacity": 4,
        "signup_opens_at": (-30, 15),
        "signup_closes_at": (-2, 15),
    },
    {
        "slug": "mentor-an-emerging-modeler",
        "title": "Mentor an emerging modeler",
        "category": Opportunity.Category.MENTORING,
        "activity_type": "mentoring-programme",
        "summary": "An ongoing programme: meet a new modeler monthly and review their work.",
        "description": "Pairs an MA with someone preparing for certification, for as long as it helps.",
        "participation": "One hour a month, a short note to the program team after each session.",
        "crediting": "Credited per quarter of mentoring, confirmed by the program team.",
        "starts_at": None,
        "capacity": None,
    },
    {
        "slug": "partner-summit-panel",
        "title": "Panel at the partner summit",
        "category": Opportunity.Category.SPEAKING,
        "activity_type": "public-speaking",
        "summary": "A panel on hiring and growing model builders.",
        "description": "The summit's agenda changed and the panel was dropped.",
        "participation": "A 45-minute moderated panel.",
        "crediting": "Credited after the event.",
        "starts_at": (30, 15),
        "location": "Virtual",
        "capacity": 3,
    },
]

MOMENTS = ("starts_at", "signup_opens_at", "signup_closes_at")


def _opportunities(types: dict[str, ActivityType]) -> list[dict]:
    return [
        definition
        | {"activity_type": types[definition["activity_type"]]}
        | {name: _at(*definition[name]) for name in MOMENTS if definition.get(name) is not None}
        for definition in OPPORTUNITIES
    ]


def seed(*, stdout) -> None:
    types = _activity_types(_program_year())
    created = 0
    for fields in _opportunities(types):
        slug = fields.pop("slug")
        if Opportunity.objects.filter(slug=slug).exists():
            continue
        opportunity = Opportunity(slug=slug, state=Opportunity.State.PUBLISHED, **fields)
        opportunity.full_clean()
        opportunity.save()
        created += 1
    if created:
        _sign_up_demo_members()
    stdout.write(f"engagements: {created} demo opportunities created")


def _sign_up_demo_members() -> None:
    members = {u.email: u for u in User.objects.filter(email__in=["ava.member@example.com", "ben.member@example.com"])}
    ava, ben = members.get("ava.member@example.com"), members.get("ben.member@example.com")
    staff = User.objects.filter(is_staff=True).order_by("pk").first()
    speaking = Opportunity.objects.get(slug="anaplan-live-speaker-slots")
    blog = Opportunity.objects.get(slug="community-blog-winter-series")
    mentoring = Opportunity.objects.get(slug="mentor-an-emerging-modeler")
    # Fill the speaker slots with other members so the demo shows a full opportunity with a waitlist.
    for i in (1, 2):
        speaker, _ = User.objects.get_or_create(
            email=f"speaker{i}.member@example.com", defaults={"first_name": f"Speaker {i}", "password": "!"}
        )
        services.signup_create(opportunity_id=speaking.pk, member=speaker)
    if ava:
        services.signup_create(opportunity_id=speaking.pk, member=ava)  # waitlisted, number 1
        blog_signup, _ = services.signup_create(opportunity_id=blog.pk, member=ava)
        # Next steps name their dates: they are read in the panel, the list, an email and an .ics.
        draft_due = date_format(timezone.localdate(_at(10, 12) - timedelta(days=3)))
        services.signup_schedule(
            signup_id=blog_signup.pk,
            actor=staff,
            next_steps=f"Send your draft to the Community editor by {draft_due}.",
            scheduled_for=_at(10, 12),
        )
    if ben:
        services.signup_create(opportunity_id=speaking.pk, member=ben)  # waitlisted, number 2
        services.signup_create(opportunity_id=mentoring.pk, member=ben)
        services.signup_create(opportunity_id=blog.pk, member=ben)
    cancelled = Opportunity.objects.get(slug="partner-summit-panel")
    if ben:
        services.signup_create(opportunity_id=cancelled.pk, member=ben)
    services.opportunity_cancel(
        opportunity_id=cancelled.pk, actor=staff, reason="The summit's agenda changed and the panel was dropped."
    )
