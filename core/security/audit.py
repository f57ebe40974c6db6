"""Security events in the journal's audit log (kind "security"), details redacted before they are written."""
from __future__ import annotations

import enum
from typing import Any, Protocol

from .redaction import redact_value


class SecurityEvent(enum.Enum):
    VAULT_CREATED = "vault_created"
    VAULT_UNLOCKED = "vault_unlocked"
    WRONG_PASSPHRASE = "wrong_passphrase"
    PASSPHRASE_CHANGED = "passphrase_changed"
    CREDENTIALS_SAVED = "credentials_saved"
    PROFILE_STARTED = "profile_started"


AUDIT_KIND = "security"


class AuditLog(Protocol):
    def audit(self, kind: str, detail: dict[str, Any]) -> int: ...


def record(log: AuditLog, event: SecurityEvent, **detail: Any) -> int:
    """Append one security event; every string in detail is redacted first."""
    return log.audit(AUDIT_KIND, {"event": event.value, **redact_value(detail)})
