import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from community_levels import services


class Command(BaseCommand):
    help = "Ingest a file of community activity (JSON Lines or CSV in the canonical format); safe to re-run."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path")
        parser.add_argument("--json", action="store_true", help="Print one JSON object with the counts.")
        parser.add_argument("--source", default=services.FILE_SOURCE, help="Source key stored with each event.")
        parser.add_argument("--no-recompute", action="store_true", help="Do not enqueue the recompute afterwards.")

    def handle(self, *args, **options) -> None:
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            result = services.activity_ingest_file(
                path=path, source=options["source"], recompute=not options["no_recompute"]
            )
        except services.CommunityError as refusal:
            raise CommandError(f"{path}: {refusal}") from None
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict()))
            return
        self.stdout.write(
            f"read {result.read}, imported {result.imported}, duplicates {result.duplicates}, bad {result.bad}"
        )
        for error in result.errors:
            self.stdout.write(f"  line {error['line']}: {error['reason']}")
        if (more := result.bad - len(result.errors)) > 0:
            line = ngettext("… and %(n)d more bad line", "… and %(n)d more bad lines", more) % {"n": more}
            self.stdout.write(f"  {line}")
