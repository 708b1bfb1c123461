"""Every non-trivial read of certification maintenance, one module per subject, re-exported here so
callers keep importing `contributions.selectors` (or names from it):

- `members`: `member_years`, the standing of many members in a year in a fixed number of queries
  (the dashboard, the admin report, the reminders and the year-end review read it), and who is an MA;
- `report`: the program-year report (statuses from SQL, one page of rows in full), the counts by status;
- `catalogue`: program years, the activity types open for submission, the claim preview;
- `submissions`: a member's contributions, the verification queue, decisions per verifier, cap left;
- `certificates`: certificates and the years behind them, in words;
- `common`: today, unless the caller says which day.

To replace a function in a test, patch it where it is called from (e.g. `selectors.report.member_years`).
"""

from contributions.selectors.catalogue import (
    ClaimPreview,
    activity_types_open_for_submission,
    catalogue_types,
    catalogue_years,
    claim_preview,
    program_year_current,
    program_year_get,
)
from contributions.selectors.certificates import (
    RECENT_CONTRIBUTIONS,
    certificate_current,
    certificate_status_text,
    certificates_of_member,
    current_among,
    current_certificate_number,
    member_contribution_years,
    reviewed_program_year_ids,
)
from contributions.selectors.members import (
    MemberYear,
    RequirementState,
    TypeTotal,
    eligible_members,
    member_year_for,
    member_years,
    members_matching,
)
from contributions.selectors.report import (
    ReportPage,
    member_ids_with_status_sql,
    program_year_report,
    program_year_report_page,
    program_year_status_counts,
)
from contributions.selectors.submissions import (
    VerifierDecisions,
    cap_left,
    contribution_get,
    contribution_history,
    contribution_list,
    decisions_by_verifier,
    opt_outs_ended,
    queue_next,
    queue_stats,
    queue_waiting_besides,
    same_claims,
    verification_queue,
)

__all__ = [
    "RECENT_CONTRIBUTIONS",
    "ClaimPreview",
    "MemberYear",
    "ReportPage",
    "RequirementState",
    "TypeTotal",
    "VerifierDecisions",
    "activity_types_open_for_submission",
    "cap_left",
    "catalogue_types",
    "catalogue_years",
    "certificate_current",
    "certificate_status_text",
    "certificates_of_member",
    "claim_preview",
    "contribution_get",
    "contribution_history",
    "contribution_list",
    "current_among",
    "current_certificate_number",
    "decisions_by_verifier",
    "eligible_members",
    "member_contribution_years",
    "member_ids_with_status_sql",
    "member_year_for",
    "member_years",
    "members_matching",
    "opt_outs_ended",
    "program_year_current",
    "program_year_get",
    "program_year_report",
    "program_year_report_page",
    "program_year_status_counts",
    "queue_next",
    "queue_stats",
    "queue_waiting_besides",
    "reviewed_program_year_ids",
    "same_claims",
    "verification_queue",
]
