"""The issuer's signing key and the public keys it publishes (/.well-known/jwks.json).

ES256 (ECDSA on P-256 with SHA-256), signed and serialised by joserfc; see docs/credentials.md
for why ES256 rather than Ed25519, and for rotation.

* Production: the PEM of the current private key is in MAHOME_CREDENTIAL_SIGNING_KEY (no default:
  production settings refuse to start without it). Keys used before stay published through
  MAHOME_CREDENTIAL_RETIRED_KEYS (a JSON list of public JWKs), so credentials they signed still
  verify offline after a rotation.
* Local run and tests: with no key in the environment, one is generated once under
  var/credential-keys/signing-key.pem (0600); any other *.pub.jwk.json file there is published
  as a retired key.

Each key's `kid` is a URI that dereferences to it (OB 3.0 §8.2.2): the JWKS address with the
key's RFC 7638 thumbprint as fragment.
"""

import json
import os
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from joserfc.jwk import ECKey

ALGORITHM = "ES256"
CURVE = "P-256"


def jwks_url() -> str:
    return f"{settings.SITE_URL}{reverse('jwks')}"


def key_id(key: ECKey) -> str:
    return f"{jwks_url()}#{key.thumbprint()}"


def _local_dir() -> Path:
    return Path(settings.VAR_DIR) / "credential-keys"


def _local_signing_pem() -> bytes:
    folder = _local_dir()
    path = folder / "signing-key.pem"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        pem = ECKey.generate_key(CURVE, private=True).as_pem(private=True)
        # Written once, readable by this user only; a concurrent first start may race: the
        # O_EXCL open makes exactly one process write it and the others read that one.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
    return path.read_bytes()


@lru_cache(maxsize=4)
def _signing_key(pem: str) -> ECKey:
    key = ECKey.import_key(pem)
    if key.curve_name != CURVE or not key.is_private:
        raise ValueError("MAHOME_CREDENTIAL_SIGNING_KEY must be a private P-256 (ES256) key in PEM form.")
    return key


def signing_key() -> ECKey:
    pem = settings.MAHOME_CREDENTIAL_SIGNING_KEY or _local_signing_pem().decode()
    return _signing_key(pem)


def retired_public_keys() -> list[dict]:
    keys = json.loads(settings.MAHOME_CREDENTIAL_RETIRED_KEYS or "[]")
    if not settings.MAHOME_CREDENTIAL_SIGNING_KEY and _local_dir().exists():
        keys += [json.loads(p.read_text()) for p in sorted(_local_dir().glob("*.pub.jwk.json"))]
    for key in keys:
        if "d" in key:
            raise ValueError("A retired key must be published without its private part ('d').")
    return keys


def public_jwk(key: ECKey) -> dict:
    return {**key.as_dict(private=False), "kid": key_id(key), "alg": ALGORITHM, "use": "sig"}


def jwks() -> dict:
    """Every key that signed or signs credentials, public parts only."""
    current = signing_key()
    keys = [public_jwk(current)]
    for data in retired_public_keys():
        retired = ECKey.import_key(data)
        if retired.thumbprint() != current.thumbprint():
            keys.append(public_jwk(retired))
    return {"keys": keys}
