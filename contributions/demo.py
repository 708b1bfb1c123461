"""Demo program years (2020–2022 reviewed, 2026 running, 2027 published) and MAs at every status.

Idempotent: years, types and requirements are looked up by their natural keys; a member's
contributions of a year are created only when they have none in it yet; the reviews of past
years are idempotent themselves.
"""

from datetime import date, timedelta

from django.utils import timezone
from django.utils.text import slugify

from accounts.demo import DEMO_PASSWORD
from accounts.models import MACertification, User
from accounts.services import user_create
from contributions import services
from contributions.models import ActivityType, Contribution, OptOut, ProgramYear, TechnicalRequirement

L, T, B, E = (
    ActivityType.Category.LANDSCAPE,
    ActivityType.Category.TALENT,
    ActivityType.Category.BRAND,
    ActivityType.Category.ENABLEMENT,
)
ITEM, HOUR, SESSION = ActivityType.Unit.ITEM, ActivityType.Unit.HOUR, ActivityType.Unit.SESSION
MANUAL, ENGAGEMENT, COMMUNITY = (
    ActivityType.Tracking.MANUAL,
    ActivityType.Tracking.ENGAGEMENT,
    ActivityType.Tracking.COMMUNITY,
)

# code, name, category, points, unit, cap, tracking, description
CATALOGUE = [
    (
        "cp-workshop",
        "Connected-planning workshop with a customer",
        L,
        50,
        SESSION,
        None,
        MANUAL,
        "Lead a workshop that extends a customer's connected-planning landscape. Evidence: agenda or customer note.",
    ),
    (
        "model-review",
        "Model review for a customer",
        L,
        40,
        ITEM,
        None,
        MANUAL,
        "A documented review of a customer model with recommendations. Evidence: the review summary.",
    ),
    (
        "architecture-office-hours",
        "Architecture office hours",
        L,
        25,
        HOUR,
        200,
        MANUAL,
        "Hours of solution-architecture guidance to a customer team. Capped at 200 points a year.",
    ),
    (
        "mentoring",
        "Mentor a new model builder",
        T,
        20,
        HOUR,
        200,
        MANUAL,
        "One-to-one mentoring hours with an emerging model builder. Capped at 200 points a year.",
    ),
    (
        "teach-class",
        "Teach a training class",
        T,
        60,
        SESSION,
        None,
        MANUAL,
        "Teach a Level 1/2/3 or Anaplan Way class. Evidence: class roster or invitation.",
    ),
    (
        "exam-review",
        "Review certification exam content",
        T,
        30,
        HOUR,
        120,
        MANUAL,
        "Hours spent reviewing or writing exam items for the certification team. Capped at 120 points a year.",
    ),
    (
        "speaking",
        "Speak at an event or webinar",
        B,
        100,
        ITEM,
        None,
        MANUAL,
        "A talk at a conference, user group or webinar. Evidence: programme or recording link.",
    ),
    (
        "blog-post",
        "Publish a blog post or article",
        B,
        75,
        ITEM,
        None,
        MANUAL,
        "A published article about connected planning. Evidence: the link.",
    ),
    (
        "customer-story",
        "Co-author a customer story",
        B,
        80,
        ITEM,
        None,
        MANUAL,
        "A published customer case study you helped write.",
    ),
    (
        "knowledge-article",
        "Write a Community knowledge article",
        E,
        60,
        ITEM,
        None,
        MANUAL,
        "A knowledge-base article accepted by the Community team. Evidence: the link.",
    ),
    (
        "community-replies",
        "Community forum replies",
        E,
        2,
        ITEM,
        100,
        COMMUNITY,
        "Counted automatically from your Community activity: 2 points per reply, up to 100 points a year.",
    ),
    (
        "community-ideas",
        "Idea Exchange ideas",
        E,
        5,
        ITEM,
        50,
        COMMUNITY,
        "Counted automatically: 5 points per idea posted on the Idea Exchange, up to 50 points a year.",
    ),
    (
        "opportunity",
        "Completed engagement opportunity",
        T,
        50,
        ITEM,
        None,
        ENGAGEMENT,
        "Credited when you complete an opportunity you signed up for; the opportunity sets the points.",
    ),
]

# year, target, method, published, requirements [(kind, name, due)]
YEARS = [
    (
        2020,
        400,
        "monthly",
        [
            ("training", "Level 1 Model Building", date(2020, 9, 30)),
            ("training", "Level 2 Model Building", date(2020, 9, 30)),
            ("training", "Level 3 Model Building", date(2020, 9, 30)),
            ("training", "The Anaplan Way", date(2020, 9, 30)),
        ],
    ),
    (2021, 400, "monthly", [("credential", "Certified Solution Architect, valid for 2022", date(2021, 12, 31))]),
    (2022, 400, "monthly", [("credential", "Certified Solution Architect, valid for 2023", date(2022, 12, 31))]),
    (
        2026,
        400,
        "monthly",
        [
            ("credential", "Certified Solution Architect, valid for 2027", date(2026, 12, 31)),
            ("training", "The Anaplan Way refresher", date(2026, 10, 31)),
        ],
    ),
    (
        2027,
        400,
        "daily",
        [
            ("credential", "Certified Solution Architect, valid for 2028", date(2027, 12, 31)),
            ("training", "Polaris model building", date(2027, 6, 30)),
        ],
    ),
]

