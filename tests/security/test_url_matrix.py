"""Every URL of the project × every kind of person: the expected status of each cell, and no 500.

The table is the specification. A URL pattern of a project app without a row fails
`test_every_project_url_has_a_row`, so a new URL cannot ship without its access decision.
Object URLs use objects owned by "member"; "other" (another member) must get 404 for them.
Admin and allauth URLs are sampled (the admin index, a changelist per app, the allauth sign-in,
reset and two-factor pages) plus every custom admin view of the project apps.

Columns: anonymous, member, other (another member), verifier, admin (program admin).
302 for anonymous = sent to the sign-in page; 405 = that URL only accepts POST.
"""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.security.world import ROLES, path_for

pytestmark = pytest.mark.django_db

MEMBER_PAGE = (302, 200, 200, 200, 200)  # any signed-in person; anonymous is sent to sign in
OWNED = (302, 200, 404, 404, 404)  # only the owner; everyone else 404 (no hint that it exists)
POST_ONLY = (302, 405, 405, 405, 405)
PUBLIC = (200, 200, 200, 200, 200)
SIGNED_OUT_ONLY = (200, 302, 302, 302, 302)  # signed-in people are sent to the dashboard
STAFF_VIEW = (302, 302, 302, 200, 200)  # members are sent to the admin sign-in (which refuses them)
ADMIN_ONLY_403 = (302, 302, 302, 403, 200)  # a verifier gets the admin's 403 page
SSO_UNAVAILABLE = (503, 503, 503, 503, 503)  # the IdP's metadata URL does not answer

