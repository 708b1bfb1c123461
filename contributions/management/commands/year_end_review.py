import orjson
from django.core.management.base import BaseCommand, CommandError

from contributions import selectors, services


class Command(BaseCommand):
    help = "Year-end review of a program year: who is recertified, who lapses and why (--dry-run writes nothing)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("year", type=int)
        parser.add_argument("--dry-run", action="store_true", help="Show the outcomes without recording anything.")
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON object (counts and one entry per member)."
        )

    def handle(self, *args, year: int, dry_run: bool, json: bool, **options) -> None:
        program_year = selectors.program_year_get(year=year)
        if program_year is None:
            raise CommandError(f"There is no program year {year}.")
        try:
            report = services.year_end_review(program_year=program_year, dry_run=dry_run)
        except services.ContributionError as error:
            raise CommandError(str(error)) from error
        if json:
            self.stdout.write(orjson.dumps(report.as_json()).decode())
            return
        heading = "DRY RUN (nothing written)" if dry_run else "Final review"
        self.stdout.write(f"{heading}: program year {year}, {len(report.entries)} members")
        for entry in report.entries:
            reasons = " ".join(entry.reasons)
            certificate = f" [{entry.certificate_number}]" if entry.certificate_number else ""
            points = f"{entry.verified:>5}/{entry.target:<5}"
            self.stdout.write(f"  {entry.outcome:<12} {entry.member.email:<40} {points}{certificate} {reasons}")
        counts = ", ".join(f"{key}: {value}" for key, value in report.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Counts — {counts}"))
        if not dry_run:
            self.stdout.write(
                f"Recorded {report.created_outcomes} new outcomes and {report.created_certificates} new certificates."
            )
