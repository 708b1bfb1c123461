"""`page_of` answers the page `Paginator.get_page` would, for every kind of page number, in one query."""

import pytest
from django.core.paginator import Paginator

from accounts.models import Notification
from mahome.pagination import page_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("number", [None, "", "1", "2", "3", "4", "99", "0", "-1", "abc", "2.5", 2])
def test_the_same_page_as_the_paginator(number):
    user = UserFactory()
    Notification.objects.bulk_create(Notification(user=user, title=f"n{n}") for n in range(23))
    queryset = Notification.objects.filter(user=user).order_by("pk")
    expected = Paginator(queryset, 10).get_page(number)
    page = page_of(queryset, number=number, per_page=10)
    assert page.number == expected.number
    assert page.paginator.count == expected.paginator.count == 23
    assert page.paginator.num_pages == 3
    assert [n.pk for n in page.object_list] == [n.pk for n in expected.object_list]


def test_one_query_for_a_page_that_exists(django_assert_num_queries):
    user = UserFactory()
    Notification.objects.bulk_create(Notification(user=user, title=f"n{n}") for n in range(23))
    queryset = Notification.objects.filter(user=user).order_by("pk")
    with django_assert_num_queries(1):
        page = page_of(queryset, number="2", per_page=10)
        assert len(page.object_list) == 10 and page.paginator.num_pages == 3 and page.has_next()


def test_an_empty_queryset_has_its_one_empty_page():
    page = page_of(Notification.objects.none(), number="5", per_page=10)
    assert page.number == 1 and list(page.object_list) == [] and page.paginator.count == 0
