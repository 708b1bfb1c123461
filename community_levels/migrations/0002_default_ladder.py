"""The default ladder of the community announcement, its scoring weights and the Boss windows.

A fresh install has a complete, working ladder; program admins tune it in the admin (with history).
"""

from datetime import date, timedelta

from django.db import migrations

PASSIVE_LEVELS = [
    ("New Member", 0, "Welcome! Browse, read and visit to grow."),
    ("Community Member", 40, "A regular visitor and reader."),
    ("Established Member", 150, "Part of the community for a good while."),
    ("Senior Member", 400, "A long-standing, frequent reader."),
]
# name, minimum active score, {metric: minimum count}, boss program
ACTIVE_LEVELS = [
    ("New Contributor", 0, {}, False, "Made a first contribution."),
    ("General Contributor", 20, {}, False, "Contributes now and then."),
    ("Reliable Contributor", 75, {}, False, "Contributes regularly."),
    ("Respected Contributor", 200, {}, False, "Others value their answers."),
    ("Trusted Contributor", 450, {}, False, "A go-to person for answers."),
    ("Community Boss", 900, {"accepted_solutions": 5}, True, "Solves problems for others; may join the Boss program."),
    ("Certified Boss", 1600, {"accepted_solutions": 15}, True, "A proven problem solver."),
    ("Insightful Boss", 2800, {"accepted_solutions": 40}, True, "Deep knowledge, widely shared."),
    ("Exceptional Boss", 4500, {"accepted_solutions": 80, "articles": 5}, True, "Shapes how others work."),
    ("Hyper Boss", 7500, {"accepted_solutions": 150, "articles": 15}, True, "The very top of the community."),
]
WEIGHTS = {
    "member_days": ("0.20", None),
    "days_visited": ("2.00", None),
    "reading_minutes": ("0.20", None),
    "pages_read": ("0.05", None),
    "posts": ("5.00", None),
    "replies": ("4.00", None),
    "articles": ("20.00", None),
    "comments": ("2.00", None),
    "ideas": ("5.00", None),
    "accepted_solutions": ("15.00", None),
    "likes_given": ("0.50", 10),
    "likes_received": ("1.00", None),
}


def month_end(year: int, month: int) -> date:
    return date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)


def create_ladder(apps, schema_editor):
    Level = apps.get_model("community_levels", "Level")
    LevelRequirement = apps.get_model("community_levels", "LevelRequirement")
    ScoringWeight = apps.get_model("community_levels", "ScoringWeight")
    BossProgramWindow = apps.get_model("community_levels", "BossProgramWindow")
    if not Level.objects.exists():
        rank = 0
        for name, minimum, description in PASSIVE_LEVELS:
            rank += 1
            Level.objects.create(name=name, tier="passive", rank=rank, min_score=minimum, description=description)
        for name, minimum, requirements, boss, description in ACTIVE_LEVELS:
            rank += 1
            level = Level.objects.create(
                name=name, tier="active", rank=rank, min_score=minimum, boss_program_eligible=boss, description=description
            )
            for metric, count in requirements.items():
                LevelRequirement.objects.create(level=level, metric=metric, minimum=count)
    for metric, (weight, cap) in WEIGHTS.items():
        ScoringWeight.objects.get_or_create(metric=metric, defaults={"weight": weight, "daily_cap": cap})
    today = date.today()
    for year in (today.year, today.year + 1):
        for month in (2, 7):
            if month_end(year, month) >= today:
                BossProgramWindow.objects.get_or_create(
                    opens_on=date(year, month, 1),
                    defaults={"closes_on": month_end(year, month), "name": f"Boss program, {date(year, month, 1):%B %Y}"},
                )


class Migration(migrations.Migration):
    dependencies = [("community_levels", "0001_initial")]

    operations = [migrations.RunPython(create_ladder, migrations.RunPython.noop)]
