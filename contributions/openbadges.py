"""Open Badges 3.0: each certificate as an OpenBadgeCredential, signed as a VC-JWT (ES256), a
Bitstring Status List for revocation, and the badge PNG with the credential baked in.

Shapes follow 1EdTech's Open Badges 3.0 specification (ob_v3p0/integrity.md "JSON Web Token
Proof Format", ob_v3p0/docformat.md "PNG baking") and W3C Bitstring Status List v1.0; the test
suite validates every credential against 1EdTech's published AchievementCredential JSON schema.
"""

import base64
import gzip
import hashlib
import struct
import uuid
import zlib
from datetime import UTC, date, datetime, time
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone
from joserfc import jwt

from contributions import credentials, issuer_keys
from contributions.models import Certificate

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
MEDIA_TYPE = "application/vc+jwt"
# Bitstring Status List v1.0 §2.1: at least 16 KB (131,072 entries) per list, for herd privacy.
STATUS_LIST_SIZE = 131_072
BAKING_KEYWORD = b"openbadgecredential"


def _instant(day: date) -> str:
    return datetime.combine(day, time.min, tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _timestamp(day: date) -> int:
    return int(datetime.combine(day, time.min, tzinfo=UTC).timestamp())


def issuer_id() -> str:
    return settings.MAHOME_ISSUER_URL


def status_position(certificate: Certificate) -> tuple[int, int]:
    """(list number, index in it): the certificate's id, spread over lists of STATUS_LIST_SIZE."""
    return certificate.pk // STATUS_LIST_SIZE + 1, certificate.pk % STATUS_LIST_SIZE


def status_list_url(number: int) -> str:
    return credentials.absolute(reverse("credential_status_list", args=[number]))


def credential_url(certificate: Certificate) -> str:
    return credentials.absolute(reverse("certificate_credential", args=[certificate.verification_code]))


def identity_hash(*, email: str, salt: str) -> str:
    """OB 3.0 IdentityObject: "sha256$" + hex SHA-256 of the identifier followed by the salt."""
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def credential_for(certificate: Certificate) -> dict:
    """The OpenBadgeCredential (unsigned): what the page says, in the Open Badges vocabulary."""
    facts = credentials.facts_for(certificate=certificate)
    number, index = status_position(certificate)
    list_url = status_list_url(number)
    subject_id = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, facts.page_url + '#holder')}"
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": credential_url(certificate),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{facts.credential_name} {facts.year}",
        "description": facts.description,
        "issuer": {
            "id": issuer_id(),
            "type": ["Profile"],
            "name": facts.issuer_name,
            "url": facts.issuer_url,
        },
        "validFrom": _instant(certificate.valid_from),
        "validUntil": _instant(certificate.valid_until),
        "awardedDate": certificate.issued_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "credentialSubject": {
            "id": subject_id,
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "emailAddress",
                    "hashed": True,
                    "identityHash": identity_hash(email=certificate.member.email, salt=certificate.subject_salt),
                    "salt": certificate.subject_salt,
                }
            ],
            "achievement": {**achievement(), "criteria": {"narrative": f"{facts.criteria} {facts.basis}"}},
        },
        "credentialStatus": {
            "id": f"{list_url}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": list_url,
        },
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }


ACHIEVEMENT_SLUG = "certified-master-anaplanner"


def achievement() -> dict:
    """The Achievement every certificate awards, as published at its own id (a URL that answers)."""
    name = credentials.CREDENTIAL_NAME
    return {
        "id": credentials.absolute(reverse("credential_achievement", args=[ACHIEVEMENT_SLUG])),
        "type": ["Achievement"],
        "achievementType": "Certification",
        "name": name,
        "description": credentials.achievement_description(),
        "criteria": {"narrative": credentials.criteria_narrative()},
        "image": {"id": credentials.badge_url(), "type": "Image", "caption": name},
        "creator": {"id": issuer_id(), "type": ["Profile"], "name": credentials.issuer_name()},
    }


def _sign(claims: dict) -> str:
    key = issuer_keys.signing_key()
    header = {"alg": issuer_keys.ALGORITHM, "kid": issuer_keys.key_id(key), "typ": "JWT"}
    return jwt.encode(header, claims, key, algorithms=[issuer_keys.ALGORITHM])


def signed_credential(certificate: Certificate) -> str:
    """The credential as a VC-JWT: the credential itself is the JWT payload, with the registered
    claims OB 3.0 requires (iss, jti, nbf, sub, and exp for validUntil), signed ES256."""
    credential = credential_for(certificate)
    claims = {
        **credential,
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "sub": credential["credentialSubject"]["id"],
        "nbf": _timestamp(certificate.valid_from),
        "exp": _timestamp(certificate.valid_until),
        "iat": int(certificate.issued_at.timestamp()),
    }
    return _sign(claims)


# --- Bitstring Status List ------------------------------------------------------------------------


def revoked_indexes(*, number: int) -> list[int]:
    """Indexes of the list whose certificates no longer verify: revoked or replaced by a re-issue."""
    start = (number - 1) * STATUS_LIST_SIZE
    ids = (
        Certificate.objects.filter(pk__gte=start, pk__lt=start + STATUS_LIST_SIZE)
        .exclude(state=Certificate.State.ACTIVE, revoked_at__isnull=True)
        .values_list("pk", flat=True)
    )
    return [pk - start for pk in ids]


def encode_bitstring(indexes: list[int], *, size: int = STATUS_LIST_SIZE) -> str:
    """GZIP the bitstring (index 0 is the left-most bit of the first byte), multibase base64url."""
    bits = bytearray(size // 8)
    for index in indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def status_list_credential(*, number: int, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    url = status_list_url(number)
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id(),
        "validFrom": now.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_bitstring(revoked_indexes(number=number)),
        },
    }


def signed_status_list(*, number: int) -> str:
    credential = status_list_credential(number=number)
    issued = int(timezone.now().timestamp())
    claims = {**credential, "iss": credential["issuer"], "jti": credential["id"], "iat": issued}
    return _sign(claims)


# --- Baking (OB 3.0 docformat "PNG baking") -------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bake_png(png: bytes, compact_jws: str) -> bytes:
    """Insert one uncompressed iTXt chunk, keyword `openbadgecredential`, text = the compact JWS,
    just before IEND; any earlier openbadgecredential chunk is dropped (one per image)."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG")
    # keyword, NUL, compression flag 0, compression method 0, empty language tag + NUL,
    # empty translated keyword + NUL, then the text (PNG spec §11.3.4.5).
    itxt = BAKING_KEYWORD + b"\x00" + b"\x00\x00" + b"\x00" + b"\x00" + compact_jws.encode("utf-8")
    out, position = [PNG_SIGNATURE], len(PNG_SIGNATURE)
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        end = position + 12 + length
        data = png[position + 8 : position + 8 + length]
        if kind == b"IEND":
            out.append(_chunk(b"iTXt", itxt))
        if not (kind == b"iTXt" and data.startswith(BAKING_KEYWORD + b"\x00")):
            out.append(png[position:end])
        position = end
    return b"".join(out)


def badge_png() -> bytes:
    path = finders.find("img/ma-badge.png")
    if path is None:
        raise FileNotFoundError("img/ma-badge.png is not among the static files")
    return Path(path).read_bytes()


def baked_badge(certificate: Certificate) -> bytes:
    return bake_png(badge_png(), signed_credential(certificate))
