import json

from django.core.management.base import BaseCommand

from community_levels import services


class Command(BaseCommand):
    help = "Recompute community scores and levels (members with new activity, or everyone with --full)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--full", action="store_true", help="Recompute every member (after a rule change).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object with the counts.")

    def handle(self, *args, **options) -> None:
        result = services.recompute(full=options["full"], reason="Full recompute" if options["full"] else "")
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict()))
            return
        self.stdout.write(f"members recomputed {result.members}, levels changed {result.changed}")
        for name, count in result.levels.items():
            self.stdout.write(f"  {name}: {count}")
