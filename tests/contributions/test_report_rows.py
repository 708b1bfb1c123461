"""The year report's rows: built in Python (`admin_views.report_rows`) as the template wrote them, and
the page's members read from an index on the names in the standing's order (issue 16)."""

from datetime import date

import pytest
from django.template import Context, Template
from django.utils import translation

from contributions import admin_views, rules, selectors, standing
from contributions.admin_views.report_rows import report_rows_html
from contributions.models import OptOut, RequirementStatus, TargetOverride, TechnicalRequirement
from contributions.selectors.report import report_page_members
from tests.factories import ActivityTypeFactory, ContributionFactory, MACertificationFactory, UserFactory

pytestmark = pytest.mark.django_db

# The rows as `contributions/admin/report.html` rendered them before they were built in Python; a requirement
# not met shows its state as the dashboard does (`rules.requirement_progress`), no longer "pending".
TEMPLATE_ROWS = """{% load i18n %}{% url 'admin:contributions_contribution_changelist' as changelist_url %}{% translate "override" as override_label %}{% translate "over cap" as over_cap_label %}{% translate "Yes" as yes_label %}{% translate "No" as no_label %}{% for row in page %}
      <tr>
        <td><a href="{{ changelist_url }}?state=all&amp;member={{ row.member.pk }}">{{ row.member.email }}</a><br>{{ row.member.get_full_name }}</td>
        <td>{{ row.target_points }}{% if row.override %} ({{ override_label }}){% endif %}</td>
        <td>{{ row.verified }}{% if row.excess %} (+{{ row.excess }} {{ over_cap_label }}){% endif %}</td>
        <td>{{ row.pending }}</td>
        <td>{{ row.status_label }}</td>
        <td>{% for r in row.requirements %}{{ r.requirement.name }}: {% if r.is_met %}✓ {{ r.met_on }}{% else %}{{ r.progress_label }}{% endif %}{% if not forloop.last %}<br>{% endif %}{% empty %}—{% endfor %}</td>
        <td>{% if row.opt_out %}{{ yes_label }}{% else %}{{ no_label }}{% endif %}</td>
      </tr>
    {% endfor %}"""  # noqa: E501


def _varied_year(speaking, *, count: int = 14):
    """Members with and without each thing a row shows: override, points over a cap, requirements met
    and pending, an opt-out, markup and accents in names."""
    year = speaking.program_year
    capped = ActivityTypeFactory(program_year=year, code="replies", points=2, annual_cap=10)
    exam = TechnicalRequirement.objects.create(
        program_year=year, kind="exam", name="Exam <B>", due_on=date(2026, 6, 30)
    )
    TechnicalRequirement.objects.create(program_year=year, kind="training", name="Training", due_on=date(2026, 9, 30))
    for n in range(count):
        user = UserFactory(first_name=["Zoë", "<i>Al</i>", "Ann"][n % 3], last_name=f"Name{n % 5} & Co")
        member = MACertificationFactory(user=user, qualified_on=date(2026, 1 + n % 12, 1 + n % 20)).user
        ContributionFactory(member=member, activity_type=speaking, state="verified", awarded_points=400 * (n % 4))
        ContributionFactory(member=member, activity_type=capped, state="verified", awarded_points=6 * (n % 4))
        ContributionFactory(member=member, activity_type=speaking, state="submitted")
        if n % 2:
            RequirementStatus.objects.create(requirement=exam, member=member, met_on=date(2026, 5, n % 28 + 1))
        if n % 3 == 1:
            TargetOverride.objects.create(
                member=member, program_year=year, target_points=[50, 1500][n % 2], reason="Leave"
            )
        if n % 4 == 2:
            OptOut.objects.create(member=member, program_year=year, reason="Sabbatical")
    return year


@pytest.mark.parametrize("separators", [False, True])
def test_report_rows_are_the_html_the_template_wrote(speaking, settings, separators):
    settings.USE_THOUSAND_SEPARATOR = separators  # a target of 1,500: the template localized every number
    year = _varied_year(speaking)
    rows = selectors.program_year_report(program_year=year, today=date(2026, 10, 1))
    assert any(r.excess for r in rows) and any(r.override for r in rows) and any(r.opt_out for r in rows)
    assert any(r.is_met for row in rows for r in row.requirements)
    with translation.override("en"):
        expected = Template(TEMPLATE_ROWS).render(Context({"page": rows}))
        assert str(report_rows_html(rows)) == expected
        assert "&lt;i&gt;Al&lt;/i&gt;" in expected and "Exam &lt;B&gt;" in expected  # escaped, as the template did
        assert ("1,500" in expected) is separators and ("1500" in expected) is not separators


def test_report_rows_without_requirements_show_a_dash(speaking):
    member = MACertificationFactory().user
    rows = selectors.program_year_report(program_year=speaking.program_year, today=date(2026, 10, 1))
    assert [r.member for r in rows] == [member]
    assert str(report_rows_html(rows)) == Template(TEMPLATE_ROWS).render(Context({"page": rows}))
    assert "<td>—</td>" in str(report_rows_html(rows))


