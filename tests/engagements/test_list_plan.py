"""The browse page counts each opportunity's held slots from the index on (opportunity, state) alone (issue 16).

Counted as `COUNT(id)`, PostgreSQL read every counted sign-up's row from the table (~70 pages per
opportunity in the benchmark, most of the list's SQL time); `COUNT(*)` lets the index answer.
A test's few rows would be read with a sequential scan, so those scans are switched off and the
table vacuumed (its pages all visible, as in production): the question is which index answers.
"""

import pytest
from django.db import connection, transaction

from engagements import selectors
from tests.factories import OpportunityFactory, SignUpFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_slot_counts_are_index_only_scans():
    member = UserFactory()
    for opportunity in OpportunityFactory.create_batch(3, capacity=50):
        SignUpFactory.create_batch(40, opportunity=opportunity)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE engagements_signup")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        plan = selectors.opportunity_list(member=member)[:20].explain()
    assert plan.count("Index Only Scan using signup_opportunity_state") >= 2, plan
