"""Run by tests/mahome/test_local_run_sqlite.py through `manage.py shell -c` on a fresh SQLite demo.

Not a test module: it needs the demo data of `seed_demo` and `mahome.settings.local`. It walks the pages a
newcomer opens on the first day, compares the year report's SQL standing and the maintained totals with
Python's `member_years`, and prints each problem, then one summary line.
"""

import traceback
from collections import Counter

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib import admin
from django.db.models.expressions import RawSQL
from django.test import Client
from django.test.utils import setup_test_environment

from accounts.demo import DEMO_TOTP_SECRET
from accounts.models import MACertification, User
from contributions import rules, selectors
from contributions.models import ActivityType, Contribution, ProgramYear, StandingTotals
from engagements.models import Opportunity
from tests.ops.test_admin_walk import _admin_patterns, _fill

setup_test_environment()  # the test client's host, emails kept in memory
visited, failures = [], []


def visit(client, who, path):
    response = client.get(path)
    visited.append(path)
    if response.status_code >= 500:
        exc = getattr(response, "exc_info", None)
        why = "".join(traceback.format_exception_only(exc[1])).strip() if exc else ""
        failures.append(f"{who} GET {path} -> {response.status_code} {why}")


def signed_in(user):
    client = Client(raise_request_exception=False)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


root, _ = User.objects.get_or_create(
    email="sqlite.root@example.com", defaults={"is_staff": True, "is_superuser": True, "first_name": "Root"}
)
staff = [root, *User.objects.filter(email__in=["paul.admin@example.com", "vera.verifier@example.com"])]
for user in staff:
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, DEMO_TOTP_SECRET)
members = list(User.objects.filter(is_staff=False).filter(certification__isnull=False).order_by("pk")[:3])
members += list(User.objects.filter(email__in=["ava.member@example.com", "nora.lind@northwind.example"]))
opportunity = Opportunity.objects.order_by("pk").first()
assert opportunity is not None and members and len(staff) == 3

for member in members:
    client = signed_in(member)
    pages = [
        "/",
        "/contributions/",
        "/contributions/catalogue/",
        "/contributions/new/",
        "/engagements/",
        f"/engagements/{opportunity.slug}/",
        "/engagements/mine/",
        "/engagements/suggestions/",
        "/community/levels/",
        "/community/me/",
        "/community/boss/",
        "/profile/",
        "/notifications/",
        "/certificates/",
        "/help/",
        "/status/",
    ]
    pages += [
        f"/contributions/{pk}/" for pk in Contribution.objects.filter(member=member).values_list("pk", flat=True)[:3]
    ]
    for path in pages:
        visit(client, member.email, path)

objects = {
    (m._meta.app_label, m._meta.model_name): m._default_manager.order_by("-pk").first() for m in admin.site._registry
}
for user in staff:
    client = signed_in(user)
    visit(client, user.email, "/admin/")
    standard = set()
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        obj = objects[(model._meta.app_label, model._meta.model_name)]
        paths = [base] + ([f"{base}{obj.pk}/change/"] if obj is not None else [])
        standard.update(paths)
        for path in paths:
            visit(client, user.email, path)
    for name, route in _admin_patterns():
        path = _fill(route, objects)
        if name == "admin:logout" or path is None or path in standard:
            continue
        visit(client, user.email, path)
    for program_year in ProgramYear.objects.order_by("year"):
        report = f"/admin/contributions/programyear/{program_year.pk}/report/"
        queries = [
            "",
            "?page=2",
            "?opted_out=yes",
            "?opted_out=no",
            "?q=a",
            "?export=csv",
            "?export=xlsx",
            "?status=met&export=csv",
            "?status=at_risk&export=xlsx",
        ]
        queries += [f"?status={status}" for status in rules.STATUS_LABELS]
        if user.email != "paul.admin@example.com":  # every filter once (as the program admin) is enough
            queries = [""]
        for query in queries:
            visit(client, user.email, report + query)
    roster = f"/admin/{MACertification._meta.app_label}/{MACertification._meta.model_name}/"
    for status in rules.STATUS_LABELS:
        visit(client, user.email, f"{roster}?year_status={status}")

# The report's counts (SQL) against the Python standing, member by member, for every year.
mismatches = []
for program_year in ProgramYear.objects.order_by("year"):
    rows = selectors.program_year_report(program_year=program_year)
    python = Counter(str(row.status) for row in rows)
    try:
        page = selectors.program_year_report_page(program_year=program_year, number=1, per_page=25)
        sql_counts = {str(k): v for k, v in page.counts.items() if v}
        for status in rules.STATUS_LABELS:
            sql, params = selectors.member_ids_with_status_sql(program_year=program_year, status=status)
            ids = set(User.objects.filter(pk__in=RawSQL(sql, params)).values_list("pk", flat=True))
            expected = {row.member.pk for row in rows if row.status == status}
            if ids != expected:
                mismatches.append(f"{program_year.year} {status}: SQL {sorted(ids)} Python {sorted(expected)}")
    except Exception as error:
        sql_counts = f"error: {error!r}"
    if sql_counts != dict(python):
        mismatches.append(f"{program_year.year}: SQL {sql_counts} Python {dict(python)}")
    totals = {(t.member_id): (t.verified, t.pending) for t in StandingTotals.objects.filter(program_year=program_year)}
    for row in rows:
        if totals.get(row.member.pk, (0, 0)) != (row.verified, row.pending):
            mismatches.append(
                f"{program_year.year} totals of {row.member.email}: {totals.get(row.member.pk)} "
                f"Python {(row.verified, row.pending)}"
            )


# The maintained totals follow every kind of write of contributions and of a type's cap.
def totals_problems(when):
    problems = []
    for program_year in ProgramYear.objects.order_by("year"):
        rows = selectors.member_years(program_year=program_year, members=list(User.objects.all()))
        totals = {
            t.member_id: (t.verified, t.pending) for t in StandingTotals.objects.filter(program_year=program_year)
        }
        for row in rows:
            if totals.get(row.member.pk, (0, 0)) != (row.verified, row.pending):
                problems.append(
                    f"{when}: {program_year.year} totals of {row.member.email}: "
                    f"{totals.get(row.member.pk)} Python {(row.verified, row.pending)}"
                )
    return problems


counted = Contribution.objects.filter(state=Contribution.State.VERIFIED).order_by("pk")
first, second, third = counted[0], counted[1], counted[2]
Contribution.objects.filter(pk=first.pk).update(claimed_points=first.claimed_points + 7, awarded_points=None)
mismatches += totals_problems("after an update of points")
Contribution.objects.filter(pk=second.pk).update(state=Contribution.State.SUBMITTED)
mismatches += totals_problems("after a change of state")
third.delete()
mismatches += totals_problems("after a delete")
ActivityType.objects.filter(pk=first.activity_type_id).update(annual_cap=5)
mismatches += totals_problems("after a new cap")
Contribution.objects.create(
    member=first.member,
    program_year=first.program_year,
    activity_type=first.activity_type,
    title="SQLite",
    occurred_on=first.occurred_on,
    quantity=1,
    claimed_points=3,
    state=Contribution.State.SUBMITTED,
)
mismatches += totals_problems("after an insert")

print("\n".join(failures))
print("\n".join(mismatches))
print(
    "VISITED",
    len(visited),
    "FAILURES",
    len(failures),
    "MISMATCHES",
    len(mismatches),
    "MAS",
    sum(1 for _ in selectors.eligible_members(program_year=ProgramYear.objects.order_by("-year").first())),
)
