"""Which credentials each venue needs, and reading/writing them in a secret store.

Entries are (venue, account, field) with account = the profile name, so "binance" and "binance-testnet"
keep separate keys. Binance signs with the HMAC secret, or with an Ed25519 private key (PEM) if one is
stored; Kite needs its app's api_key and api_secret (the daily access token is kept by KiteTokenStore).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .secret import Secret
from .store import SecretStore


@dataclass(frozen=True, slots=True)
class CredentialField:
    name: str
    label: str
    secret: bool  # shown as password echo in the setup dialog
    required: bool = True


FIELDS: dict[str, tuple[CredentialField, ...]] = {
    "binance": (CredentialField("api_key", "API key", secret=False),
                CredentialField("api_secret", "Secret key", secret=True, required=False)),
    "zerodha": (CredentialField("api_key", "API key", secret=False),
                CredentialField("api_secret", "API secret", secret=True)),
}
ED25519_FIELD = "ed25519_private_key"


@dataclass(frozen=True, slots=True)
class VenueCredentials:
    """One account's keys; repr never shows them (they are Secrets)."""

    venue: str
    account: str
    api_key: Secret
    api_secret: Secret | None = None
    ed25519_private_key: Secret | None = None


def load_credentials(store: SecretStore, venue: str, account: str) -> VenueCredentials | None:
    """Read an account's keys; None if the api key (or every signing secret) is missing."""
    key = store.get(venue, account, "api_key")
    secret = store.get(venue, account, "api_secret")
    ed25519 = store.get(venue, account, ED25519_FIELD) if venue == "binance" else None
    if key is None or (secret is None and ed25519 is None):
        return None
    return VenueCredentials(venue, account, key, secret, ed25519)


def save_credentials(store: SecretStore, venue: str, account: str, values: Mapping[str, str]) -> list[str]:
    """Store the non-empty values of a venue's fields; return the names stored.

    ValueError (naming the field) if a required field is empty, before anything is written.
    """
    fields = FIELDS[venue]
    missing = [f.label for f in fields if f.required and not values.get(f.name, "").strip()]
    if venue == "binance" and not (values.get("api_secret", "").strip() or values.get(ED25519_FIELD, "").strip()):
        missing.append("Secret key (or an Ed25519 private key)")
    if missing:
        raise ValueError(f"missing: {', '.join(missing)}")
    names = [f.name for f in fields] + ([ED25519_FIELD] if venue == "binance" else [])
    stored = []
    for name in names:
        text = values.get(name, "").strip()
        if text:
            store.set(venue, account, name, text)
            stored.append(name)
    return stored


def venue_of_profile(venues: tuple[str, ...]) -> str | None:
    """The credentialed venue a profile uses ("binance" or "zerodha"), or None (demo)."""
    for venue in venues:
        if venue in FIELDS:
            return venue
    return None
