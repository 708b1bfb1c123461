"""The weekly audit sampling's description no longer says when it runs (as mahome 0005 for the other jobs).

0014 wrote "Every Monday at 06:00 UTC: chooses ...", which contradicted the schedule once a program admin
changed it. A row still holding that text gets the new one; a description an admin wrote stays. A copy of
mahome.beat.JOB_DESCRIPTIONS["contributions-audits-sample"] as written.
"""

import importlib

from django.db import migrations

NAME = "contributions-audits-sample"
TEXT = (
    "Chooses verified contributions to audit, at each program year's audit rate and more often when a claim "
    "looks risky, and asks those members for evidence."
)


def _earlier() -> str:
    return importlib.import_module("contributions.migrations.0014_audits").DESCRIPTION


def reword(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=NAME, description=_earlier()).update(description=TEXT)


def unreword(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=NAME, description=TEXT).update(description=_earlier())


class Migration(migrations.Migration):
    dependencies = [("contributions", "0026_activitytype_whole_units")]

    operations = [migrations.RunPython(reword, unreword)]