# email, first, last, qualified_on
MEMBERS = [
    ("ava.member@example.com", "Ava", "Patel", date(2024, 3, 10)),
    ("ben.member@example.com", "Ben", "Okafor", date(2026, 6, 15)),
    ("cara.met@example.com", "Cara", "Nguyen", date(2019, 5, 2)),
    ("dan.optout@example.com", "Dan", "Fischer", date(2023, 9, 1)),
    ("eli.lapsed@example.com", "Eli", "Moreno", date(2019, 2, 1)),
    ("faye.prorated@example.com", "Faye", "Adeyemi", date(2020, 7, 1)),
]

# Per member and year: (type code, quantity, month, state) — "verified" or "submitted".
CONTRIBUTIONS = {
    ("cara.met@example.com", 2020): [("speaking", 1, 3, "v"), ("teach-class", 3, 5, "v"), ("blog-post", 2, 8, "v")],
    ("cara.met@example.com", 2021): [("cp-workshop", 4, 2, "v"), ("speaking", 2, 6, "v")],
    ("cara.met@example.com", 2022): [
        ("knowledge-article", 3, 4, "v"),
        ("speaking", 1, 9, "v"),
        ("mentoring", 6, 10, "v"),
    ],
    ("eli.lapsed@example.com", 2020): [("speaking", 2, 4, "v"), ("cp-workshop", 4, 9, "v")],
    ("eli.lapsed@example.com", 2021): [("blog-post", 2, 5, "v")],
    ("faye.prorated@example.com", 2020): [("teach-class", 2, 9, "v"), ("blog-post", 2, 11, "v")],
    ("faye.prorated@example.com", 2021): [("speaking", 2, 3, "v"), ("model-review", 5, 7, "v")],
    ("faye.prorated@example.com", 2022): [("speaking", 3, 6, "v"), ("model-review", 3, 8, "v")],
    ("ava.member@example.com", 2026): [
        ("blog-post", 1, 4, "v"),
        ("mentoring", 6, 6, "v"),
        ("knowledge-article", 1, 10, "s"),
        ("teach-class", 1, 11, "s"),
    ],
    ("ben.member@example.com", 2026): [("model-review", 1, 8, "v")],
    ("cara.met@example.com", 2026): [
        ("speaking", 2, 3, "v"),
        ("cp-workshop", 3, 5, "v"),
        # Two mentoring claims (160 + 120 points) over the type's 200-point cap: the 80 over show as
        # "over cap". One claim above the cap would need a program admin's override.
        ("mentoring", 8, 8, "v"),
        ("mentoring", 6, 9, "v"),
        ("exam-review", 2, 10, "s"),
    ],
    ("dan.optout@example.com", 2026): [("blog-post", 1, 2, "v")],
}
COMMUNITY_CREDITS = {
    # Past years only: the current year's community points come from the community app's
    # recompute (contributions_sync_community), from the demo members' real forum activity.
    ("cara.met@example.com", 2021): [("community-replies", 40)],
}
MET_REQUIREMENTS = {
    "cara.met@example.com": "all",
    "faye.prorated@example.com": "all",
    "eli.lapsed@example.com": {2020},
    "ava.member@example.com": {"The Anaplan Way refresher"},
    "dan.optout@example.com": set(),
    "ben.member@example.com": set(),
}


def seed(*, stdout) -> None:
    verifier = User.objects.filter(email="vera.verifier@example.com").first()
    admin = User.objects.filter(email="paul.admin@example.com").first()
    years = {year: _year(year, target, method, requirements, admin) for year, target, method, requirements in YEARS}
    members = {email: _member(email, first, last, qualified) for email, first, last, qualified in MEMBERS}
    created = _contributions(members, years, verifier=verifier) + _community_credits(members, years)
    _requirements(members, years)
    dan = members["dan.optout@example.com"]
    if not OptOut.objects.filter(member=dan, program_year=years[2026]).exists():
        services.opt_out_create(
            member=dan, program_year=years[2026], reason="On parental leave this year.", today=date(2026, 11, 1)
        )
    for year in (2020, 2021, 2022):
        services.year_end_review(program_year=years[year], dry_run=False, by=admin)
    # The demo MAs were certified before the demo's program years existed: issue the certificates
    # of every period each one was certified for (provisioning does this for new MAs).
    for member in User.objects.filter(certification__isnull=False):
        services.certificates_issue_missing(member=member, by=admin)
    stdout.write(
        f"contributions: {created} demo contributions created; years 2020–2022 reviewed, 2026 open, 2027 published"
    )


