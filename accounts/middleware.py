from accounts.roles import is_admin_path, staff_mfa_ready, staff_mfa_required_response


class StaffMFARequiredMiddleware:
    """Staff reach /admin/ only once they have set up an authenticator app (TOTP).

    The admin's own login is replaced by allauth's (see mahome/urls.py), so the password,
    the rate limits and the MFA code are checked by the same flow everyone uses.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            is_admin_path(request.path)
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and not staff_mfa_ready(user)
        ):
            return staff_mfa_required_response(request)
        return self.get_response(request)


class SSOProviderUnavailableMiddleware:
    """An identity provider whose metadata cannot be fetched gives a friendly 503, not a 500.

    allauth fetches a SAML IdP's metadata URL while serving /accounts/saml/<slug>/...; when the
    provider is down or unreachable that fetch raises an OSError (URLError, timeout).
    """

    # allauth's SAML (saml_login, saml_acs…) and OpenID Connect (openid_connect_login, …_callback) views.
    URL_NAME_PREFIXES = ("saml_", "openid_connect_")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        match = request.resolver_match
        url_name = (match.url_name or "") if match is not None else ""
        if not (isinstance(exception, OSError) and url_name.startswith(self.URL_NAME_PREFIXES)):
            return None
        import logging

        from django.shortcuts import render

        logging.getLogger(__name__).warning("Identity provider unreachable for %s: %s", request.path, exception)
        response = render(request, "accounts/sso_unavailable.html", status=503)
        response["Retry-After"] = "60"
        return response


SESSION_ACTIVITY_KEY = "_mahome_activity"


def session_activity_record(request, *, force: bool = False) -> None:
    """Write allauth's UserSession row ("last seen", address, browser) unless the session says it is fresh.

    The session remembers when, from which address and with which browser the row was last written;
    the row is written again only when that is older than `MAHOME_SESSION_ACTIVITY_SECONDS` or the
    address or browser changed (so allauth's `session_client_changed` signal still fires at once).
    """
    import time

    from allauth.account.adapter import get_adapter
    from django.conf import settings

    client = [get_adapter().get_client_ip(request), request.META.get("HTTP_USER_AGENT", "")[:200]]
    now = int(time.time())
    seen = request.session.get(SESSION_ACTIVITY_KEY)
    if not force and seen and seen[1:] == client and now - seen[0] < settings.MAHOME_SESSION_ACTIVITY_SECONDS:
        return
    user_session_write(request, ip=client[0], user_agent=client[1])
    request.session[SESSION_ACTIVITY_KEY] = [now, *client]


# allauth's UserSession row written (created, or its user, address, browser and last seen updated) in one
# statement, answering with the row as it was before, if there was one.
USER_SESSION_UPSERT = """
WITH old AS (
    SELECT user_id, ip, user_agent, data, created_at, last_seen_at
    FROM usersessions_usersession WHERE session_key = %(key)s
), written AS (
    INSERT INTO usersessions_usersession (user_id, created_at, ip, last_seen_at, session_key, user_agent, data)
    VALUES (%(user)s, %(now)s, %(ip)s, %(now)s, %(key)s, %(user_agent)s, '{}')
    ON CONFLICT (session_key) DO UPDATE SET user_id = EXCLUDED.user_id, ip = EXCLUDED.ip,
        user_agent = EXCLUDED.user_agent, last_seen_at = EXCLUDED.last_seen_at
    RETURNING id, created_at, data
)
SELECT written.id, written.created_at, written.data, old.user_id, host(old.ip), old.user_agent, old.data,
    old.created_at, old.last_seen_at, old.user_id IS NOT NULL
FROM written LEFT JOIN old ON true
"""


def user_session_write(request, *, ip: str, user_agent: str) -> None:
    """What allauth's `UserSession.objects.create_from_request` does, in one statement instead of six.

    allauth reads the row, creates it in a savepoint or saves it whole, all in a transaction of its own
    (BEGIN, SELECT, SAVEPOINT, INSERT or UPDATE, RELEASE, COMMIT). The same row is written here by one
    INSERT ... ON CONFLICT DO UPDATE (the row's own transaction in autocommit), which also answers with
    the row as it was, so `session_client_changed` is sent, as allauth sends it, when a row existed with
    another address or browser.
    """
    import json

    from allauth.usersessions.models import UserSession
    from allauth.usersessions.signals import session_client_changed
    from django.db import connection
    from django.utils import timezone

    if connection.vendor != "postgresql":  # SQLite (the laptop's run): allauth's own transaction
        UserSession.objects.create_from_request(request)
        return
    if not request.session.session_key:
        request.session.save()
    key, now = request.session.session_key, timezone.now()
    params = {"key": key, "user": request.user.pk, "ip": ip, "user_agent": user_agent, "now": now}
    with connection.cursor() as cursor:
        cursor.execute(USER_SESSION_UPSERT, params)
        row_id, created_at, data, old_user, old_ip, old_agent, old_data, old_created, old_seen, existed = (
            cursor.fetchone()
        )
    data, old_data = (json.loads(value) if isinstance(value, str) else value for value in (data, old_data))
    if not existed or (old_ip == ip and old_agent == user_agent):
        return
    fields = {"session_key": key}
    from_session = UserSession(
        user_id=old_user,
        ip=old_ip,
        user_agent=old_agent,
        data=old_data,
        created_at=old_created,
        last_seen_at=old_seen,
        **fields,
    )
    to_session = UserSession(
        id=row_id,
        user=request.user,
        ip=ip,
        user_agent=user_agent,
        data=data,
        created_at=created_at,
        last_seen_at=now,
        **fields,
    )
    session_client_changed.send(sender=UserSession, request=request, from_session=from_session, to_session=to_session)


def session_activity_on_login(sender, request, user, **kwargs) -> None:
    """A new session is recorded while it is being saved anyway, so its first page writes nothing."""
    from allauth.usersessions import app_settings
    from django.core.exceptions import PermissionDenied

    if app_settings.TRACK_ACTIVITY and request is not None and hasattr(request, "session"):
        try:
            session_activity_record(request, force=True)
        except PermissionDenied:
            return  # no client address (a request built in code): the first page records the session


class SessionActivityMiddleware:
    """allauth's session list, recorded at most every few minutes (see `session_activity_record`).

    Replaces allauth's `UserSessionsMiddleware`, which reads and rewrites the member's UserSession
    row (three queries) on every request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from allauth.usersessions import app_settings

        if (
            app_settings.TRACK_ACTIVITY
            and hasattr(request, "session")
            and request.session.session_key
            and hasattr(request, "user")
            and request.user.is_authenticated
        ):
            session_activity_record(request)
        return self.get_response(request)
