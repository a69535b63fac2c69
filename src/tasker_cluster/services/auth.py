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
        flag = environ.get("TASKER_AUTH_ENABLED", "").strip().lower()
        if flag not in ("", "true", "false", "1", "0"):
            raise InvalidEnvironmentError("TASKER_AUTH_ENABLED", flag, "is not true or false")
        keys = [k.strip() for k in environ.get("TASKER_API_KEYS", "").split(",") if k.strip()]
        if environ.get("TASKER_API_KEY", "").strip():
            keys.append(environ["TASKER_API_KEY"].strip())
        public_key = environ.get("TASKER_JWT_PUBLIC_KEY") or None
        path = environ.get("TASKER_JWT_PUBLIC_KEY_PATH")
        if public_key is None and path:
            try:
                public_key = Path(path).read_text(encoding="utf-8")
            except OSError as error:
                raise InvalidEnvironmentError(
                    "TASKER_JWT_PUBLIC_KEY_PATH", path, f"cannot be read: {error.strerror}"
                ) from error
        return cls(
            enabled=flag in ("true", "1"),
            api_keys=tuple(keys),
            jwt_public_key=public_key,
            jwt_issuer=environ.get("TASKER_JWT_ISSUER") or None,
            jwt_audience=environ.get("TASKER_JWT_AUDIENCE") or None,
        )

    def check(self, headers: Mapping[str, str]) -> None:
        """Raise `UnauthorizedError` unless the headers carry a valid key or token."""
        key = headers.get(API_KEY_HEADER)
        if key is not None:
            if any(hmac.compare_digest(key, known) for known in self.api_keys):
                return
            raise UnauthorizedError("invalid API key")
        authorization = headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise UnauthorizedError("no credentials: send X-API-Key or Authorization: Bearer")
        if self.jwt_public_key is None:
            raise UnauthorizedError("bearer tokens are not accepted here (no public key)")
        self._verify(token.strip())

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
