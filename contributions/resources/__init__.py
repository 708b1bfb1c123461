"""Import-export resources: the program-year report, contributions, certificates and audits (export),
requirement statuses (import and export)."""

from contributions.resources.exports import (
    AuditResource,
    CertificateResource,
    ContributionExportResource,
    MemberYearReportResource,
)
from contributions.resources.requirement_statuses import (
    RequirementStatusResource,
)

__all__ = [
    "AuditResource",
    "CertificateResource",
    "ContributionExportResource",
    "MemberYearReportResource",
    "RequirementStatusResource",
]
