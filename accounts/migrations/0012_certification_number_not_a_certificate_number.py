import re

from django.db import migrations, models

ISSUED_FORM = re.compile(r"MA-[0-9]{4}-[0-9]{6,}", flags=re.IGNORECASE)


def correct_numbers_in_the_certificate_form(apps, schema_editor):
    """A certification number typed in the form of the certificate numbers MA Home issues (possible
    before this migration) is kept, marked: "MA-2026-000001" becomes "MA-2026-000001 (legacy)", so it
    no longer names the member whose certificates carry that number, and the roster still finds it.
    A frozen copy of the rule (`accounts.models.ISSUED_CERTIFICATE_NUMBER_REGEX`)."""
    MACertification = apps.get_model("accounts", "MACertification")
    taken = set(MACertification.objects.values_list("certificate_number", flat=True))
    for certification in MACertification.objects.order_by("pk"):
        number = certification.certificate_number.strip()
        if not ISSUED_FORM.fullmatch(number):
            continue
        corrected, n = f"{number} (legacy)", 1
        while corrected in taken:
            n += 1
            corrected = f"{number} (legacy {n})"
        taken.add(corrected)
        certification.certificate_number = corrected
        certification.save(update_fields=["certificate_number"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_user_name_order_idx"),
    ]

    operations = [
        migrations.RunPython(correct_numbers_in_the_certificate_form, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="macertification",
            constraint=models.CheckConstraint(
                condition=models.Q(("certificate_number__iregex", "^MA-[0-9]{4}-[0-9]{6,}$"), _negated=True),
                name="certification_number_not_a_certificate_number",
                violation_error_message=(
                    "Numbers of the form MA-<year>-<member number, six digits> are the certificate numbers MA Home "
                    "issues; enter the number of the certification record."
                ),
            ),
        ),
    ]
