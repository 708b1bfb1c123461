"""Admin pages beyond the generated ones: decide on one item, bulk decisions with a message,
the program-year report (with CSV/XLSX export) and the year-end review.

To patch a setting in a test, patch the module that reads it (`admin_views.years.REPORT_PAGE_SIZE`);
it is deliberately not re-exported here, so a stale patch of the package fails loudly.
"""

from contributions.admin_views.queue import (
    BULK_TITLES,
    BULK_VERBS,
    OVERRIDE_HELP,
    CorrectionForm,
    DecisionForm,
    EvidencePreview,
    MessageForm,
    ReasonForm,
    bulk_decision_with_message,
    bulk_result_messages,
    contribution_correct,
    contribution_decide,
    evidence_preview,
)
from contributions.admin_views.requirements import (
    MarkMetForm,
    requirement_statuses_mark_met,
)
from contributions.admin_views.years import (
    REVIEW_COLUMNS,
    STATUS_COLOURS,
    may_run_year_end_review,
    program_year_report,
    program_year_report_message,
    program_year_review,
)

__all__ = [
    "BULK_TITLES",
    "BULK_VERBS",
    "OVERRIDE_HELP",
    "REVIEW_COLUMNS",
    "STATUS_COLOURS",
    "CorrectionForm",
    "DecisionForm",
    "EvidencePreview",
    "MarkMetForm",
    "MessageForm",
    "ReasonForm",
    "bulk_decision_with_message",
    "bulk_result_messages",
    "contribution_correct",
    "contribution_decide",
    "evidence_preview",
    "may_run_year_end_review",
    "program_year_report",
    "program_year_report_message",
    "program_year_review",
    "requirement_statuses_mark_met",
]
