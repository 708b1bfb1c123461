"""factory_boy factories shared by every test module."""

from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from accounts.models import MACertification, Notification, User
from contributions.models import ActivityType, Contribution, ProgramYear

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"member{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))
        if create:
            self.save()


class StaffFactory(UserFactory):
    is_staff = True


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    user = factory.SubFactory(UserFactory)
    kind = "test"
    title = factory.Sequence(lambda n: f"Notification {n}")
    body = "Something happened."


class MACertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MACertification

    user = factory.SubFactory(UserFactory)
    certificate_number = factory.Sequence(lambda n: f"MA-{n:05d}")
    qualified_on = date(2019, 6, 1)


class ProgramYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgramYear
        django_get_or_create = ("year",)

    year = 2021
    target_points = 400
    opens_on = factory.LazyAttribute(lambda o: date(o.year, 1, 1))
    deadline = factory.LazyAttribute(lambda o: date(o.year + 1, 1, 1))


class ActivityTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActivityType

    program_year = factory.SubFactory(ProgramYearFactory)
    code = factory.Sequence(lambda n: f"activity-{n}")
    name = factory.Sequence(lambda n: f"Activity {n}")
    category = ActivityType.Category.BRAND
    points = 25
    unit = ActivityType.Unit.ITEM
    tracking = ActivityType.Tracking.MANUAL


class ContributionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contribution

    member = factory.SubFactory(UserFactory)
    activity_type = factory.SubFactory(ActivityTypeFactory)
    program_year = factory.LazyAttribute(lambda o: o.activity_type.program_year)
    title = factory.Sequence(lambda n: f"Contribution {n}")
    occurred_on = factory.LazyAttribute(lambda o: date(o.program_year.year, 3, 15))
    quantity = Decimal(1)
    state = Contribution.State.SUBMITTED
    claimed_points = factory.LazyAttribute(lambda o: o.activity_type.points)


# --- accounts: organizations and single sign-on ----------------------------------------------

from accounts.models import Organization, OrganizationDomain, SSOConnection  # noqa: E402


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Organization {n}")
    fallback_policy = Organization.FallbackPolicy.FALLBACK_ALLOWED
    contact_name = factory.LazyAttribute(
        lambda o: "Priya Raman" if o.fallback_policy == Organization.FallbackPolicy.SSO_REQUIRED else ""
    )
    contact_email = factory.LazyAttribute(lambda o: "it-help@contoso.example" if o.contact_name else "")

    @factory.post_generation
    def domains(self, create, extracted, **kwargs):
        if create and extracted:
            for domain in extracted:
                OrganizationDomain.objects.get_or_create(domain=domain, defaults={"organization": self})


def sso_connection_create(*, organization, kind: str, slug: str, **fields) -> SSOConnection:
    """An SSO connection saved through the service, so its allauth SocialApp exists."""
    from accounts.services import sso_connection_sync

    return sso_connection_sync(connection=SSOConnection(organization=organization, kind=kind, slug=slug, **fields))


# --- Certification maintenance (contributions) ---------------------------------------------


class TechnicalRequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "contributions.TechnicalRequirement"

    program_year = factory.SubFactory(ProgramYearFactory)
    kind = "credential"
    code = factory.Sequence(lambda n: f"requirement-{n}")
    name = factory.Sequence(lambda n: f"Certified Solution Architect {n}")
    due_on = factory.LazyAttribute(lambda o: date(o.program_year.year, 12, 31))


# --- engagements ------------------------------------------------------------------------------
from datetime import timedelta  # noqa: E402

from django.utils import timezone  # noqa: E402

from engagements.models import Opportunity, SignUp, Suggestion  # noqa: E402


class EngagementActivityTypeFactory(ActivityTypeFactory):
    program_year = factory.SubFactory(ProgramYearFactory, year=2026)
    code = factory.Sequence(lambda n: f"engagement-{n}")
    name = factory.Sequence(lambda n: f"Engagement activity {n}")
    points = 40
    tracking = ActivityType.Tracking.ENGAGEMENT
    evidence_required = False


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    title = factory.Sequence(lambda n: f"Opportunity {n}")
    slug = factory.Sequence(lambda n: f"opportunity-{n}")
    category = Opportunity.Category.BLOG
    activity_type = factory.SubFactory(EngagementActivityTypeFactory)
    summary = "Write a post for the community blog."
    description = "A post of 800 to 1,500 words about a model you built."
    participation = "Send a draft, review it with an editor, publish it."
    crediting = "Credited when the post is published."
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    location = ""
    capacity = 10
    waitlist_enabled = True
    state = Opportunity.State.PUBLISHED


class SignUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SignUp

    opportunity = factory.SubFactory(OpportunityFactory)
    member = factory.SubFactory(UserFactory)
    state = SignUp.State.CONFIRMED


class SuggestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Suggestion

    member = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Suggested activity {n}")
    description = "Run a lunch-and-learn on ALM for a customer team."
    proposed_category = ActivityType.Category.ENABLEMENT
    why_it_matters = "It grows the enablement record."


# --- community_levels ----------------------------------------------------------------------------

from community_levels.models import BossProgramWindow, CommunityMember, CommunitySource  # noqa: E402


class CommunityMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommunityMember

    external_id = factory.Sequence(lambda n: f"cm-{n}")
    username = factory.Sequence(lambda n: f"forum-user-{n}")


class BossProgramWindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BossProgramWindow
        django_get_or_create = ("opens_on",)

    name = factory.LazyAttribute(lambda o: f"Boss program {o.opens_on:%B %Y}")
    opens_on = date(2026, 2, 1)
    closes_on = date(2026, 2, 28)


class CommunitySourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommunitySource

    name = "Community forum"
    slug = factory.Sequence(lambda n: f"forum-{n}")
    base_url = "http://127.0.0.1:9"
    api_key = "test-key"
