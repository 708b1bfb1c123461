"""Demo people, organizations and certifications with known credentials (printed by scripts/serve)."""

from datetime import date

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction

from accounts.models import Organization, OrganizationDomain, SSOConnection, User, password_allowed
from accounts.roles import PROGRAM_ADMIN, VERIFIER
from accounts.selectors import organization_for_email
from accounts.services import member_provision, sso_connection_sync, user_create

DEMO_PASSWORD = "mahome-demo-2026"
# Demo staff must pass MFA to reach /admin/: add this secret to an authenticator app, or run
# `python manage.py demo_mfa_code` for the current code.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPMAHOMEDEMOSTAFF2"

DEMO_USERS = [
    # email, first, last, staff, group
    ("ava.member@example.com", "Ava", "Patel", False, None),
    ("ben.member@example.com", "Ben", "Okafor", False, None),
    ("vera.verifier@example.com", "Vera", "Lindqvist", True, VERIFIER),
    ("paul.admin@example.com", "Paul", "Moreau", True, PROGRAM_ADMIN),
]
DEMO_ORGANIZATIONS = [
    # name, policy, contact name, contact email, domain, connection kind, slug
    ("Northwind Partners", Organization.FallbackPolicy.FALLBACK_ALLOWED, "", "", "northwind.example",
     SSOConnection.Kind.OIDC, "northwind"),
    ("Contoso Planning", Organization.FallbackPolicy.SSO_REQUIRED, "Priya Raman (Contoso IT)",
     "it-help@contoso.example", "contoso.example", SSOConnection.Kind.SAML, "contoso"),
]  # fmt: skip

DEMO_MAS = [
    # email, first, last, certificate, qualified on
    ("nora.lind@northwind.example", "Nora", "Lind", "MA-2026-0203", date(2026, 3, 11)),
    ("omar.haddad@northwind.example", "Omar", "Haddad", "MA-2024-0318", date(2024, 9, 20)),
    ("chloe.martin@contoso.example", "Chloé", "Martin", "MA-2023-0251", date(2023, 5, 5)),
    ("kenji.sato@contoso.example", "Kenji", "Sato", "MA-2025-0402", date(2025, 7, 1)),
    ("lucia.ferreira@example.com", "Lúcia", "Ferreira", "MA-2020-0088", date(2020, 11, 30)),
]


def _seed_organizations() -> int:
    created = 0
    for name, policy, contact, contact_email, domain, kind, slug in DEMO_ORGANIZATIONS:
        organization, made = Organization.objects.get_or_create(
            name=name, defaults={"fallback_policy": policy, "contact_name": contact, "contact_email": contact_email}
        )
        created += made
        OrganizationDomain.objects.get_or_create(domain=domain, defaults={"organization": organization})
        if not SSOConnection.objects.filter(slug=slug).exists():
            connection = SSOConnection(organization=organization, kind=kind, slug=slug)
            if kind == SSOConnection.Kind.OIDC:
                connection.server_url = f"https://login.{domain}"
                connection.client_id = "ma-home"
                connection.client_secret = "demo-not-a-real-secret"
            else:
                connection.idp_entity_id = f"https://idp.{domain}/saml"
                connection.idp_metadata_url = f"https://idp.{domain}/saml/metadata"
            sso_connection_sync(connection=connection)
    return created


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
    # Ava's and Ben's certifications (and so their statuses) come with the maintenance demo data.
    for user in User.objects.filter(is_staff=True, email__in=[u[0] for u in DEMO_USERS]):
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, DEMO_TOTP_SECRET)
    organizations = _seed_organizations()
    provisioned = 0
    for email, first, last, number, qualified_on in DEMO_MAS:
        if User.objects.filter(email=email).exists():
            continue
        with transaction.atomic():
            organization = organization_for_email(email=email)
            # The password is set before the invitation is made, so the invitation's link works.
            member_provision(
                email=email,
                first_name=first,
                last_name=last,
                certificate_number=number,
                qualified_on=qualified_on,
                password=DEMO_PASSWORD if password_allowed(organization) else None,
            )
        provisioned += 1
    stdout.write(
        f"accounts: {created} demo people, {organizations} organizations and {provisioned} certified MAs created"
    )
