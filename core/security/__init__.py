"""Credentials and their protection: the encrypted vault, the OS keyring, log redaction, endpoint checks."""
from .audit import AUDIT_KIND, SecurityEvent, record
from .credentials import FIELDS, CredentialField, VenueCredentials, load_credentials, save_credentials, venue_of_profile
from .errors import (InsecureEndpoint, KeyringUnavailable, SecurityError, VaultError, VaultLocked, VaultTampered,
                     WrongPassphrase)
from .keyring_store import KeyringStore
from .redaction import RedactingFilter, install, redact, register_secret
from .secret import Secret
from .store import KiteTokenStore, SecretStore
from .transport import check_live_endpoint, check_loopback
from .vault import OWASP, ScryptCost, Vault

__all__ = ["AUDIT_KIND", "FIELDS", "OWASP", "CredentialField", "InsecureEndpoint", "KeyringStore", "KiteTokenStore",
           "RedactingFilter", "ScryptCost", "Secret", "SecretStore", "SecurityError", "SecurityEvent", "Vault", "VaultError",
           "VaultLocked", "VaultTampered", "VenueCredentials", "WrongPassphrase", "check_live_endpoint", "check_loopback",
           "install", "load_credentials", "record", "redact", "register_secret", "save_credentials", "venue_of_profile"]
