"""Authentication as tasker-core's `[web.auth]`, on real service processes over real HTTP:
`/v1/*` and `/config` need `X-API-Key` or an RS256 bearer token; health stays open; a 401 is
tasker-core's bare `"Unauthorized"` with our code and message beside it as headers."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tasker_cluster.services.auth import AuthSettings
from tasker_cluster.services.errors import InvalidEnvironmentError

from .support import (
    FAN_OUT,
    ServiceFactory,
    ServiceProcess,
    run_service_expecting_failure,
    task_request,
)
from .upstream import SCHEMAS, require, run_schemathesis

API_KEY = "orchestration-test-key-1"
SECOND_KEY = "orchestration-test-key-2"
WORKER_KEY = "worker-test-key"
ISSUER = "https://issuer.tasker.test"
AUDIENCE = "tasker-api"
NO_CREDENTIALS = "authentication failed: no credentials: send X-API-Key or Authorization: Bearer"


@dataclass(frozen=True)
class SigningKeys:
    """The key pair the services trust, and one they do not."""

    private: rsa.RSAPrivateKey
    public_pem: str
    stranger: rsa.RSAPrivateKey

    def token(self, key: rsa.RSAPrivateKey | None = None, **claims: Any) -> str:
        """An RS256 token valid for five minutes, for the configured issuer and audience;
        a claim given as None is left out."""
        now = int(time.time())
        payload = {"sub": "tests", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300}
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, key or self.private, algorithm="RS256")


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def keys() -> SigningKeys:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SigningKeys(private, _public_pem(private), stranger)


@pytest.fixture(scope="module")
def orchestration(module_services: ServiceFactory, keys: SigningKeys) -> ServiceProcess:
    """API keys in TASKER_API_KEYS, the public key in a file, issuer and audience checked."""
    key_file = module_services.directory / "jwt-public.pem"
    key_file.write_text(keys.public_pem)
    return module_services.orchestration(
        "orchestration-auth",
        f"sqlite:///{module_services.directory / 'auth.sqlite3'}",
        TASKER_AUTH_ENABLED="true",
        TASKER_API_KEYS=f"{API_KEY}, {SECOND_KEY}",
        TASKER_JWT_PUBLIC_KEY_PATH=str(key_file),
        TASKER_JWT_ISSUER=ISSUER,
        TASKER_JWT_AUDIENCE=AUDIENCE,
    )


@pytest.fixture(scope="module")
def worker(module_services: ServiceFactory, keys: SigningKeys) -> ServiceProcess:
    """One key in TASKER_API_KEY, the PEM inline with its newlines written as `\\n` (as in a
    one-line env file), no issuer or audience."""
    return module_services.worker(
        "worker-python-auth",
        f"sqlite:///{module_services.directory / 'auth.sqlite3'}",
        TASKER_AUTH_ENABLED="TRUE",
        TASKER_API_KEY=WORKER_KEY,
        TASKER_JWT_PUBLIC_KEY=keys.public_pem.replace("\n", "\\n"),
    )


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def _unauthorized(response: httpx.Response) -> str:
    """The message of a 401 answered as tasker-core's document gives it (the bare
    `"Unauthorized"`), with its server's code, our kind and the message in headers and a
    challenge naming both ways in."""
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == "Unauthorized"
    assert response.headers["www-authenticate"] == 'Bearer, ApiKey header="X-API-Key"'
    assert response.headers["x-tasker-error-code"] == "AUTHENTICATION_FAILED"
    assert response.headers["x-tasker-error-kind"] == "unauthorized"
    return response.headers["x-tasker-error-message"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _total_tasks(http: httpx.Client, url: str) -> int:
    response = http.get(f"{url}/v1/tasks", params={"per_page": 1}, headers={"X-API-Key": API_KEY})
    assert response.status_code == 200, response.text
    return int(response.json()["pagination"]["total_count"])


GUARDED_READS = ("/v1/tasks", "/v1/templates", "/v1/dlq", "/v1/analytics/performance", "/config")


@pytest.mark.parametrize("path", GUARDED_READS)
def test_guarded_routes_refuse_a_request_without_credentials(
    orchestration: ServiceProcess, http: httpx.Client, path: str
) -> None:
    assert _unauthorized(http.get(orchestration.url + path)) == NO_CREDENTIALS


def test_a_refused_create_makes_no_task(orchestration: ServiceProcess, http: httpx.Client) -> None:
    before = _total_tasks(http, orchestration.url)
    request = task_request(**FAN_OUT, context={"width": 1})
    refused = http.post(f"{orchestration.url}/v1/tasks", json=request)
    assert _unauthorized(refused) == NO_CREDENTIALS
    wrong = http.post(f"{orchestration.url}/v1/tasks", json=request, headers={"X-API-Key": "x"})
    assert _unauthorized(wrong) == "authentication failed: invalid API key"
    assert _total_tasks(http, orchestration.url) == before
    created = http.post(
        f"{orchestration.url}/v1/tasks", json=request, headers={"X-API-Key": API_KEY}
    )
    assert created.status_code == 201, created.text
    assert _total_tasks(http, orchestration.url) == before + 1


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"X-API-Key": "not-the-key"}, "invalid API key"),
        ({"X-API-Key": ""}, "invalid API key"),
        ({"X-API-Key": API_KEY[:-1]}, "invalid API key"),
        ({"X-API-Key": API_KEY.upper()}, "invalid API key"),
        # latin-1 bytes, not ASCII: refused like any wrong key (compare_digest on str would 500)
        ({"X-API-Key": "schl\u00fcssel".encode("latin-1")}, "invalid API key"),
        ({"Authorization": f"Basic {API_KEY}"}, NO_CREDENTIALS.partition(": ")[2]),
        ({"Authorization": "Bearer"}, "invalid token: the bearer token is empty"),
        ({"Authorization": "Bearer not.a.jwt"}, "invalid token: "),
    ],
    ids=["wrong", "empty", "prefix", "case", "non-ascii", "basic", "empty-bearer", "garbage"],
)
def test_wrong_credentials_are_refused(
    orchestration: ServiceProcess,
    http: httpx.Client,
    headers: Mapping[str, str | bytes],
    message: str,
) -> None:
    raw = {name.encode(): v if isinstance(v, bytes) else v.encode() for name, v in headers.items()}
    response = http.get(f"{orchestration.url}/v1/tasks", headers=raw)
    assert _unauthorized(response).startswith(f"authentication failed: {message}")


@pytest.mark.parametrize("key", [API_KEY, SECOND_KEY])
def test_each_configured_api_key_is_accepted(
    orchestration: ServiceProcess, http: httpx.Client, key: str
) -> None:
    response = http.get(f"{orchestration.url}/v1/tasks", headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    assert "pagination" in response.json()


def test_a_valid_jwt_is_accepted(
    orchestration: ServiceProcess, http: httpx.Client, keys: SigningKeys
) -> None:
    token = keys.token()
    response = http.get(f"{orchestration.url}/v1/tasks", headers=_bearer(token))
    assert response.status_code == 200, response.text
    lowercase = http.get(
        f"{orchestration.url}/v1/templates", headers={"Authorization": f"bearer {token}"}
    )
    assert lowercase.status_code == 200, lowercase.text


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"exp": int(time.time()) - 60}, "Signature has expired"),
        ({"exp": None}, 'Token is missing the "exp" claim'),
        ({"iss": "https://someone-else.test"}, "Invalid issuer"),
        ({"iss": None}, 'Token is missing the "iss" claim'),
        ({"aud": "another-api"}, "Audience doesn't match"),
        ({"aud": None}, 'Token is missing the "aud" claim'),
        ({"nbf": int(time.time()) + 3600}, "The token is not yet valid (nbf)"),
    ],
    ids=["expired", "no-exp", "wrong-issuer", "no-issuer", "wrong-audience", "no-audience", "nbf"],
)
def test_tokens_failing_their_claims_are_refused(
    orchestration: ServiceProcess,
    http: httpx.Client,
    keys: SigningKeys,
    claims: dict[str, Any],
    message: str,
) -> None:
    response = http.get(f"{orchestration.url}/v1/tasks", headers=_bearer(keys.token(**claims)))
    assert _unauthorized(response) == f"authentication failed: invalid token: {message}"


def test_a_token_signed_by_another_key_is_refused(
    orchestration: ServiceProcess, http: httpx.Client, keys: SigningKeys
) -> None:
    forged = keys.token(keys.stranger)
    response = http.get(f"{orchestration.url}/v1/tasks", headers=_bearer(forged))
    assert _unauthorized(response) == (
        "authentication failed: invalid token: Signature verification failed"
    )


def test_a_bearer_token_is_checked_before_the_api_key(
    orchestration: ServiceProcess, http: httpx.Client, keys: SigningKeys
) -> None:
    """As tasker-core: a sent token decides, so a good key does not rescue a bad token."""
    url = f"{orchestration.url}/v1/tasks"
    expired = keys.token(exp=int(time.time()) - 60)
    both = http.get(url, headers={"X-API-Key": API_KEY, **_bearer(expired)})
    assert _unauthorized(both) == "authentication failed: invalid token: Signature has expired"
    good_token = http.get(url, headers={"X-API-Key": "wrong", **_bearer(keys.token())})
    assert good_token.status_code == 200, good_token.text
    basic = http.get(url, headers={"X-API-Key": API_KEY, "Authorization": "Basic eDp5"})
    assert basic.status_code == 200, basic.text


def test_tokens_of_other_algorithms_are_refused(
    orchestration: ServiceProcess, http: httpx.Client, keys: SigningKeys
) -> None:
    """Algorithm confusion: an HS256 token "signed" with the public key, and an unsigned one."""
    claims = {"iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 300}
    unsigned = jwt.encode(claims, "", algorithm="none")
    ec_token = jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")
    for token in (unsigned, ec_token):
        response = http.get(f"{orchestration.url}/v1/tasks", headers=_bearer(token))
        assert _unauthorized(response) == (
            "authentication failed: invalid token: The specified alg value is not allowed"
        )


OPEN_PATHS = (
    "/health",
    "/health/live",
    "/health/ready",
    "/health/detailed",
    "/live",
    "/ready",
    "/metrics",
    "/api-docs/openapi.json",
)


@pytest.mark.parametrize("path", OPEN_PATHS)
def test_health_metrics_and_the_api_document_stay_open(
    orchestration: ServiceProcess, http: httpx.Client, path: str
) -> None:
    response = http.get(orchestration.url + path)
    assert response.status_code == 200, response.text


def test_config_describes_auth_without_revealing_secrets(
    orchestration: ServiceProcess, http: httpx.Client, keys: SigningKeys
) -> None:
    response = http.get(f"{orchestration.url}/config", headers=_bearer(keys.token()))
    assert response.status_code == 200, response.text
    auth = response.json()["auth"]
    assert auth["enabled"] is True
    assert auth["verification_method"] == "api_key+jwt"
    assert (auth["jwt_issuer"], auth["jwt_audience"]) == (ISSUER, AUDIENCE)
    assert auth["api_key_count"] == 2
    for secret in (API_KEY, SECOND_KEY, keys.public_pem.splitlines()[1]):
        assert secret not in response.text
        assert secret not in orchestration.log()


def test_refusals_are_counted_by_status(orchestration: ServiceProcess, http: httpx.Client) -> None:
    def refused() -> float:
        text = http.get(f"{orchestration.url}/metrics").text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("tasker_http_requests_total{") and 'status="401"' in line
        )

    before = refused()
    http.get(f"{orchestration.url}/v1/tasks")
    assert refused() == before + 1


def test_the_worker_guards_its_api_and_config(
    worker: ServiceProcess, http: httpx.Client, keys: SigningKeys
) -> None:
    for path in ("/v1/templates", "/config"):
        assert _unauthorized(http.get(worker.url + path)) == NO_CREDENTIALS
        wrong = http.get(worker.url + path, headers={"X-API-Key": API_KEY})
        assert _unauthorized(wrong) == "authentication failed: invalid API key"
        assert http.get(worker.url + path, headers={"X-API-Key": WORKER_KEY}).status_code == 200
        # no issuer or audience configured: a token without them is fine
        token = keys.token(iss=None, aud=None)
        assert http.get(worker.url + path, headers=_bearer(token)).status_code == 200
    forged = http.get(worker.url + "/config", headers=_bearer(keys.token(keys.stranger)))
    assert "Signature verification failed" in _unauthorized(forged)
    validate = http.post(worker.url + "/v1/templates/load_testing/fan_out/1.0.0/validate")
    assert _unauthorized(validate) == NO_CREDENTIALS
    config = http.get(worker.url + "/config", headers={"X-API-Key": WORKER_KEY}).json()
    assert config["auth"]["enabled"] is True
    assert config["auth"]["verification_method"] == "api_key+jwt"
    assert config["auth"]["api_key_count"] == 1


@pytest.mark.parametrize("path", ["/health", "/health/live", "/health/ready", "/templates"])
def test_the_workers_health_stays_open(
    worker: ServiceProcess, http: httpx.Client, path: str
) -> None:
    assert http.get(worker.url + path).status_code == 200


def test_auth_off_needs_no_credentials(services: ServiceFactory, sqlite_url: str) -> None:
    """TASKER_AUTH_ENABLED=false: keys configured but not asked for (tasker-core's default)."""
    service = services.orchestration(
        "orchestration-open", sqlite_url, TASKER_AUTH_ENABLED="false", TASKER_API_KEY=API_KEY
    )
    with httpx.Client(base_url=service.url, timeout=10) as http:
        assert http.get("/v1/tasks").status_code == 200
        assert http.get("/config").json()["auth"]["enabled"] is False


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"TASKER_AUTH_ENABLED": "maybe"},
            "invalid environment: TASKER_AUTH_ENABLED='maybe' is not true or false",
        ),
        (
            {"TASKER_JWT_PUBLIC_KEY_PATH": "/nonexistent/key.pem"},
            "invalid environment: TASKER_JWT_PUBLIC_KEY_PATH='/nonexistent/key.pem' cannot be "
            "read: No such file or directory",
        ),
        (
            {"TASKER_JWT_PUBLIC_KEY": "not a key"},
            "invalid environment: TASKER_JWT_PUBLIC_KEY='<PEM>' is not a PEM public key",
        ),
    ],
    ids=["flag", "unreadable-key-file", "not-a-pem"],
)
def test_bad_auth_settings_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidEnvironmentError) as raised:
        AuthSettings.from_environ(environ)
    assert str(raised.value).startswith(message)
    assert raised.value.variable == next(iter(environ))


