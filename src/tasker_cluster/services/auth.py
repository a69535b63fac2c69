"""Authentication as tasker-core's `[web.auth]`: off by default; when on, every `/v1/*` route
and `/config` need `X-API-Key: <key>` or `Authorization: Bearer <JWT>` (RS256, verified
with the configured public key, and issuer/audience when configured). Health stays open.

Environment: `TASKER_AUTH_ENABLED` (`true`/`false`), `TASKER_API_KEYS` (comma-separated;
`TASKER_API_KEY` for one), `TASKER_JWT_PUBLIC_KEY` (PEM) or `TASKER_JWT_PUBLIC_KEY_PATH`,
`TASKER_JWT_ISSUER`, `TASKER_JWT_AUDIENCE`.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import InvalidEnvironmentError, UnauthorizedError

API_KEY_HEADER = "x-api-key"


@dataclass(frozen=True)
class AuthSettings:
    enabled: bool = False
    api_keys: tuple[str, ...] = ()
    jwt_public_key: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None

    @property
    def verification_method(self) -> str:
        methods = [m for m, on in (("api_key", self.api_keys), ("jwt", self.jwt_public_key)) if on]
        return "+".join(methods) or "none"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> AuthSettings:
        """Raises `InvalidEnvironmentError` naming the variable: a flag that is not a boolean,
        an unreadable key file, a key that is not an RSA public key in PEM."""
        raw_flag = environ.get("TASKER_AUTH_ENABLED", "")
        flag = raw_flag.strip().lower()
        if flag not in ("", "true", "false", "1", "0"):
            raise InvalidEnvironmentError("TASKER_AUTH_ENABLED", raw_flag, "is not true or false")
        keys = [k.strip() for k in environ.get("TASKER_API_KEYS", "").split(",") if k.strip()]
        if environ.get("TASKER_API_KEY", "").strip():
            keys.append(environ["TASKER_API_KEY"].strip())
        return cls(
            enabled=flag in ("true", "1"),
            api_keys=tuple(keys),
            jwt_public_key=_public_key(environ),
            jwt_issuer=environ.get("TASKER_JWT_ISSUER") or None,
            jwt_audience=environ.get("TASKER_JWT_AUDIENCE") or None,
        )

    def check(self, headers: Mapping[str, str]) -> None:
        """Raise `UnauthorizedError` unless the headers carry a valid key or token.

        As tasker-core: a bearer token, when sent, is what is checked (a valid API key beside
        an invalid token does not let the request in); else the API key; else neither.
        """
        scheme, _, token = headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() == "bearer":
            if self.jwt_public_key is None:
                raise UnauthorizedError("bearer tokens are not accepted here (no public key)")
            if not token.strip():
                raise UnauthorizedError("invalid token: the bearer token is empty")
            self._verify(token.strip())
            return
        key = headers.get(API_KEY_HEADER)
        if key is None:
            raise UnauthorizedError("no credentials: send X-API-Key or Authorization: Bearer")
        # bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500)
        given = key.encode("latin-1", "replace")
        if not any(hmac.compare_digest(given, known.encode()) for known in self.api_keys):
            raise UnauthorizedError("invalid API key")

    def _verify(self, token: str) -> dict[str, Any]:
        import jwt  # noqa: PLC0415 - only a service with JWT auth on pays this import

        options: Any = {"require": ["exp"], "verify_aud": self.jwt_audience is not None}
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.jwt_public_key or "",
                algorithms=["RS256"],
                audience=self.jwt_audience,
                issuer=self.jwt_issuer,
                options=options,
            )
        except jwt.PyJWTError as error:
            raise UnauthorizedError(f"invalid token: {error}") from None
        return claims


def _public_key(environ: Mapping[str, str]) -> str | None:
    """TASKER_JWT_PUBLIC_KEY (its newlines may be written as `\\n`, as one-line env files
    need), else the file TASKER_JWT_PUBLIC_KEY_PATH names; checked to be an RSA public key."""
    pem = environ.get("TASKER_JWT_PUBLIC_KEY") or None
    variable, shown = "TASKER_JWT_PUBLIC_KEY", "<PEM>"
    path = environ.get("TASKER_JWT_PUBLIC_KEY_PATH")
    if pem is None and path:
        variable, shown = "TASKER_JWT_PUBLIC_KEY_PATH", path
        try:
            pem = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise InvalidEnvironmentError(
                variable, path, f"cannot be read: {error.strerror}"
            ) from error
    if pem is None:
        return None
    if "\n" not in pem and "\\n" in pem:
        pem = pem.replace("\\n", "\n")
    _check_public_key(variable, shown, pem)
    return pem


def _check_public_key(variable: str, shown: str, pem: str) -> None:
    """Refuse at startup what is not an RSA public key in PEM: it would otherwise turn every
    bearer token into a 401 that blames the token."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import load_pem_public_key  # noqa: PLC0415

    try:
        key = load_pem_public_key(pem.strip().encode())
    except (ValueError, TypeError) as error:
        raise InvalidEnvironmentError(
            variable, shown, f"is not a PEM public key ({error})"
        ) from None
    if not isinstance(key, RSAPublicKey):
        raise InvalidEnvironmentError(variable, shown, "is not an RSA key (RS256 needs one)")


def guarded(path: str) -> bool:
    return path.startswith("/v1/") or path == "/config"


class AuthMiddleware:
    """Answers 401 (`"Unauthorized"`) for a guarded route without valid credentials."""

    def __init__(self, app: ASGIApp, settings: AuthSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.settings.enabled and guarded(scope["path"]):
            headers = {
                name.decode("latin-1").lower(): value.decode("latin-1")
                for name, value in scope["headers"]
            }
            try:
                self.settings.check(headers)
            except UnauthorizedError as error:
                from .web import request_error_response  # noqa: PLC0415 - web imports us

                response = request_error_response(error)
                response.headers["WWW-Authenticate"] = 'Bearer, ApiKey header="X-API-Key"'
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