@pytest.mark.parametrize(
    "filters",
    [{}, {"opted_out": rules.OptedOutFilter.YES}, {"opted_out": rules.OptedOutFilter.NO}, {"search": "name1"}],
)
def test_report_page_members_are_the_standings_page_in_its_order(speaking, filters):
    """The page read from the index on the names holds the same members, in the same order, as the page
    of the standing's SQL (`standing.page_ids`), on every page, read from either end of the index."""
    year = _varied_year(speaking, count=23)
    today = date(2026, 10, 1)
    sql, params = standing.standing_rows(program_year=year, today=today, **filters)
    counted = sum(standing.status_counts(sql=sql, params=params).values())
    assert counted >= 5
    for offset in range(0, counted + 4, 4):
        expected = standing.page_ids(sql=sql, params=params, offset=offset, limit=4)
        for total in (None, counted):  # from the index's start; given the total, the second half from its end
            members = report_page_members(
                program_year=year,
                search=filters.get("search", ""),
                opted_out=filters.get("opted_out", ""),
                offset=offset,
                limit=4,
                total=total,
            )
            assert [m.pk for m in members] == expected, (offset, total)


def test_report_page_shows_the_counts_and_rows_of_the_python_rules(client, program_admin, speaking, monkeypatch):
    """Every page of the report, filtered or not: the counts are those of `member_years` over every MA,
    the rows those of `member_years` for the page's members in name order."""
    from tests.helpers import with_mfa

    monkeypatch.setattr(admin_views.years, "REPORT_PAGE_SIZE", 6)
    year = _varied_year(speaking, count=20)
    everyone = selectors.program_year_report(program_year=year)
    client.force_login(with_mfa(program_admin))
    for query, kept in [
        ("", everyone),
        ("status=on_track&", [r for r in everyone if r.status == rules.ON_TRACK]),
        ("opted_out=yes&", [r for r in everyone if r.opt_out]),
    ]:
        expected_counts = {key: sum(1 for r in kept if r.status == key) for key in rules.STATUS_LABELS}
        for number in range(1, (len(kept) + 5) // 6 + 1):
            url = f"/admin/contributions/programyear/{year.pk}/report/?{query}page={number}"
            context = client.get(url).context
            assert dict(zip(rules.STATUS_LABELS, context["chart"]["counts"], strict=True)) == expected_counts
            shown = context["page"].object_list
            want = kept[(number - 1) * 6 : number * 6]
            assert [(r.member.pk, r.status, r.verified, r.pending) for r in shown] == [
                (r.member.pk, r.status, r.verified, r.pending) for r in want
            ]


def test_report_page_order_has_an_index():
    """The unfiltered page walks an index on the report's order instead of sorting every MA (issue 16)."""
    from django.db import connection

    from accounts.models import User
    from contributions.selectors.report import REPORT_ORDER

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, User._meta.db_table)
    assert any(c["index"] and tuple(c["columns"]) == REPORT_ORDER for c in constraints.values())


def test_member_years_reads_the_joined_records_of_the_same_year_only(speaking, django_assert_num_queries):
    """Members read `with_year_records` carry their override, opt-out and outcome of the year: `member_years`
    decides the same, three queries fewer; joined for another year, they are read again for this one."""
    from accounts.models import User
    from contributions.models import ReviewOutcome
    from contributions.selectors.members import member_years, with_year_records
    from tests.factories import ProgramYearFactory

    year = _varied_year(speaking, count=12)
    outcome_member = MACertificationFactory().user
    ReviewOutcome.objects.create(
        member=outcome_member, program_year=year, outcome="recertified", target_points=400, verified_points=400
    )
    plain = list(User.objects.filter(certification__isnull=False).select_related("certification").order_by("pk"))
    with django_assert_num_queries(7):
        expected = member_years(program_year=year, members=plain, today=date(2026, 10, 1))
    joined = list(
        with_year_records(User.objects.filter(pk__in=[m.pk for m in plain]), program_year=year).order_by("pk")
    )
    with django_assert_num_queries(4 + len(joined)):  # + each member's certification, not selected here
        got = member_years(program_year=year, members=joined, today=date(2026, 10, 1))

    def _shown(rows):
        return [(r.member.pk, r.status, r.target_points, r.override, r.opt_out, r.outcome) for r in rows]

    assert _shown(got) == _shown(expected)
    assert any(r.override for r in got) and any(r.opt_out for r in got) and any(r.outcome for r in got)

    other = ProgramYearFactory(year=2025)
    elsewhere = list(
        with_year_records(User.objects.filter(pk__in=[m.pk for m in plain]), program_year=other).order_by("pk")
    )
    assert _shown(member_years(program_year=year, members=elsewhere, today=date(2026, 10, 1))) == _shown(expected)
