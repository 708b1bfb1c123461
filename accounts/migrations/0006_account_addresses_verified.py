"""Every account's own address is verified: the program team typed it when the person was certified.

Accounts made before user_create recorded the address had none; allauth then created it on first
use as "unverified" (allauth/account/internal/flows/manage_email.py: sync_email_address). Addresses
a member added later (not the account's own) are left as they are.
"""

from django.db import migrations


def verify_account_addresses(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    for user in User.objects.only("pk", "email").iterator():
        if not user.email:
            continue
        has_primary = EmailAddress.objects.filter(user_id=user.pk, primary=True).exclude(email=user.email).exists()
        address = EmailAddress.objects.filter(user_id=user.pk, email__iexact=user.email).first()
        if address is None:
            EmailAddress.objects.create(user_id=user.pk, email=user.email, verified=True, primary=not has_primary)
        elif not address.verified or (not address.primary and not has_primary):
            address.verified = True
            address.primary = address.primary or not has_primary
            address.save(update_fields=["verified", "primary"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_user_bio_length"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(verify_account_addresses, migrations.RunPython.noop)]
