"""Secrets kept out of what we print and write: URL passwords, values of secret-named keys."""

from __future__ import annotations

import re

MASK = "***"
SECRET_KEY = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|KEY|PRIVATE|CREDENTIAL|JWT", re.I)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+):[^@\s]*@")


def redact_url(text: str) -> str:
    """`postgresql://user:secret@host/db` -> `postgresql://user:***@host/db`; other text as is."""
    return _URL_PASSWORD.sub(rf"\1:{MASK}@", text)


def mask(key: str, value: str) -> tuple[str, bool]:
    """`value` as it may be shown under `key`, and whether anything was hidden: all of it for
    a secret-named key, the password of any URL in it otherwise."""
    if value and SECRET_KEY.search(key):
        return MASK, True
    shown = redact_url(value)
    return shown, shown != value
