import orjson
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from contributions import selectors, services


class Command(BaseCommand):
    help = "Year-end review of a program year: who is recertified, who lapses and why (--dry-run writes nothing)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("year", type=int)
        parser.add_argument("--dry-run", action="store_true", help="Show the outcomes without recording anything.")
        parser.add_argument(
            "--by",
            metavar="EMAIL",
            default="",
            help="The staff member running the review, recorded with the run (e.g. your own email).",
        )
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON object (counts and one entry per member)."
        )

    def handle(self, *args, year: int, dry_run: bool, json: bool, by: str, **options) -> None:
        program_year = selectors.program_year_get(year=year)
        if program_year is None:
            raise CommandError(f"There is no program year {year}.")
        actor = None
        if by:
            actor = User.objects.filter(email__iexact=by.strip(), is_staff=True).first()
            if actor is None:
                raise CommandError(f"--by {by}: no staff member has this email.")
        try:
            report = services.year_end_review(program_year=program_year, dry_run=dry_run, by=actor)
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
            self.stdout.write(f"  {entry.outcome_label:<12} {entry.member.email:<40} {points}{certificate} {reasons}")
        counts = ", ".join(f"{label}: {value}" for label, value in report.counts_in_words)
        self.stdout.write(self.style.SUCCESS(f"Counts — {counts}"))
        run = report.run
        if report.already_ran and run is not None:
            self.stdout.write(
                f"The final review already ran on {run.ran_at:%Y-%m-%d %H:%M} by {run.run_by or 'nobody recorded'}; "
                "nothing changed."
            )
        elif not dry_run:
            self.stdout.write(
                f"Recorded {report.created_outcomes} new outcomes and {report.created_certificates} new certificates."
            )
