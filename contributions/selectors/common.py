"""What every selector module shares: today, unless the caller says which day it is."""

from datetime import date

from django.utils import timezone


def _today(today: date | None) -> date:
    return today or timezone.localdate()
