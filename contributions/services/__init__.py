"""Every write of points: member submissions, verification and auto-tracked credits.

Other apps (engagements, community_levels) credit points only through these functions. Callers
write `from contributions import services` and `services.contribution_decide(...)`; the package
re-exports each module's public names:

- `submission`: a member's own items (create, change, submit, answer, delete a draft, withdraw);
- `decisions`: verification, corrections, reopenings, bulk decisions, the award bound;
- `years`: program years, their catalogue and requirements, target overrides;
- `requirements`: requirement reports and staff recording requirement statuses;
- `opt_outs`, `review` (the year-end review), `reminders`;
- `automatic`: auto-tracked credits (engagements) and the community recount (community_levels);
- `certificates`: every write of certificates (issue, revoke, re-issue, hide), re-exported here;
- `audits`: risk-based audits (sampling, the member's answer, the conclusion); not re-exported (it
  reads the selectors): `from contributions.services import audits`;
- `base` (points, the year a date counts toward, saving with history) and `locks` (lock_timeout).

To patch a name in a test, patch it in the module that reads it (e.g. `services.locks.LOCK_TIMEOUT`):
a re-exported copy here is not what the code looks up, so `LOCK_TIMEOUT` is deliberately not re-exported.
"""

from contributions.errors import ContributionError  # the one domain error
from contributions.rules import (  # pure claim rules, re-exported
    UNITS_PLURAL,
    points_for,
    quantity_refusal,
    whole_units_refusal,
)
from contributions.services.automatic import (
    CommunityCredit,
    activity_type_for_date,
    community_credit_columns,
    community_credit_rows,
    contribution_credit_automatic,
    contributions_sync_community,
    contributions_sync_community_query,
)
from contributions.services.base import program_year_for_date
from contributions.services.certificates import (  # certificate writes are contributions services too
    certificate_reissue,
    certificate_revoke,
    certificate_set_public,
    certificates_issue_missing,
    renewal_certificate,
)
from contributions.services.decisions import (
    BULK_STATES,
    DECIDED_STATES,
    DECISION_NAMES,
    DECISION_STATES,
    DECISIONS,
    AwardLimit,
    BulkResult,
    Decision,
    award_limit,
    contribution_correct,
    contribution_decide,
    contribution_reopen,
    contribution_reverse,
    contributions_decide_bulk,
    may_override_award_bounds,
)
from contributions.services.locks import (
    BUSY_CONTRIBUTION,
    BUSY_OWN,
    BUSY_REQUIREMENT,
)
from contributions.services.opt_outs import (
    TAKE_BACK_REASON_MAX_LENGTH,
    opt_out_create,
    opt_out_take_back,
    opt_out_undo,
)
from contributions.services.reminders import (
    REMINDER_DAYS,
    maintenance_deadline_reminders_send,
    maintenance_monthly_status_send,
)
from contributions.services.requirements import (
    OPEN_STATES,
    REQUIREMENT_REPORT_CODE,
    StatusBulkResult,
    may_override_requirement_date,
    requirement_date_refusal,
    requirement_report_create,
    requirement_report_decision_lines,
    requirement_report_refusal,
    requirement_report_title,
    requirement_report_type,
    requirement_status_set,
    requirement_statuses_mark_met,
)
from contributions.services.review import (
    ReviewEntry,
    ReviewReport,
    review_notifications_send,
    review_plan,
    year_end_review,
    year_end_review_refusal,
)
from contributions.services.submission import (
    EDITABLE_STATES,
    WITHDRAWABLE_STATES,
    contribution_create,
    contribution_draft_delete,
    contribution_edit,
    contribution_reply,
    contribution_submit,
    contribution_update,
    contribution_withdraw,
    date_outside_year_message,
    program_year_span,
    question_answered,
    submission_refusal,
)
from contributions.services.years import (
    REASON_MAX_LENGTH,
    TARGET_FIELDS,
    CatalogueCopy,
    activity_type_changed,
    activity_type_save,
    program_year_copy_catalogue,
    program_year_missing_for_publication,
    program_year_publish,
    program_year_save,
    target_override_set,
    technical_requirement_delete,
    technical_requirement_save,
    unit_change_refusal,
)

__all__ = [
    "BULK_STATES",
    "BUSY_CONTRIBUTION",
    "BUSY_OWN",
    "BUSY_REQUIREMENT",
    "DECIDED_STATES",
    "DECISIONS",
    "DECISION_NAMES",
    "DECISION_STATES",
    "EDITABLE_STATES",
    "OPEN_STATES",
    "REASON_MAX_LENGTH",
    "REMINDER_DAYS",
    "REQUIREMENT_REPORT_CODE",
    "TAKE_BACK_REASON_MAX_LENGTH",
    "TARGET_FIELDS",
    "UNITS_PLURAL",
    "WITHDRAWABLE_STATES",
    "AwardLimit",
    "BulkResult",
    "CatalogueCopy",
    "CommunityCredit",
    "ContributionError",
    "Decision",
    "ReviewEntry",
    "ReviewReport",
    "StatusBulkResult",
    "activity_type_changed",
    "activity_type_for_date",
    "activity_type_save",
    "award_limit",
    "certificate_reissue",
    "certificate_revoke",
    "certificate_set_public",
    "certificates_issue_missing",
    "community_credit_columns",
    "community_credit_rows",
    "contribution_correct",
    "contribution_create",
    "contribution_credit_automatic",
    "contribution_decide",
    "contribution_draft_delete",
    "contribution_edit",
    "contribution_reopen",
    "contribution_reply",
    "contribution_reverse",
    "contribution_submit",
    "contribution_update",
    "contribution_withdraw",
    "contributions_decide_bulk",
    "contributions_sync_community",
    "contributions_sync_community_query",
    "date_outside_year_message",
    "maintenance_deadline_reminders_send",
    "maintenance_monthly_status_send",
    "may_override_award_bounds",
    "may_override_requirement_date",
    "opt_out_create",
    "opt_out_take_back",
    "opt_out_undo",
    "points_for",
    "program_year_copy_catalogue",
    "program_year_for_date",
    "program_year_missing_for_publication",
    "program_year_publish",
    "program_year_save",
    "program_year_span",
    "quantity_refusal",
    "question_answered",
    "renewal_certificate",
    "requirement_date_refusal",
    "requirement_report_create",
    "requirement_report_decision_lines",
    "requirement_report_refusal",
    "requirement_report_title",
    "requirement_report_type",
    "requirement_status_set",
    "requirement_statuses_mark_met",
    "review_notifications_send",
    "review_plan",
    "submission_refusal",
    "target_override_set",
    "technical_requirement_delete",
    "technical_requirement_save",
    "unit_change_refusal",
    "whole_units_refusal",
    "year_end_review",
    "year_end_review_refusal",
]
