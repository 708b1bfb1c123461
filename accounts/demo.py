"""Demo people, one per role, with known passwords (printed by scripts/serve)."""

from accounts.models import User
from accounts.roles import PROGRAM_ADMIN, VERIFIER
from accounts.services import user_create

DEMO_PASSWORD = "mahome-demo-2026"

DEMO_USERS = [
    # email, first, last, staff, group
    ("ava.member@example.com", "Ava", "Patel", False, None),
    ("ben.member@example.com", "Ben", "Okafor", False, None),
    ("vera.verifier@example.com", "Vera", "Lindqvist", True, VERIFIER),
    ("paul.admin@example.com", "Paul", "Moreau", True, PROGRAM_ADMIN),
]


def seed(*, stdout) -> None:
    created = 0
    for email, first, last, staff, group in DEMO_USERS:
        if User.objects.filter(email=email).exists():
            continue
        user_create(
            email=email,
            first_name=first,
            last_name=last,
            password=DEMO_PASSWORD,
            is_staff=staff,
            groups=(group,) if group else (),
        )
        created += 1
    stdout.write(f"accounts: {created} demo people created ({len(DEMO_USERS) - created} already there)")