# (url name, path, expected statuses by column)
MATRIX = [
    # --- mahome -------------------------------------------------------------------------
    ("dashboard", "/", MEMBER_PAGE),
    ("favicon", "/favicon.ico", (302, 302, 302, 302, 302)),  # to the static favicon, for everyone
    ("healthz", "/healthz", PUBLIC),
    ("status", "/status/", PUBLIC),
    ("help", "/help/", PUBLIC),
    ("dev_outbox", "/dev/outbox/", (404, 404, 404, 404, 404)),  # only in the local run (MAHOME_DEV_OUTBOX)
    # --- accounts ------------------------------------------------------------------------
    ("account_login", "/accounts/login/", SIGNED_OUT_ONLY),
    ("account_reset_password", "/accounts/password/reset/", PUBLIC),
    ("profile", "/profile/", MEMBER_PAGE),
    ("sign_out_everywhere", "/profile/sign-out-everywhere/", POST_ONLY),
    ("notification_list", "/notifications/", MEMBER_PAGE),
    ("notification_detail", "/notifications/{notification}/", OWNED),
    ("notification_detail", "/notifications/999999/", (302, 404, 404, 404, 404)),
    ("notification_mark_read", "/notifications/read/", POST_ONLY),
    # --- contributions -------------------------------------------------------------------
    ("contributions:list", "/contributions/", MEMBER_PAGE),
    ("contributions:new", "/contributions/new/", MEMBER_PAGE),
    ("contributions:catalogue", "/contributions/catalogue/", MEMBER_PAGE),
    ("contributions:preview", "/contributions/preview/", MEMBER_PAGE),  # the form's live preview (htmx)
    ("contributions:reply", "/contributions/{contribution}/reply/", POST_ONLY),
    ("contributions:delete", "/contributions/{contribution}/delete/", POST_ONLY),
    ("contributions:audit_answer", "/contributions/{contribution}/audit/", POST_ONLY),
    ("contributions:opt_out", "/contributions/opt-out/", POST_ONLY),
    ("contributions:opt_out_undo", "/contributions/opt-out/undo/", POST_ONLY),
    # Only a requirement of the current year that the member owes has a report page.
    ("contributions:requirement_report", "/contributions/requirements/999999/report/", (302, 404, 404, 404, 404)),
    # A requirement "member" owes; the others are not MAs (no certification), so nothing to report.
    ("contributions:requirement_report", "/contributions/requirements/{requirement}/report/", OWNED),
    ("contributions:detail", "/contributions/{contribution}/", OWNED),
    ("contributions:edit", "/contributions/{contribution}/edit/", OWNED),
    ("contributions:submit", "/contributions/{contribution}/submit/", POST_ONLY),
    ("contributions:withdraw", "/contributions/{contribution}/withdraw/", POST_ONLY),
    # Staff review evidence, so they may open it; another member may not.
    ("contributions:evidence", "/contributions/{with_file}/evidence/", (302, 200, 404, 200, 200)),
    ("contributions:evidence", "/contributions/{contribution}/evidence/", (302, 404, 404, 404, 404)),  # no file
    ("certificate_list", "/certificates/", MEMBER_PAGE),
    ("certificate_visibility", "/certificates/{certificate}/visibility/", POST_ONLY),
    ("certificate_verify_json", "/verify/{code}.json", PUBLIC),
    ("certificate_credential", "/verify/{code}/credential", PUBLIC),
    ("certificate_badge", "/verify/{code}/badge.png", PUBLIC),
    ("certificate_pdf", "/verify/{code}/certificate.pdf", PUBLIC),
    ("credential_status_list", "/credentials/status/1", PUBLIC),
    ("credential_achievement", "/credentials/achievements/certified-master-anaplanner", PUBLIC),
    ("jwks", "/.well-known/jwks.json", PUBLIC),
    ("certificate_verify_json", "/verify/not-a-real-code.json", (404, 404, 404, 404, 404)),
    ("certificate_verify", "/verify/{code}/", PUBLIC),
    ("certificate_verify", "/verify/not-a-real-code/", (404, 404, 404, 404, 404)),
    # --- engagements ---------------------------------------------------------------------
    ("engagements:opportunity_list", "/engagements/", MEMBER_PAGE),
    ("engagements:signup_list", "/engagements/mine/", MEMBER_PAGE),
    ("engagements:suggestion_list", "/engagements/suggestions/", MEMBER_PAGE),
    ("engagements:signup_withdraw", "/engagements/signups/{signup}/withdraw/", POST_ONLY),
    ("engagements:signup_accept", "/engagements/signups/{offered}/accept/", POST_ONLY),
    ("engagements:signup_decline", "/engagements/signups/{offered}/decline/", POST_ONLY),
    ("engagements:signup_calendar", "/engagements/signups/{signup}/calendar.ics", OWNED),
    ("engagements:opportunity_detail", "/engagements/{slug}/", MEMBER_PAGE),
    ("engagements:opportunity_detail", "/engagements/no-such-opportunity/", (302, 404, 404, 404, 404)),
    ("engagements:signup_create", "/engagements/{slug}/sign-up/", POST_ONLY),
    # --- community_levels ----------------------------------------------------------------
    ("community_levels:levels", "/community/levels/", PUBLIC),  # the ladder is public by design
    ("community_levels:me", "/community/me/", MEMBER_PAGE),
    ("community_levels:boss", "/community/boss/", MEMBER_PAGE),
    # --- custom admin views of the project apps ------------------------------------------
    ("admin:accounts_macertification_changelist", "/admin/accounts/macertification/", STAFF_VIEW),  # the MA roster
    ("admin:accounts_macertification_provision", "/admin/accounts/macertification/provision/", ADMIN_ONLY_403),
    ("admin:accounts_macertification_import", "/admin/accounts/macertification/import/", ADMIN_ONLY_403),
    (
        "admin:accounts_macertification_import_error_report",
        "/admin/accounts/macertification/import/error-report/",
        (302, 302, 302, 405, 405),  # a POST of the preview's hidden fields
    ),
    (
        "admin:contributions_requirementstatus_import_error_report",
        "/admin/contributions/requirementstatus/import/error-report/",
        (302, 302, 302, 405, 405),
    ),
    ("admin:contributions_programyear_report", "/admin/contributions/programyear/{program_year}/report/", STAFF_VIEW),
    (
        "admin:contributions_programyear_report_message",  # messaging a segment is a program admin's
        "/admin/contributions/programyear/{program_year}/report/message/",
        ADMIN_ONLY_403,
    ),
    (
        "admin:contributions_programyear_review",
        "/admin/contributions/programyear/{program_year}/review/",
        ADMIN_ONLY_403,
    ),
    ("admin:contributions_audit_changelist", "/admin/contributions/audit/", STAFF_VIEW),  # verifiers conclude audits
    ("admin:contributions_contribution_decide", "/admin/contributions/contribution/{with_file}/decide/", STAFF_VIEW),
    (
        "admin:contributions_certificate_revoke",
        "/admin/contributions/certificate/{certificate}/revoke/",
        ADMIN_ONLY_403,
    ),
    (
        "admin:contributions_certificate_reissue",
        "/admin/contributions/certificate/{certificate}/reissue/",
        ADMIN_ONLY_403,
    ),
    ("admin:contributions_certificate_changelist", "/admin/contributions/certificate/", STAFF_VIEW),
    ("admin:contributions_optout_changelist", "/admin/contributions/optout/", STAFF_VIEW),
    (
        "admin:contributions_optout_take_back",  # taking back a member's opt-out is a program admin's
        "/admin/contributions/optout/{opt_out}/take-back/",
        ADMIN_ONLY_403,
    ),
    ("admin:contributions_reviewoutcome_changelist", "/admin/contributions/reviewoutcome/", STAFF_VIEW),
    ("admin:contributions_certificate_export", "/admin/contributions/certificate/export/", STAFF_VIEW),
    ("admin:contributions_contribution_export", "/admin/contributions/contribution/export/", STAFF_VIEW),
    ("admin:engagements_signup_export", "/admin/engagements/signup/export/", STAFF_VIEW),
    (
        "admin:contributions_requirementstatus_import",
        "/admin/contributions/requirementstatus/import/",
        ADMIN_ONLY_403,
    ),
    ("admin:contributions_contribution_correct", "/admin/contributions/contribution/{with_file}/correct/", STAFF_VIEW),
    ("admin:community_levels_level_preview", "/admin/community_levels/level/preview/", ADMIN_ONLY_403),
    ("admin:community_levels_activityevent_import", "/admin/community_levels/activityevent/import/", ADMIN_ONLY_403),
    # --- admin, sampled ------------------------------------------------------------------
    ("admin:index", "/admin/", STAFF_VIEW),
    ("admin:login", "/admin/login/", (302, 403, 403, 302, 302)),
    ("admin:accounts_user_changelist", "/admin/accounts/user/", STAFF_VIEW),
    ("admin:contributions_contribution_changelist", "/admin/contributions/contribution/", STAFF_VIEW),
    ("admin:engagements_opportunity_changelist", "/admin/engagements/opportunity/", STAFF_VIEW),
    ("admin:community_levels_level_changelist", "/admin/community_levels/level/", STAFF_VIEW),
    ("admin:community_levels_activityevent_changelist", "/admin/community_levels/activityevent/", STAFF_VIEW),
    ("admin:django_celery_beat_periodictask_changelist", "/admin/django_celery_beat/periodictask/", ADMIN_ONLY_403),
    # --- allauth (every page of the flows members use) -----------------------------------
    ("account_logout", "/accounts/logout/", MEMBER_PAGE),  # a confirmation page; signing out is a POST
    ("account_inactive", "/accounts/inactive/", PUBLIC),
    ("account_signup", "/accounts/signup/", SIGNED_OUT_ONLY),  # says sign-up is closed: admins provision
    ("account_reauthenticate", "/accounts/reauthenticate/", MEMBER_PAGE),
    ("account_email", "/accounts/email/", MEMBER_PAGE),
    ("account_email_verification_sent", "/accounts/confirm-email/", PUBLIC),
    ("account_confirm_email", "/accounts/confirm-email/not-a-key/", PUBLIC),  # "invalid link" page
    ("account_change_password", "/accounts/password/change/", MEMBER_PAGE),
    ("account_set_password", "/accounts/password/set/", (302, 302, 302, 302, 302)),  # they have one
    ("account_confirm_login_code", "/accounts/login/code/confirm/", (302, 302, 302, 302, 302)),
    ("account_reset_password_done", "/accounts/password/reset/done/", PUBLIC),
    ("account_reset_password_from_key", "/accounts/password/reset/key/1-not-a-key/", PUBLIC),  # "bad token"
    ("account_reset_password_from_key_done", "/accounts/password/reset/key/done/", PUBLIC),
    ("mfa_index", "/accounts/2fa/", MEMBER_PAGE),
    ("mfa_authenticate", "/accounts/2fa/authenticate/", (302, 302, 302, 302, 302)),  # only mid-sign-in
    ("mfa_reauthenticate", "/accounts/2fa/reauthenticate/", (302, 302, 302, 200, 200)),  # needs an authenticator
    ("mfa_activate_totp", "/accounts/2fa/totp/activate/", (302, 302, 302, 302, 302)),  # reauthenticate first
    ("mfa_deactivate_totp", "/accounts/2fa/totp/deactivate/", (302, 404, 404, 302, 302)),
    ("mfa_view_recovery_codes", "/accounts/2fa/recovery-codes/", (302, 404, 404, 404, 404)),
    ("mfa_generate_recovery_codes", "/accounts/2fa/recovery-codes/generate/", (302, 302, 302, 302, 302)),
    ("mfa_download_recovery_codes", "/accounts/2fa/recovery-codes/download/", (302, 404, 404, 404, 404)),
    ("usersessions_list", "/accounts/sessions/", MEMBER_PAGE),
    ("socialaccount_login_cancelled", "/accounts/3rdparty/login/cancelled/", PUBLIC),
    ("socialaccount_login_error", "/accounts/3rdparty/login/error/", (401, 401, 401, 401, 401)),
    ("socialaccount_signup", "/accounts/3rdparty/signup/", (302, 302, 302, 302, 302)),  # nothing pending
    ("socialaccount_connections", "/accounts/3rdparty/", MEMBER_PAGE),
    ("accounts/social/login/cancelled/", "/accounts/social/login/cancelled/", (301, 301, 301, 301, 301)),
    ("accounts/social/login/error/", "/accounts/social/login/error/", (301, 301, 301, 301, 301)),
    ("accounts/social/signup/", "/accounts/social/signup/", (301, 301, 301, 301, 301)),
    ("accounts/social/connections/", "/accounts/social/connections/", (301, 301, 301, 301, 301)),
    ("saml_acs", "/accounts/saml/{saml}/acs/", (302, 302, 302, 302, 302)),  # GET: back to sign in
    ("saml_finish_acs", "/accounts/saml/{saml}/acs/finish/", (401, 401, 401, 401, 401)),
    ("saml_sls", "/accounts/saml/{saml}/sls/", SSO_UNAVAILABLE),
    ("saml_metadata", "/accounts/saml/{saml}/metadata/", SSO_UNAVAILABLE),
    ("saml_login", "/accounts/saml/{saml}/login/", PUBLIC),  # "could not sign you in" page
    ("openid_connect_login", "/accounts/oidc/{oidc}/login/", PUBLIC),  # the confirm-and-POST page
    ("openid_connect_callback", "/accounts/oidc/{oidc}/login/callback/", (401, 401, 401, 401, 401)),
    # --- anything else -------------------------------------------------------------------
    ("404", "/no-such-page/", (404, 404, 404, 404, 404)),
]

