"""Events of the accounts app that other apps act on.

`accounts` imports none of the other apps (docs/style.md), yet certifying a person must issue
their certificate, which the contributions app owns. `member_provision` sends `member_certified`
inside its transaction; the contributions app connects a receiver that calls its service, so the
rule stays in that service and a failure there rolls the whole provisioning back.
"""

from django.dispatch import Signal

# Sent with `user` (the newly certified person) and `certification` (their MACertification).
# A receiver may return one line of text for the invitation email (e.g. the certificate's number).
member_certified = Signal()