def _contributions(members: dict[str, User], years: dict[int, ProgramYear], *, verifier: User | None) -> int:
    """The members' own claims, submitted through the services; those marked "v" verified (once)."""
    created = 0
    for (email, year), items in CONTRIBUTIONS.items():
        member, program_year = members[email], years[year]
        seeded = Contribution.objects.filter(member=member, program_year=program_year)
        if seeded.filter(source=Contribution.Source.MANUAL).exists():
            continue
        for index, (code, quantity, month, state) in enumerate(items):
            activity_type = program_year.activity_types.get(code=code)
            occurred_on = date(year, month, 5 + index)
            contribution = services.contribution_create(
                member=member,
                activity_type=activity_type,
                title=f"{activity_type.name} — {occurred_on:%B %Y}",
                description="Demo contribution.",
                occurred_on=occurred_on,
                quantity=quantity,
                evidence_url=f"https://community.example.com/evidence/{code}-{year}-{index}",
                submit=True,
                today=occurred_on + timedelta(days=1),
            )
            if state == "v" and verifier is not None:
                # A claim above the type's annual cap is verified at the cap, as a verifier would.
                points = min(contribution.claimed_points, services.award_limit(contribution=contribution).bound)
                services.contribution_decide(
                    contribution_id=contribution.pk,
                    verifier=verifier,
                    decision=services.Decision.VERIFY,
                    awarded_points=points,
                    note="" if points == contribution.claimed_points else "Verified up to the type's annual cap.",
                )
            created += 1
    return created


def _community_credits(members: dict[str, User], years: dict[int, ProgramYear]) -> int:
    """Past years' community credits (the current year's come from the community app's recompute)."""
    created = 0
    for (email, year), credits in COMMUNITY_CREDITS.items():
        for code, count in credits:
            activity_type = years[year].activity_types.get(code=code)
            _contribution, was_created = services.contribution_credit_automatic(
                member=members[email],
                activity_type=activity_type,
                occurred_on=date(year, 9, 30),
                title=f"{activity_type.name} × {count}",
                source_key=f"community:{year}:{code}:{members[email].pk}",
                source=Contribution.Source.COMMUNITY,
                quantity=count,
            )
            created += was_created
    return created


def _year(year: int, target: int, method: str, requirements: list, admin: User | None) -> ProgramYear:
    program_year = ProgramYear.objects.filter(year=year).first()
    if program_year is None:
        program_year = ProgramYear(
            year=year,
            target_points=target,
            prorating_method=method,
            opens_on=date(year, 1, 1),
            deadline=date(year + 1, 1, 1),
            final_review_on=date(year + 1, 1, 10),
            notification_on=date(year + 1, 1, 15),
        )
        program_year.full_clean()
        program_year.save()
        for code, name, category, points, unit, cap, tracking, description in CATALOGUE:
            activity_type = ActivityType(
                program_year=program_year,
                code=code,
                name=name,
                category=category,
                points=points,
                unit=unit,
                annual_cap=cap,
                tracking=tracking,
                description=description,
                evidence_required=tracking == MANUAL,
            )
            activity_type.full_clean()
            activity_type.save()
        for kind, name, due in requirements:
            requirement = TechnicalRequirement(
                program_year=program_year, kind=kind, code=slugify(name)[:64], name=name, due_on=due
            )
            requirement.full_clean()
            requirement.save()
    if not program_year.is_published and program_year.opens_on <= timezone.localdate() + timedelta(days=366):
        services.program_year_publish(program_year=program_year, by=admin)
    return program_year


def _member(email: str, first: str, last: str, qualified_on: date) -> User:
    user = User.objects.filter(email=email).first() or user_create(
        email=email, first_name=first, last_name=last, password=DEMO_PASSWORD
    )
    if not MACertification.objects.filter(user=user).exists():
        certification = MACertification(
            user=user, certificate_number=f"MA-{qualified_on.year}-{user.pk:05d}", qualified_on=qualified_on
        )
        certification.full_clean()
        certification.save()
    return user


def _requirements(members: dict, years: dict) -> None:
    for email, which in MET_REQUIREMENTS.items():
        member = members[email]
        for year, program_year in years.items():
            for requirement in program_year.requirements.all():
                met = which == "all" or year in which or requirement.name in which
                if not met or year == 2027 or requirement.statuses.filter(member=member).exists():
                    continue
                services.requirement_status_set(
                    requirement=requirement, member=member, met_on=min(requirement.due_on, date(year, 6, 30))
                )
