"""An organization's single sign-on connection and the allauth app that serves it."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from accounts.models import (
    SSOConnection,
)


@transaction.atomic
def sso_connection_sync(*, connection: SSOConnection) -> SSOConnection:
    """Save the connection and write the allauth SocialApp that serves its sign-in URLs."""
    from allauth.socialaccount.models import SocialApp

    connection.full_clean()
    if connection.kind == SSOConnection.Kind.OIDC:
        missing = [f for f in ("server_url", "client_id", "client_secret") if not getattr(connection, f)]
        fields: dict[str, Any] = {
            "provider": "openid_connect",
            "provider_id": connection.slug,
            "client_id": connection.client_id,
            "secret": connection.client_secret,
            "settings": {"server_url": connection.server_url},
        }
    else:
        missing = [f for f in ("idp_entity_id", "idp_metadata_url") if not getattr(connection, f)]
        saml_settings: dict[str, Any] = {
            "idp": {"entity_id": connection.idp_entity_id, "metadata_url": connection.idp_metadata_url},
            "advanced": {"want_assertion_signed": True, "want_message_signed": True, "strict": True},
        }
        if connection.saml_attribute_mapping:
            saml_settings["attribute_mapping"] = connection.saml_attribute_mapping
        fields = {
            "provider": "saml",
            "provider_id": connection.idp_entity_id,
            "client_id": connection.slug,
            "secret": "",
            "settings": saml_settings,
        }
    if missing:
        labels = {f: _field_label(f) for f in missing}
        raise ValidationError(
            {f: _("%(field)s is required for this protocol.") % {"field": label} for f, label in labels.items()}
        )
    fields["name"] = str(connection.organization.name)[:40]
    app = connection.social_app or SocialApp()
    for name, value in fields.items():
        setattr(app, name, value)
    app.full_clean()
    app.save()
    connection.social_app = app
    connection.save()
    return connection


def _field_label(name: str) -> str:
    field = SSOConnection._meta.get_field(name)
    return str(field.verbose_name) if isinstance(field, models.Field) else name