def test_a_public_key_that_is_not_rsa_is_refused(tmp_path: Path) -> None:
    pem = _public_pem_of(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(InvalidEnvironmentError) as raised:
        AuthSettings.from_environ({"TASKER_JWT_PUBLIC_KEY": pem})
    assert str(raised.value).endswith("is not an RSA key (RS256 needs one)")


def _public_pem_of(key: ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.mark.parametrize("module", ["orchestration", "worker"])
def test_a_bad_auth_flag_stops_the_service_at_once(module: str, tmp_path: Path) -> None:
    result = run_service_expecting_failure(module, tmp_path, TASKER_AUTH_ENABLED="maybe")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        "invalid environment: TASKER_AUTH_ENABLED='maybe' is not true or false"
    )
    assert not (tmp_path / "never.sqlite3").exists(), "it touched the database before failing"


def _schemathesis(
    document: Path, url: str, headers: Mapping[str, str], workdir: Path
) -> subprocess.CompletedProcess[str]:
    header_options = [
        part for name, value in headers.items() for part in ("-H", f"{name}: {value}")
    ]
    options = ["--checks", "ignored_auth,not_a_server_error", "--phases", "examples,fuzzing"]
    options += ["--mode", "positive", "--max-examples", "5"]
    return run_schemathesis(document, url, workdir, *header_options, *options)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("document", "service", "key"),
    [
        ("orchestration-openapi.json", "orchestration", API_KEY),
        ("worker-openapi.json", "worker", WORKER_KEY),
    ],
)
def test_schemathesis_finds_no_unauthenticated_access(
    request: pytest.FixtureRequest, tmp_path: Path, document: str, service: str, key: str
) -> None:
    """tasker-core's documents declare which operations need `X-API-Key` or a bearer token;
    schemathesis replays authenticated requests without credentials and expects 401s."""
    path = require(SCHEMAS / document, "tasker-core's OpenAPI documents")
    process: ServiceProcess = request.getfixturevalue(service)
    result = _schemathesis(path, process.url, {"X-API-Key": key}, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts and int(counts[1]) == int(counts[2]) > 0, output[-3000:]


@pytest.mark.slow
def test_schemathesis_sees_unauthenticated_access_when_auth_is_off(
    services: ServiceFactory, sqlite_url: str, tmp_path: Path
) -> None:
    """The control: the same run against a service with auth off reports what it must."""
    document = require(SCHEMAS / "orchestration-openapi.json", "tasker-core's OpenAPI documents")
    service = services.orchestration("orchestration-open", sqlite_url, TASKER_AUTH_ENABLED="false")
    result = _schemathesis(document, service.url, {"X-API-Key": API_KEY}, tmp_path)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "API accepts requests without authentication" in result.stdout, result.stdout[-3000:]
