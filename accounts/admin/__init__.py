"""The accounts app's staff screens. Admin autodiscovery imports this package: importing each
module registers its `ModelAdmin`s."""

from accounts.admin.organizations import OrganizationAdmin, SSOConnectionAdmin
from accounts.admin.roster import MACertificationAdmin
from accounts.admin.segment_messages import SegmentMessageAdmin, segment_message_compose
from accounts.admin.users import NotificationAdmin, UserAdmin

__all__ = [
    "MACertificationAdmin",
    "NotificationAdmin",
    "OrganizationAdmin",
    "SSOConnectionAdmin",
    "SegmentMessageAdmin",
    "UserAdmin",
    "segment_message_compose",
]
