"""The contributions app's models, one module per concern; every model (and every name the
migrations import, such as `certificate_code`) is importable from `contributions.models`."""

from contributions.models.audits import (
    Audit,
    AuditRun,
)
from contributions.models.certificates import (
    Certificate,
    certificate_code,
    certificate_subject_salt,
)
from contributions.models.contributions import (
    DESCRIPTION_MAX_LENGTH,
    STORED_EVIDENCE_SUFFIXES,
    TITLE_MAX_LENGTH,
    WHOLE_UNITS_CONSTRAINT,
    Contribution,
    ContributionMessage,
    evidence_upload_to,
    text_within,
)
from contributions.models.member_years import (
    OptOut,
    RequirementStatus,
    StandingChange,
    StandingTotals,
    StandingVersion,
    StatusCounts,
    TargetOverride,
)
from contributions.models.review import (
    ReviewOutcome,
    ReviewOutcomeQuerySet,
    ReviewRun,
)
from contributions.models.years import (
    DEFAULT_MAX_QUANTITY_PER_CLAIM,
    FRACTIONAL_UNITS,
    PROGRAM_YEAR_MAX_LENGTH,
    UNIT_CHANGE_CONSTRAINT,
    WHOLE_MAXIMUM_CONSTRAINT,
    ActivityType,
    ProgramYear,
    ProgramYearQuerySet,
    TechnicalRequirement,
    program_years_overlapping,
)

__all__ = [
    "DEFAULT_MAX_QUANTITY_PER_CLAIM",
    "DESCRIPTION_MAX_LENGTH",
    "FRACTIONAL_UNITS",
    "PROGRAM_YEAR_MAX_LENGTH",
    "STORED_EVIDENCE_SUFFIXES",
    "TITLE_MAX_LENGTH",
    "UNIT_CHANGE_CONSTRAINT",
    "WHOLE_MAXIMUM_CONSTRAINT",
    "WHOLE_UNITS_CONSTRAINT",
    "ActivityType",
    "Audit",
    "AuditRun",
    "Certificate",
    "Contribution",
    "ContributionMessage",
    "OptOut",
    "ProgramYear",
    "ProgramYearQuerySet",
    "RequirementStatus",
    "ReviewOutcome",
    "ReviewOutcomeQuerySet",
    "ReviewRun",
    "StandingChange",
    "StandingTotals",
    "StandingVersion",
    "StatusCounts",
    "TargetOverride",
    "TechnicalRequirement",
    "certificate_code",
    "certificate_subject_salt",
    "evidence_upload_to",
    "program_years_overlapping",
    "text_within",
]
