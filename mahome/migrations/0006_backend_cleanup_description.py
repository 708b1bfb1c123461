"""Celery's own `celery.backend_cleanup` job, which beat adds by itself, described like the others (the
admin home page showed "—" under "What it does"). Only a row without a description gets the text: a copy of
mahome.beat.JOB_DESCRIPTIONS["celery.backend_cleanup"] as written (a migration must not change when the code
does)."""

from django.db import migrations

NAME = "celery.backend_cleanup"
TEXT = "Celery's own housekeeping: deletes background jobs' results once they have expired."


def describe(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME, description="").update(
        description=TEXT
    )


def undescribe(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME, description=TEXT).update(
        description=""
    )


class Migration(migrations.Migration):
    dependencies = [("mahome", "0005_job_descriptions_without_timing")]

    operations = [migrations.RunPython(describe, undescribe)]
