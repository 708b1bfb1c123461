"""A small, realistic world for the security tests: five people and objects owned by "member"."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.roles import PROGRAM_ADMIN, VERIFIER
from tests.factories import (
    ActivityTypeFactory,
    MACertificationFactory,
    NotificationFactory,
    OpportunityFactory,
    OrganizationFactory,
    ProgramYearFactory,
    SignUpFactory,
    StaffFactory,
    TechnicalRequirementFactory,
    UserFactory,
    sso_connection_create,
)
from tests.helpers import with_mfa

# The smallest valid PNG: 1x1, transparent.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)

ROLES = ("anonymous", "member", "other", "verifier", "admin")


@dataclass
class World:
    people: dict
    contribution: object
    contribution_with_file: object
    notification: object
    signup: object
    offered: object
    opportunity: object
    certificate: object
    program_year: object
    saml_slug: str
    oidc_id: str
    requirement: object = None  # a training "member" owes this year (the report form)
    audited: object = None  # a verified contribution of "member" with an open audit (the answer form)
    questioned: object = None  # a contribution of "member" the verifier asked about (the reply form)
    opt_out: object = None  # "other" opted out of the year (staff take it back)


def world_build() -> World:
    from contributions.models import Certificate, Contribution, OptOut

    member = UserFactory(email="ava@example.com", first_name="Ava", last_name="Patel")
    other = UserFactory(email="ben@example.com", first_name="Ben", last_name="Okafor")
    verifier = with_mfa(StaffFactory(email="vera@example.com", first_name="Vera", groups=[VERIFIER]))
    admin = with_mfa(StaffFactory(email="paul@example.com", first_name="Paul", groups=[PROGRAM_ADMIN]))
    MACertificationFactory(user=member, qualified_on=date(2020, 3, 10))

    today = timezone.localdate()
    year = ProgramYearFactory(year=today.year, target_points=400)
    speaking = ActivityTypeFactory(program_year=year, code="speaking", name="Speak at an event", points=100)
    draft = ActivityTypeFactory(program_year=year, code="blog", name="Blog post", points=25)
    contribution = Contribution.objects.create(
        member=member,
        activity_type=draft,
        program_year=year,
        title="ALM patterns talk",
        occurred_on=today - timedelta(days=3) if today.day > 3 else today,
        quantity=1,
        claimed_points=25,
        evidence_url="https://example.com/alm-talk",
        state=Contribution.State.DRAFT,
    )
    with_file = Contribution.objects.create(
        member=member,
        activity_type=speaking,
        program_year=year,
        title="Anaplan Connect keynote",
        occurred_on=today,
        quantity=1,
        claimed_points=100,
        state=Contribution.State.SUBMITTED,
    )
    with_file.evidence_file.save("slides.png", ContentFile(PNG), save=True)

    opportunity = OpportunityFactory(title="Write for the community blog", slug="community-blog")
    signup = SignUpFactory(opportunity=opportunity, member=member)
    OpportunityFactory(title="Host a lunch-and-learn", slug="lunch-and-learn")
    full = OpportunityFactory(title="Speak at the user group", slug="user-group", capacity=2)  # both held
    SignUpFactory(opportunity=full, member=other)
    from engagements.models import SignUp

    offered = SignUpFactory(
        opportunity=full,
        member=member,
        state=SignUp.State.OFFERED,
        offer_expires_at=timezone.now() + timedelta(days=1),
    )
    certificate = Certificate.objects.create(
        member=member,
        program_year=year,
        year=year.year + 1,
        number="MA-2027-000001",
        valid_from=year.opens_on,
        valid_until=year.deadline,
    )
    notification = NotificationFactory(user=member, title="Your contribution was approved")

    organization = OrganizationFactory(name="Contoso", domains=["contoso.example"])
    saml = sso_connection_create(
        organization=organization,
        kind="saml",
        slug="contoso-saml",
        idp_entity_id="urn:contoso:idp",
        # Nothing listens there: a metadata fetch fails at once instead of reaching the internet.
        idp_metadata_url="http://127.0.0.1:9/metadata",
    )
    oidc = sso_connection_create(
        organization=OrganizationFactory(name="Fabrikam", domains=["fabrikam.example"]),
        kind="openid_connect",
        slug="fabrikam-oidc",
        server_url="http://127.0.0.1:9/",
        client_id="mahome",
        client_secret="s3cret",
    )
    from contributions.services.audits import audit_open

    audited = Contribution.objects.create(
        member=member,
        activity_type=draft,
        program_year=year,
        title="Blog post on ALM",
        occurred_on=today,
        quantity=1,
        claimed_points=25,
        awarded_points=25,
        evidence_url="https://example.com/alm-post",
        state=Contribution.State.VERIFIED,
        decided_by=verifier,
        decided_at=timezone.now(),
    )
    audit_open(contribution_id=audited.pk, reasons=["link_only"], probability=0.1, run=None)
    questioned = Contribution.objects.create(
        member=member,
        activity_type=draft,
        program_year=year,
        title="Webinar on ALM",
        occurred_on=today,
        quantity=1,
        claimed_points=25,
        evidence_url="https://example.com/alm-webinar",
        state=Contribution.State.NEEDS_INFO,
        decision_note="Which webinar?",
    )
    return World(
        people={"anonymous": None, "member": member, "other": other, "verifier": verifier, "admin": admin},
        audited=audited,
        questioned=questioned,
        contribution=contribution,
        contribution_with_file=with_file,
        notification=notification,
        signup=signup,
        offered=offered,
        opportunity=opportunity,
        certificate=certificate,
        program_year=year,
        saml_slug=saml.slug,
        oidc_id=oidc.slug,
        opt_out=OptOut.objects.create(member=other, program_year=year, reason="On leave"),
        requirement=TechnicalRequirementFactory(
            program_year=year, kind="training", name="Level 3 Model Building", due_on=year.deadline - timedelta(days=1)
        ),
    )


def path_for(template: str, world) -> str:
    return template.format(
        notification=world.notification.pk,
        contribution=world.contribution.pk,
        with_file=world.contribution_with_file.pk,
        signup=world.signup.pk,
        offered=world.offered.pk,
        slug=world.opportunity.slug,
        spare="lunch-and-learn",
        code=world.certificate.verification_code,
        certificate=world.certificate.pk,
        program_year=world.program_year.pk,
        saml=world.saml_slug,
        oidc=world.oidc_id,
        requirement=world.requirement.pk if world.requirement else 0,
        audited=world.audited.pk if world.audited else 0,
        questioned=world.questioned.pk if world.questioned else 0,
        opt_out=world.opt_out.pk if world.opt_out else 0,
    )
