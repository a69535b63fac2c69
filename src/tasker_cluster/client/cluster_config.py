"""Where the instances of a cluster are and how the client spreads requests over them."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Self
from urllib.parse import urlsplit

from tasker_cluster.client.environment import (
    DATABASE_URL_VARS,
    ORCHESTRATION_URL_VAR,
    ORCHESTRATION_URLS_VAR,
    WORKER_RUNTIME_URL_VARS,
    WORKER_RUNTIME_URLS_VARS,
    WORKER_URL_VAR,
    WORKER_URLS_VAR,
)
from tasker_cluster.client.errors import ClusterConfigError
from tasker_cluster.client.strategies import RoundRobin, Strategy
from tasker_cluster.secrets import MASK

API_KEY_VAR = "TASKER_TEST_API_KEY"
JWT_VAR = "TASKER_TEST_JWT"
API_KEY_HEADER = "X-API-Key"


@dataclass(frozen=True)
class ClusterConfig:
    """Instances of a cluster and the client's behaviour towards them.

    `health_timeout` bounds one health probe; `health_retry_interval` is the pause between
    probes of an instance that is not healthy yet; `request_timeout` bounds one API call.
    With `api_key` every request sends `X-API-Key: <key>`, with `jwt` `Authorization: Bearer
    <token>` (both when both are given: tasker-core checks the token first). Neither is shown
    by `repr`, only whether it is set.
    """

    orchestration_urls: tuple[str, ...]
    worker_urls: tuple[str, ...] = ()
    strategy: Strategy = field(default_factory=RoundRobin)
    health_timeout: float = 5.0
    health_retry_interval: float = 0.5
    request_timeout: float = 30.0
    database_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    jwt: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "orchestration_urls", tuple(self.orchestration_urls))
        object.__setattr__(self, "worker_urls", tuple(self.worker_urls))
        _check_credential("api_key", self.api_key)
        _check_credential("jwt", self.jwt)
        if not self.orchestration_urls:
            raise ClusterConfigError(
                "orchestration_urls",
                "",
                "a cluster needs at least one orchestration instance",
                "Pass one URL or more, e.g. http://127.0.0.1:8080.",
            )
        for url in (*self.orchestration_urls, *self.worker_urls):
            _check_url("orchestration_urls/worker_urls", url)

    def __repr__(self) -> str:
        shown = [f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr]
        shown += [f"{name}={MASK!r}" for name in ("api_key", "jwt") if getattr(self, name)]
        return f"{type(self).__name__}({', '.join(shown)})"

    def auth_headers(self) -> dict[str, str]:
        """The headers that carry the credentials (none without credentials)."""
        headers = {API_KEY_HEADER: self.api_key} if self.api_key else {}
        if self.jwt:
            headers["Authorization"] = f"Bearer {self.jwt}"
        return headers

    def with_credentials(self, api_key: str | None = None, jwt: str | None = None) -> Self:
        """This configuration with `api_key` and `jwt` replacing its own where given."""
        return dataclasses.replace(self, api_key=api_key or self.api_key, jwt=jwt or self.jwt)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, strategy: Strategy | None = None
    ) -> ClusterConfig:
        """The URLs tasker-core's own `cluster.env` sets, comma-separated.

        Orchestration: TASKER_TEST_ORCHESTRATION_URLS, else the singular _URL. Workers:
        TASKER_TEST_WORKER_URLS, else every TASKER_TEST_WORKER_<RUNTIME>_URLS, else the
        singular TASKER_TEST_WORKER_URL and TASKER_TEST_<RUNTIME>_WORKER_URL keys. With
        TASKER_TEST_DATABASE_URL (or DATABASE_URL), transitions the API has no route for are
        read from that database. Credentials: TASKER_TEST_API_KEY and TASKER_TEST_JWT.
        """
        env = os.environ if environ is None else environ
        variable = ORCHESTRATION_URLS_VAR if env.get(ORCHESTRATION_URLS_VAR) else None
        variable = variable or (ORCHESTRATION_URL_VAR if env.get(ORCHESTRATION_URL_VAR) else None)
        orchestration = parse_url_list(
            variable or ORCHESTRATION_URLS_VAR, env.get(variable or ORCHESTRATION_URLS_VAR)
        )
        database = next((env[v] for v in DATABASE_URL_VARS if env.get(v)), None)
        return cls(
            orchestration,
            _worker_urls(env),
            strategy or RoundRobin(),
            database_url=database,
            api_key=credential_from_env(env, API_KEY_VAR),
            jwt=credential_from_env(env, JWT_VAR),
        )

    @classmethod
    def with_orchestration_instances(
        cls,
        count: int,
        base_port: int,
        host: str = "127.0.0.1",
        strategy: Strategy | None = None,
    ) -> ClusterConfig:
        """`count` instances on consecutive ports from `base_port`."""
        if count < 1:
            raise ClusterConfigError(
                "count", str(count), "must be at least 1", "Ask for one instance or more."
            )
        if not 1 <= base_port <= 65536 - count:
            raise ClusterConfigError(
                "base_port",
                str(base_port),
                f"ports {base_port}..{base_port + count - 1} are outside 1..65535",
                "Choose a base port so that the whole range fits.",
            )
        urls = tuple(f"http://{host}:{base_port + offset}" for offset in range(count))
        return cls(urls, (), strategy or RoundRobin())


def deployment_api_key(env: Mapping[str, str]) -> str | None:
    """The API key a deployment configured in `env` accepts, when its auth is on: what a tool
    that started the deployment (a managed test cluster, a cluster directory) can send.
    TASKER_API_KEY, else the first of TASKER_API_KEYS; None when auth is off or no key is set."""
    if env.get("TASKER_AUTH_ENABLED", "").strip().lower() not in ("true", "1"):
        return None
    single = env.get("TASKER_API_KEY", "").strip()
    keys = [k.strip() for k in env.get("TASKER_API_KEYS", "").split(",") if k.strip()]
    return single or (keys[0] if keys else None)


def credential(name: str, given: str | None) -> str | None:
    """A credential as given by `name` (a variable or a flag), surrounding whitespace dropped;
    None when unset or empty; `ClusterConfigError` naming `name` (never the value) when it
    cannot be a header."""
    value = (given or "").strip() or None
    _check_credential(name, value)
    return value


def credential_from_env(env: Mapping[str, str], variable: str) -> str | None:
    """`credential` of the environment variable `variable`."""
    return credential(variable, env.get(variable))


def _check_credential(name: str, value: str | None) -> None:
    if value is None:
        return
    problem = ""
    if not value:
        problem = "is empty"
    elif any(c.isspace() or not c.isprintable() for c in value):
        problem = "contains whitespace or control characters"
    elif not value.isascii():
        problem = "contains non-ASCII characters"
    if problem:
        raise ClusterConfigError(
            name,
            MASK,
            f"the credential {problem}, so it cannot be sent as an HTTP header",
            "Give the key or token exactly as issued, or leave it unset.",
        )


def _worker_urls(env: Mapping[str, str]) -> tuple[str, ...]:
    """Worker URLs from the first family of keys that is set (see `ClusterConfig.from_env`)."""
    for family in (
        (WORKER_URLS_VAR,),
        WORKER_RUNTIME_URLS_VARS,
        (WORKER_URL_VAR, *WORKER_RUNTIME_URL_VARS),
    ):
        given = [(v, env[v]) for v in family if env.get(v)]
        if given:
            urls = [url for variable, value in given for url in parse_url_list(variable, value)]
            return tuple(dict.fromkeys(urls))
    return ()


def parse_url_list(variable: str, value: str | None) -> tuple[str, ...]:
    """Split a comma-separated URL list; every entry must be an http(s) URL with a port."""
    if value is None or not value.strip():
        raise ClusterConfigError(
            variable,
            value,
            "no URLs given",
            f"Set {variable} to comma-separated URLs, e.g. "
            "http://127.0.0.1:8080,http://127.0.0.1:8081.",
        )
    urls = tuple(part.strip().rstrip("/") for part in value.split(","))
    for url in urls:
        _check_url(variable, url, whole_value=value)
    return urls


def _check_url(variable: str, url: str, whole_value: str | None = None) -> None:
    parts = urlsplit(url)
    problem = ""
    if parts.scheme not in {"http", "https"}:
        problem = f"{url!r} is not an http:// or https:// URL"
    elif not parts.hostname:
        problem = f"{url!r} has no host"
    else:
        try:
            parts.port  # noqa: B018 - urlsplit validates the port lazily
        except ValueError:
            problem = f"{url!r} has an invalid port"
        else:
            if parts.path not in {"", "/"}:
                problem = f"{url!r} has a path; give the instance's base URL"
    if problem:
        raise ClusterConfigError(
            variable,
            whole_value if whole_value is not None else url,
            problem,
            "Use comma-separated base URLs like http://127.0.0.1:8080.",
        )
