from importlib import import_module
from importlib.util import find_spec

from django.core.management.base import BaseCommand
from django.db import transaction

# Each app may ship a `demo` module with `seed(stdout)`; they run in dependency order.
DEMO_APPS = ("accounts", "contributions", "engagements", "community_levels")


class Command(BaseCommand):
    help = "Load the demo data (idempotent: running it twice adds nothing)."

    def handle(self, *args, **options) -> None:
        for app in DEMO_APPS:
            if find_spec(f"{app}.demo") is None:
                continue
            module = import_module(f"{app}.demo")
            with transaction.atomic():
                module.seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
