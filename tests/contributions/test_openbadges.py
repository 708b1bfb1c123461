"""Open Badges 3.0: the credential validates against 1EdTech's schema and verifies offline, with a
library other than the signer's (signed by joserfc, verified here by jwcrypto) from the published
JWKS; tampering fails; revocation flips the status bit; the badge PNG carries the credential.

The schema is 1EdTech's published AchievementCredential JSON schema
(https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json),
committed as tests/contributions/ob3/ob_v3p0_achievementcredential_schema.json; see SOURCE.md there.
"""

import base64
import gzip
import json
import struct
import zlib
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path

import jsonschema
import pytest
import time_machine
from django.core.cache import cache
from joserfc.jwk import ECKey
from jwcrypto import jwk, jws

from contributions import services
from contributions.models import Certificate
from tests.factories import MACertificationFactory, ProgramYearFactory, TechnicalRequirementFactory

pytestmark = pytest.mark.django_db

SCHEMA = json.loads((Path(__file__).parent / "ob3" / "ob_v3p0_achievementcredential_schema.json").read_text())
NOW = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _issuer_key(settings):
    cache.clear()
    settings.MAHOME_CREDENTIAL_SIGNING_KEY = ECKey.generate_key("P-256", private=True).as_pem(private=True).decode()
    settings.MAHOME_CREDENTIAL_RETIRED_KEYS = "[]"
    yield
    cache.clear()


@pytest.fixture
def certificate(member):
    year_2025 = ProgramYearFactory(year=2025, target_points=400)
    ProgramYearFactory(year=2026)
    TechnicalRequirementFactory(program_year=year_2025, name="Certified Solution Architect, valid for 2026")
    MACertificationFactory(user=member, qualified_on=date(2024, 3, 10))
    return Certificate.objects.create(
        member=member,
        program_year=year_2025,
        year=2026,
        number=f"MA-2026-{member.pk:06d}",
        valid_from=date(2026, 1, 1),
        valid_until=date(2027, 1, 1),
    )


def _published_keys(client) -> jwk.JWKSet:
    """The JWKS as a verifier downloads it once; everything after this is offline."""
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/jwk-set+json"
    assert all("d" not in key for key in response.json()["keys"]), "never a private key"
    return jwk.JWKSet.from_json(response.content)


def _verify(compact: str, keys: jwk.JWKSet) -> dict:
    """Verify a compact JWS with jwcrypto (not joserfc, which signed it) and return its payload."""
    token = jws.JWS()
    token.deserialize(compact)
    header = token.jose_header
    assert header["alg"] == "ES256" and header["typ"] == "JWT"
    key = keys.get_key(header["kid"])
    assert key is not None, "the kid names a published key"
    token.verify(key, alg="ES256")
    return json.loads(token.payload)


def _credential(client, certificate) -> str:
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/verify/{certificate.verification_code}/credential")
    assert response.status_code == 200 and response["Content-Type"] == "application/vc+jwt"
    return response.content.decode()


