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