PROJECT_MODULES = ("mahome.", "accounts.", "contributions.", "engagements.", "community_levels.")
# Admin and allauth are sampled; these must be among the rows.
SAMPLED = {
    "admin:index",
    "admin:accounts_user_changelist",
    "admin:contributions_contribution_changelist",
    "admin:engagements_opportunity_changelist",
    "admin:community_levels_level_changelist",
    "account_login",
    "account_reset_password",
    "account_reset_password_from_key",
    "mfa_authenticate",
    "mfa_index",
}


def _patterns(resolver=None, prefix="", namespace=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _patterns(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            yield (f"{namespace}{pattern.name}" if pattern.name else route), route, pattern.callback


def test_every_project_url_has_a_row():
    covered = {row[0] for row in MATRIX}
    missing = []
    for key, route, callback in _patterns():
        module = getattr(callback, "__module__", "") + "."
        in_project = module.startswith(PROJECT_MODULES)
        in_allauth = route.startswith("accounts/") and not in_project
        if (in_project or in_allauth) and key not in covered:
            missing.append(f"{key} ({route})")
    assert not missing, "URLs without a row in MATRIX: " + ", ".join(missing)
    assert not SAMPLED - covered, SAMPLED - covered


@pytest.mark.parametrize(("name", "template", "expected"), MATRIX, ids=[f"{r[0]}|{r[1]}" for r in MATRIX])
def test_status_for_every_role(world, name, template, expected):
    path = path_for(template, world)
    actual = []
    for role in ROLES:
        client = Client(raise_request_exception=False, HTTP_HOST="testserver")  # browsers always send Host
        if world.people[role] is not None:
            client.force_login(world.people[role], backend="django.contrib.auth.backends.ModelBackend")
        response = client.get(path)
        assert response.status_code != 500, f"{role} GET {path} is a 500"
        actual.append(response.status_code)
    assert dict(zip(ROLES, actual, strict=True)) == dict(zip(ROLES, expected, strict=True)), path


def test_anonymous_is_sent_to_sign_in_with_next(world):
    response = Client().get(path_for("/contributions/{contribution}/", world))
    assert response["Location"] == f"/accounts/login/?next=/contributions/{world.contribution.pk}/"
