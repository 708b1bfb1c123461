"""Staff screens: program years and their rules, the verification queue, the report, the review,
certificates and audits. Django's admin autodiscovery imports this package: importing each module
registers its ModelAdmins."""

from contributions.admin.audits import (
    AuditAdmin,
    AuditConclusionForm,
    AuditOverdueFilter,
    AuditReasonFilter,
    AuditRunAdmin,
)
from contributions.admin.certificates import (
    CertificateActionForm,
    CertificateAdmin,
    MACertificationRosterAdmin,
)
from contributions.admin.queue import (
    ActivityTypeYearFilter,
    ContributionAdmin,
    MemberWithItemsFilter,
    QueueStateFilter,
)
from contributions.admin.requirements import (
    RequirementStatusAdmin,
    RequirementStatusForm,
    TechnicalRequirementAdmin,
)
from contributions.admin.review import (
    ReviewOutcomeAdmin,
    ReviewRunAdmin,
)
from contributions.admin.years import (
    ActivityTypeAdmin,
    ActivityTypeForm,
    CopyCatalogueForm,
    OptOutAdmin,
    ProgramYearAdmin,
    ProgramYearForm,
    TargetOverrideAdmin,
    TechnicalRequirementInline,
)

__all__ = [
    "ActivityTypeAdmin",
    "ActivityTypeForm",
    "ActivityTypeYearFilter",
    "AuditAdmin",
    "AuditConclusionForm",
    "AuditOverdueFilter",
    "AuditReasonFilter",
    "AuditRunAdmin",
    "CertificateActionForm",
    "CertificateAdmin",
    "ContributionAdmin",
    "CopyCatalogueForm",
    "MACertificationRosterAdmin",
    "MemberWithItemsFilter",
    "OptOutAdmin",
    "ProgramYearAdmin",
    "ProgramYearForm",
    "QueueStateFilter",
    "RequirementStatusAdmin",
    "RequirementStatusForm",
    "ReviewOutcomeAdmin",
    "ReviewRunAdmin",
    "TargetOverrideAdmin",
    "TechnicalRequirementAdmin",
    "TechnicalRequirementInline",
]
