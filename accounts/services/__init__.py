"""Every write of the accounts app.

The package's modules: `notifications` (in-app and the email outbox), `members` (accounts and
provisioning), `invitations` (the invitation, set-password links, `password_refusal`), `sso`,
`profiles`, `staff` (staff roles and staff edits), `segment_messages`. Callers import from
`accounts.services`; a test that replaces a name a service looks up patches the module that looks
it up (e.g. `accounts.services.notifications.send_mail`).
"""

from accounts.errors import AccountError
from accounts.services.invitations import (
    InvitationResend,
    invitation_lines,
    invitation_resend_refusal,
    invitations_resend,
    member_invitation_path,
    member_invite,
    organization_contact_text,
    password_refusal,
)
from accounts.services.members import (
    certification_change,
    certification_number_problem,
    member_provision,
    member_provision_problems,
    provision_email,
    qualification_date_problem,
    user_create,
)
from accounts.services.notifications import (
    NOTIFICATION_EMAIL_BATCH,
    notification_create,
    notification_record_email_failure,
    notification_send_email,
    notifications_create_many,
    notifications_mark_read,
)
from accounts.services.profiles import (
    PROFILE_FIELDS,
    profile_update,
    sessions_end_all,
)
from accounts.services.segment_messages import (
    SEGMENT_MESSAGE_KIND,
    segment_message_refusal,
    segment_message_send,
)
from accounts.services.sso import (
    sso_connection_problems,
    sso_connection_sync,
)
from accounts.services.staff import (
    STAFF_EDITABLE_FIELDS,
    user_set_staff_role,
    user_update_by_staff,
)

__all__ = [
    "NOTIFICATION_EMAIL_BATCH",
    "PROFILE_FIELDS",
    "SEGMENT_MESSAGE_KIND",
    "STAFF_EDITABLE_FIELDS",
    "AccountError",
    "InvitationResend",
    "certification_change",
    "certification_number_problem",
    "invitation_lines",
    "invitation_resend_refusal",
    "invitations_resend",
    "member_invitation_path",
    "member_invite",
    "member_provision",
    "member_provision_problems",
    "notification_create",
    "notification_record_email_failure",
    "notification_send_email",
    "notifications_create_many",
    "notifications_mark_read",
    "organization_contact_text",
    "password_refusal",
    "profile_update",
    "provision_email",
    "qualification_date_problem",
    "segment_message_refusal",
    "segment_message_send",
    "sessions_end_all",
    "sso_connection_problems",
    "sso_connection_sync",
    "user_create",
    "user_set_staff_role",
    "user_update_by_staff",
]