def test_credential_validates_against_1edtech_schema_and_verifies_offline_with_another_library(client, certificate):
    keys = _published_keys(client)
    payload = _verify(_credential(client, certificate), keys)
    jsonschema.Draft201909Validator(SCHEMA).validate(payload)
    assert payload["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert payload["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert payload["issuer"]["name"] == "Master Anaplanner Program" and payload["issuer"]["type"] == ["Profile"]
    assert (payload["validFrom"], payload["validUntil"]) == ("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z")
    subject = payload["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    identity = subject["identifier"][0]
    assert identity["hashed"] is True and identity["identityType"] == "emailAddress"
    import hashlib

    assert (
        identity["identityHash"]
        == "sha256$" + hashlib.sha256(("ava@example.com" + identity["salt"]).encode()).hexdigest()
    )
    assert "ava@example.com" not in json.dumps(payload) and "Patel" not in json.dumps(payload)
    achievement = subject["achievement"]
    assert "400 maintenance points" in achievement["criteria"]["narrative"]
    assert achievement["image"]["id"].endswith("img/ma-badge.png")
    # OB 3.0 §8.2 JWT claims mirror the credential.
    assert payload["iss"] == payload["issuer"]["id"] and payload["jti"] == payload["id"]
    assert payload["sub"] == subject["id"]
    assert payload["nbf"] == int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    assert payload["exp"] == int(datetime(2027, 1, 1, tzinfo=UTC).timestamp())
    assert payload["credentialStatus"]["type"] == "BitstringStatusListEntry"


def test_a_tampered_credential_fails_verification(client, certificate):
    keys = _published_keys(client)
    header, payload, signature = _credential(client, certificate).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["validUntil"] = "2035-01-01T00:00:00Z"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(jws.InvalidJWSSignature):
        _verify(f"{header}.{forged}.{signature}", keys)
    # Another key, even one with the same kid, does not verify it either.
    stranger = jwk.JWK.generate(kty="EC", crv="P-256")
    token = jws.JWS()
    token.deserialize(f"{header}.{payload}.{signature}")
    with pytest.raises(jws.InvalidJWSSignature):
        token.verify(stranger, alg="ES256")


def _status_bit(client, credential_payload: dict, keys: jwk.JWKSet) -> int:
    entry = credential_payload["credentialStatus"]
    path = entry["statusListCredential"].removeprefix("http://127.0.0.1:8000")
    response = client.get(path)
    assert response.status_code == 200 and response["Content-Type"] == "application/vc+jwt"
    status_list = _verify(response.content.decode(), keys)
    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    subject = status_list["credentialSubject"]
    assert subject["statusPurpose"] == entry["statusPurpose"] == "revocation"
    encoded = subject["encodedList"]
    assert encoded.startswith("u")  # multibase base64url, Bitstring Status List v1.0 §2.1
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(bits) * 8 >= 131_072
    index = int(entry["statusListIndex"])
    return (bits[index // 8] >> (7 - index % 8)) & 1


def test_revoking_flips_the_credentials_bit_in_the_status_list(client, certificate, program_admin):
    keys = _published_keys(client)
    payload = _verify(_credential(client, certificate), keys)
    assert _status_bit(client, payload, keys) == 0
    services.certificate_revoke(certificate=certificate, reason="Exam result annulled.", by=program_admin)
    assert _status_bit(client, payload, keys) == 1
    other = Certificate.objects.create(
        member=program_admin,
        year=2026,
        number="MA-2026-999999",
        valid_from=date(2026, 1, 1),
        valid_until=date(2027, 1, 1),
    )
    other_payload = _verify(_credential(client, other), keys)
    assert _status_bit(client, other_payload, keys) == 0


def test_a_reissue_sets_the_bit_of_the_replaced_credential(client, certificate, program_admin):
    keys = _published_keys(client)
    old_payload = _verify(_credential(client, certificate), keys)
    new = services.certificate_reissue(certificate=certificate, correction="Name corrected.", by=program_admin)
    assert _status_bit(client, old_payload, keys) == 1
    assert _status_bit(client, _verify(_credential(client, new), keys), keys) == 0


def _itxt_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    position, found = 8, []
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind, data = png[position + 4 : position + 8], png[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", png[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF
        if kind == b"iTXt":
            found.append((data.split(b"\x00", 1)[0], data))
        position += 12 + length
    return found


def test_the_badge_png_has_the_signed_credential_baked_in(client, certificate):
    from PIL import Image

    keys = _published_keys(client)
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/verify/{certificate.verification_code}/badge.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    chunks = _itxt_chunks(response.content)
    assert [keyword for keyword, _ in chunks] == [b"openbadgecredential"]
    data = chunks[0][1]
    _keyword, rest = data.split(b"\x00", 1)
    assert rest[0:2] == b"\x00\x00", "uncompressed (OB 3.0 docformat: compression MUST NOT be used)"
    language, rest = rest[2:].split(b"\x00", 1)
    translated, text = rest.split(b"\x00", 1)
    assert (language, translated) == (b"", b"")
    payload = _verify(text.decode(), keys)
    assert payload["id"].endswith(f"/verify/{certificate.verification_code}/credential")
    Image.open(BytesIO(response.content)).verify()


def test_a_hidden_certificate_has_no_credential_but_a_revoked_one_always_answers(
    client, member, certificate, program_admin
):
    services.certificate_set_public(certificate=certificate, member=member, is_public=False)
    assert client.get(f"/verify/{certificate.verification_code}/credential").status_code == 404
    assert client.get(f"/verify/{certificate.verification_code}/badge.png").status_code == 404
    services.certificate_revoke(certificate=certificate, reason="Exam result annulled.", by=program_admin)
    assert client.get(f"/verify/{certificate.verification_code}/credential").status_code == 200


def test_after_a_rotation_credentials_signed_with_the_old_key_still_verify(client, certificate, settings):
    old_key = ECKey.import_key(settings.MAHOME_CREDENTIAL_SIGNING_KEY)
    old_credential = _credential(client, certificate)
    settings.MAHOME_CREDENTIAL_SIGNING_KEY = ECKey.generate_key("P-256", private=True).as_pem(private=True).decode()
    settings.MAHOME_CREDENTIAL_RETIRED_KEYS = json.dumps([old_key.as_dict(private=False)])
    keys = _published_keys(client)
    assert len(json.loads(keys.export(private_keys=False))["keys"]) == 2
    assert _verify(old_credential, keys)["id"] == _verify(_credential(client, certificate), keys)["id"]
    settings.MAHOME_CREDENTIAL_RETIRED_KEYS = json.dumps([old_key.as_dict(private=True)])
    with pytest.raises(ValueError, match="private"):
        client.get("/.well-known/jwks.json")


def test_locally_a_key_is_generated_once_under_var(client, settings, tmp_path):
    from contributions import issuer_keys

    settings.MAHOME_CREDENTIAL_SIGNING_KEY = ""
    settings.VAR_DIR = tmp_path
    first = issuer_keys.signing_key().thumbprint()
    path = tmp_path / "credential-keys" / "signing-key.pem"
    assert path.exists() and (path.stat().st_mode & 0o777) == 0o600
    assert issuer_keys.signing_key().thumbprint() == first
    assert client.get("/.well-known/jwks.json").json()["keys"][0]["kid"].endswith(f"#{first}")


def test_the_achievement_id_dereferences_to_the_achievement(client, certificate):
    payload = _verify(_credential(client, certificate), _published_keys(client))
    achievement_id = payload["credentialSubject"]["achievement"]["id"]
    response = client.get(achievement_id.removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 200
    published = response.json()
    assert published["id"] == achievement_id and published["name"] == "Certified Master Anaplanner"
    assert client.get("/credentials/achievements/something-else").status_code == 404
