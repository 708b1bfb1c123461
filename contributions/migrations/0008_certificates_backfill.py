import datetime
import secrets

from django.db import migrations
from django.utils import timezone


def _period(year, program_years):
    program_year = program_years.get(year)
    if program_year is not None:
        return program_year.opens_on, program_year.deadline
    return datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)


def _period_year_of(day, program_years):
    for year, program_year in program_years.items():
        if program_year.opens_on <= day < program_year.deadline:
            return year
    return day.year


def certificates_per_period(apps, schema_editor):
    """Existing certificates get the period's first day, one number format and their own salt; then
    every certified member gets the certificates of the periods they were certified for and lack.

    A frozen copy of `contributions.certificate_services._missing_periods` (a migration must not
    change when the service does): the qualification's period, then each period the review of the
    year before renewed; a year without a program year in MA Home carries the certification over;
    a lapse or an opt-out ends it; a year waiting for its review issues nothing.
    """
    Certificate = apps.get_model("contributions", "Certificate")
    ProgramYear = apps.get_model("contributions", "ProgramYear")
    ReviewOutcome = apps.get_model("contributions", "ReviewOutcome")
    MACertification = apps.get_model("accounts", "MACertification")
    program_years = {p.year: p for p in ProgramYear.objects.all()}
    for certificate in Certificate.objects.all():
        certificate.valid_from = _period(certificate.year, program_years)[0]
        certificate.number = f"MA-{certificate.year}-{certificate.member_id:06d}"
        certificate.subject_salt = secrets.token_hex(16)
        certificate.source = "renewal"
        certificate.save(update_fields=["valid_from", "number", "subject_salt", "source"])
    today = timezone.localdate()
    current = _period_year_of(today, program_years)
    for certification in MACertification.objects.all():
        member_id = certification.user_id
        held = set(Certificate.objects.filter(member_id=member_id).values_list("year", flat=True))
        outcomes = {
            o.program_year.year: o.outcome
            for o in ReviewOutcome.objects.filter(
                member_id=member_id, program_year__deadline__gt=certification.qualified_on
            ).select_related("program_year")
        }
        first = _period_year_of(certification.qualified_on, program_years)
        for year in range(first, current + 1):
            reviewed = program_years.get(year - 1)
            if year == first:
                source, reviewed = "qualification", None
            elif year - 1 in outcomes:
                if outcomes[year - 1] != "recertified":
                    break
                source = "renewal"
            elif reviewed is not None or not program_years:
                break
            else:
                source = "carried_over"
            if year in held:
                continue
            valid_from, valid_until = _period(year, program_years)
            if year == first:
                valid_from = max(valid_from, certification.qualified_on)
            Certificate.objects.create(
                member_id=member_id,
                program_year=reviewed,
                year=year,
                number=f"MA-{year}-{member_id:06d}",
                verification_code=secrets.token_urlsafe(18),
                subject_salt=secrets.token_hex(16),
                source=source,
                valid_from=valid_from,
                valid_until=valid_until,
            )



class Migration(migrations.Migration):
    """Data only: a migration of its own, so PostgreSQL alters the table in a later transaction."""

    dependencies = [
        ("accounts", "0003_macertification"),
        ("contributions", "0007_certificates_per_period"),
    ]

    operations = [
        migrations.RunPython(certificates_per_period, migrations.RunPython.noop),
    ]
