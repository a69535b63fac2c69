"""Configuration: profiles, precedence, service types as data, and the exact error messages."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fakes.tasker_core import Ports, make_checkout
from tasker_cluster.cli.hints import explain
from tasker_cluster.config.errors import ConfigError, EnvFileNotFoundError, UnknownServiceError
from tasker_cluster.config.instances import plan_instances
from tasker_cluster.config.loader import PROJECT_ROOT, load_settings, with_counts

PROFILES = PROJECT_ROOT / "config" / "dotenv"
ENVIRON = {"PATH": "/usr/bin:/bin"}


def write_profile(root: Path, text: str) -> Path:
    path = root / "config" / "dotenv" / "multi-instance.env"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def problems_of(error: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    return [problem.describe() for problem in error.value.problems]


def test_default_profile_runs_two_orchestration_and_two_python_workers() -> None:
    settings = load_settings(environ=ENVIRON)

    assert settings.multi_instance
    assert settings.default_counts() == {
        "orchestration": 2,
        "worker-rust": 0,
        "worker-ruby": 0,
        "worker-python": 2,
        "worker-ts": 0,
    }
    assert [(i.id, i.port) for i in plan_instances(settings)] == [
        ("orchestration-1", 8080),
        ("orchestration-2", 8081),
        ("worker-python-1", 8300),
        ("worker-python-2", 8301),
    ]
    assert plan_instances(settings)[0].argv == (
        sys.executable,
        "-m",
        "tasker_cluster.services.orchestration",
    )
    assert {s.name: s.base_port for s in settings.service_types} == {
        "orchestration": 8080,
        "worker-rust": 8100,
        "worker-ruby": 8200,
        "worker-python": 8300,
        "worker-ts": 8400,
    }
    assert settings.cluster_dir == PROJECT_ROOT


def test_single_instance_profile_uses_legacy_names_and_ports() -> None:
    commands = {
        f"TASKER_{name.upper().replace('-', '_')}_COMMAND": "{python} -V"
        for name in ("worker-rust", "worker-ruby", "worker-ts")
    }
    settings = load_settings([PROFILES / "single-instance.env"], commands, ENVIRON)
    all_types = {name: 1 for name in settings.service_names}

    assert [(i.id, i.port) for i in plan_instances(settings)] == [
        ("orchestration", 8080),
        ("python-worker", 8083),
    ]
    assert [(i.id, i.port) for i in plan_instances(settings, all_types)] == [
        ("orchestration", 8080),
        ("rust-worker", 8081),
        ("ruby-worker", 8082),
        ("python-worker", 8083),
        ("ts-worker", 8085),
    ]


def test_multi_instance_mode_false_selects_legacy_naming() -> None:
    settings = load_settings(
        [], {"TASKER_MULTI_INSTANCE_MODE": "false", "TASKER_WORKER_PYTHON_INSTANCES": "1",
             "TASKER_ORCHESTRATION_INSTANCES": "1"}, ENVIRON
    )  # fmt: skip

    assert [i.id for i in plan_instances(settings)] == ["orchestration", "python-worker"]


def test_precedence_is_overrides_then_environment_then_file_then_defaults(tmp_path: Path) -> None:
    profile = tmp_path / "profile.env"
    profile.write_text("TASKER_ORCHESTRATION_BASE_PORT=9100\nTASKER_WORKER_PYTHON_BASE_PORT=9200\n")
    key = "TASKER_ORCHESTRATION_BASE_PORT"

    def port(overrides: dict[str, str], environ: dict[str, str], files: list[Path]) -> int:
        settings = load_settings(files, overrides, {**ENVIRON, **environ})
        return settings.service_type("orchestration").base_port or 0

    assert port({}, {}, []) == 8080
    assert port({}, {}, [profile]) == 9100
    assert port({}, {key: "9300"}, [profile]) == 9300
    assert port({key: "9400"}, {key: "9300"}, [profile]) == 9400


def test_later_env_file_overrides_an_earlier_one(tmp_path: Path) -> None:
    first, second = tmp_path / "first.env", tmp_path / "second.env"
    first.write_text("TASKER_ORCHESTRATION_INSTANCES=4\nDATABASE_URL=sqlite:///one\n")
    second.write_text("TASKER_ORCHESTRATION_INSTANCES=1\n")

    settings = load_settings([first, second], environ=ENVIRON)

    assert settings.service_type("orchestration").instances == 1
    assert settings.passthrough["DATABASE_URL"] == "sqlite:///one"


def test_error_names_key_value_origin_rule_and_fix(tmp_path: Path) -> None:
    write_profile(tmp_path, "TASKER_ORCHESTRATION_BASE_PORT=80\n")

    with pytest.raises(ConfigError) as error:
        load_settings(None, {"TASKER_PROJECT_ROOT": str(tmp_path)}, ENVIRON)

    assert str(error.value) == (
        "invalid cluster configuration:\n"
        "  TASKER_ORCHESTRATION_BASE_PORT='80' (from config/dotenv/multi-instance.env): "
        "a port must be 1024-65535; set it to a free port such as 8080"
    )


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    profile = tmp_path / "profile.env"
    profile.write_text(
        "TASKER_MULTI_INSTANCE_MODE=maybe\n"
        "TASKER_WORKER_RUBY_INSTANCES=1\n"
        "TASKER_WORKER_RUBY_COMMAND=${RUBY_HOME}/bin/ruby server.rb\n"
    )

    with pytest.raises(ConfigError) as error:
        load_settings(
            [profile],
            {"TASKER_ORCHESTRATION_INSTANCES": "two", "TASKER_WORKER_RUST_INSTANCES": "1"},
            {**ENVIRON, "TASKER_WORKER_PYTHON_BASE_PORT": "70000"},
            override_origins={"TASKER_ORCHESTRATION_INSTANCES": "the --orchestration flag"},
        )

    assert problems_of(error) == [
        f"TASKER_MULTI_INSTANCE_MODE='maybe' (from {profile}): must be true or false; "
        "set it to true or false",
        "TASKER_ORCHESTRATION_INSTANCES='two' (from the --orchestration flag): an instance "
        "count must be a whole number from 0 to 100; set it to a number such as 2",
        "TASKER_WORKER_PYTHON_BASE_PORT='70000' (from the process environment): a port must "
        "be 1024-65535; set it to a free port such as 8300",
        f"TASKER_WORKER_RUBY_COMMAND='${{RUBY_HOME}}/bin/ruby server.rb' (from {profile}): "
        "it refers to ${RUBY_HOME}, which is not set; set RUBY_HOME",
        "TASKER_WORKER_RUST_COMMAND is not set: worker-rust is asked to run 1 instance(s) but "
        "has no start command; set it, or pick a profile that defines it "
        "(e.g. config/dotenv/tasker-core.env)",
    ]
    assert str(error.value).startswith("invalid cluster configuration (5 problems):\n  ")


def test_overlapping_port_ranges_are_refused() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(
            [],
            {"TASKER_ORCHESTRATION_INSTANCES": "3", "TASKER_WORKER_PYTHON_BASE_PORT": "8082"},
            ENVIRON,
        )

    assert problems_of(error) == [
        "TASKER_WORKER_PYTHON_BASE_PORT='8082' (from overrides): ports 8082-8083 of "
        "worker-python overlap ports 8080-8082 of orchestration; choose a base port outside "
        "8080-8082"
    ]


def test_ports_beyond_65535_and_missing_programs_are_refused() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(
            [],
            {
                "TASKER_WORKER_TS_INSTANCES": "3",
                "TASKER_WORKER_TS_BASE_PORT": "65535",
                "TASKER_WORKER_TS_COMMAND": "no-such-program-here --port {port}",
            },
            ENVIRON,
        )

    assert problems_of(error) == [
        "TASKER_WORKER_TS_COMMAND='no-such-program-here --port {port}' (from overrides): the "
        "program 'no-such-program-here' is not an executable file on PATH; install it, or give "
        "its full path",
        "TASKER_WORKER_TS_BASE_PORT='65535' (from overrides): 3 instance(s) need ports "
        "65535-65537, beyond 65535; choose a lower base port or fewer instances",
    ]


def test_single_instance_mode_refuses_counts_above_one_and_bad_names() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(
            [],
            {"TASKER_MULTI_INSTANCE_MODE": "false", "TASKER_ORCHESTRATION_INSTANCES": "1",
             "TASKER_ORCHESTRATION_LEGACY_NAME": "bad name", "TASKER_WORKER_PYTHON_INSTANCES": "2"},
            ENVIRON,
        )  # fmt: skip

    assert problems_of(error) == [
        "TASKER_ORCHESTRATION_LEGACY_NAME='bad name' (from overrides): instance id 'bad name' "
        "does not match ^[a-zA-Z0-9][a-zA-Z0-9-]{0,63}$; set it to a name of letters, digits "
        "and dashes, at most 64 long",
        "TASKER_WORKER_PYTHON_INSTANCES='2' (from overrides): single-instance mode runs at "
        "most one instance of each type; set it to 0 or 1, or set TASKER_MULTI_INSTANCE_MODE=true",
    ]


def test_a_new_service_type_is_a_config_change() -> None:
    settings = load_settings(
        [],
        {
            "TASKER_WORKER_GO_INSTANCES": "2",
            "TASKER_WORKER_GO_BASE_PORT": "8500",
            "TASKER_WORKER_GO_COMMAND": "{python} -c pass --id {instance_id}",
            "TASKER_WORKER_GO_HEALTH_PATH": "/healthz",
        },
        ENVIRON,
    )

    go = [i for i in plan_instances(settings) if i.service == "worker-go"]
    assert [(i.id, i.port, i.health_url) for i in go] == [
        ("worker-go-1", 8500, "http://127.0.0.1:8500/healthz"),
        ("worker-go-2", 8501, "http://127.0.0.1:8501/healthz"),
    ]
    assert go[1].argv == (sys.executable, "-c", "pass", "--id", "worker-go-2")
    assert go[1].environment["TASKER_WORKER_ID"] == "worker-go-2"


def test_counts_name_exactly_what_runs_and_unknown_types_are_refused() -> None:
    settings = load_settings([], {}, ENVIRON)

    assert [i.id for i in plan_instances(settings, {"worker-python": 1})] == ["worker-python-1"]
    with pytest.raises(UnknownServiceError) as error:
        with_counts(settings, {"worker-java": 1})
    assert str(error.value) == (
        "unknown service type 'worker-java'; known types: orchestration, worker-rust, "
        "worker-ruby, worker-python, worker-ts (a type exists when TASKER_<TYPE>_INSTANCES, "
        "_BASE_PORT or _COMMAND is configured)"
    )
    with pytest.raises(ConfigError) as bad_count:
        plan_instances(settings, {"orchestration": -1})
    assert problems_of(bad_count)[0].startswith(
        "TASKER_ORCHESTRATION_INSTANCES='-1' (from the counts argument): an instance count"
    )


def test_missing_env_file_is_reported_with_where_it_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(EnvFileNotFoundError) as error:
        load_settings([Path("config/dotenv/nope.env")], environ=ENVIRON, cwd=tmp_path)

    assert str(error.value) == (
        f"env file 'config/dotenv/nope.env' not found (looked in {tmp_path}/config/dotenv, "
        f"{PROJECT_ROOT}/config/dotenv)"
    )
    assert explain(error.value) == (
        f"env file 'config/dotenv/nope.env' not found (looked in {tmp_path}/config/dotenv, "
        f"{PROJECT_ROOT}/config/dotenv); pass an existing file, "
        "e.g. --env-file config/dotenv/multi-instance.env"
    )


def small_checkout(root: Path) -> tuple[Path, dict[str, str]]:
    """The fixture checkout (tests/fakes/tasker_core.py) with 2 orchestration and 2 Python
    workers on fixed ports, and an environ whose PATH has its stand-ins for cargo, uv, bundle
    and bun."""
    ports = Ports(
        rest={"orchestration": 18080, "worker-rust": 18100, "worker-ruby": 18200,
              "worker-python": 18300, "worker-ts": 18400},
        grpc={"orchestration": 19190, "worker-rust": 19290, "worker-ruby": 19200,
              "worker-python": 19300, "worker-ts": 19400},
    )  # fmt: skip
    checkout = make_checkout(root / "tasker core", {"orchestration": 2, "worker-python": 2}, ports)
    tools = root / "tools"
    tools.mkdir()
    for program in ("cargo", "uv", "bundle", "bun"):
        (tools / program).symlink_to(checkout.bin_dir / program)
    return checkout.root, {"PATH": f"{tools}:/usr/bin:/bin", "TASKER_CORE_DIR": str(checkout.root)}


def test_tasker_core_profile_follows_the_checkout(tmp_path: Path) -> None:
    core, environ = small_checkout(tmp_path)

    settings = load_settings([PROFILES / "tasker-core.env"], {}, environ)

    plan = plan_instances(settings)
    assert [(i.id, i.port, dict(i.ports)) for i in plan] == [
        ("orchestration-1", 18080, {"grpc": 19190}),
        ("orchestration-2", 18081, {"grpc": 19191}),
        ("worker-python-1", 18300, {"grpc": 19300}),
        ("worker-python-2", 18301, {"grpc": 19301}),
    ]
    first = plan[0]
    assert first.workdir == core
    assert first.argv == (
        "env",
        f"TASKER_CONFIG_PATH={core}/config/tasker/generated/orchestration-test.toml",
        f"TASKER_TEMPLATE_PATH={core}/tests/fixtures/task_templates",
        f"{core}/target/release/tasker-server",
    )
    assert first.environment["TASKER_ORCHESTRATION_GRPC_BIND_ADDRESS"] == "127.0.0.1:19190"
    worker = plan[3]
    assert worker.workdir == core / "crates" / "tasker-py"
    assert worker.argv == ("uv", "run", "python", "bin/server.py")
    assert worker.environment["TASKER_WORKER_GRPC_BIND_ADDRESS"] == "127.0.0.1:19301"
    assert worker.environment["TASKER_WEB_BIND_ADDRESS"] == "127.0.0.1:18301"
    assert worker.environment["TASKER_CONFIG_PATH"] == (
        f"{core}/config/tasker/generated/worker-test.toml"
    )
    assert worker.environment["TASKER_CONFIG_ROOT"] == f"{core}/config"
    assert worker.environment["TASKER_MESSAGING_BACKEND"] == "rabbitmq", "the checkout's choice"
    assert worker.environment["DATABASE_URL"].endswith("/tasker_rust_test")
    python = settings.service_type("worker-python")
    assert python.start_after == ("orchestration",)
    assert python.prepare == "uv sync --group dev && uv run maturin develop"


def test_a_missing_checkout_is_named_with_the_file_that_includes_it(tmp_path: Path) -> None:
    with pytest.raises(EnvFileNotFoundError) as error:
        load_settings(
            [PROFILES / "tasker-core.env"], {"TASKER_CORE_DIR": str(tmp_path / "none")}, ENVIRON
        )

    assert str(error.value) == (
        f"env file '{tmp_path}/none/config/dotenv/cluster.env' not found (looked in "
        f"{tmp_path}/none/config/dotenv), included by {PROFILES / 'tasker-core.env'} "
        "(TASKER_ENV_INCLUDE)"
    )


def test_a_missing_program_is_named_with_how_to_get_it_even_behind_env(tmp_path: Path) -> None:
    _, environ = small_checkout(tmp_path)
    (tmp_path / "tools" / "uv").unlink()
    overrides = {
        "TASKER_ORCHESTRATION_PREPARE": "",
        "TASKER_ORCHESTRATION_COMMAND": "env A=1 cargo run",
    }

    with pytest.raises(ConfigError) as error:
        load_settings([PROFILES / "tasker-core.env"], overrides, environ)

    problems = problems_of(error)
    assert len(problems) == 2, problems
    assert problems[0].startswith("TASKER_WORKER_PYTHON_COMMAND='uv run python bin/server.py'")
    assert problems[0].endswith(
        "the program 'uv' is not an executable file on PATH; install uv (pip install uv)"
    )
    assert problems[1].startswith("TASKER_WORKER_PYTHON_PREPARE=")
    assert "the program 'uv' is not an executable file on PATH" in problems[1]


def test_a_role_key_makes_any_type_a_worker_and_a_bad_role_is_named() -> None:
    sidecar = {
        "TASKER_SIDECAR_INSTANCES": "1",
        "TASKER_SIDECAR_BASE_PORT": "9700",
        "TASKER_SIDECAR_COMMAND": "{python} -c pass",
    }
    plain = load_settings([], sidecar, ENVIRON)
    assert plain.service_type("sidecar").role == "orchestration"
    assert plain.service_type("worker-python").role == "worker"
    (instance,) = [i for i in plan_instances(plain) if i.service == "sidecar"]
    assert "TASKER_WORKER_ID" not in instance.environment

    as_worker = load_settings([], {**sidecar, "TASKER_SIDECAR_ROLE": "Worker"}, ENVIRON)
    (instance,) = [i for i in plan_instances(as_worker) if i.service == "sidecar"]
    assert instance.environment["TASKER_WORKER_ID"] == "sidecar-1"

    with pytest.raises(ConfigError) as error:
        load_settings([], {**sidecar, "TASKER_SIDECAR_ROLE": "scheduler"}, ENVIRON)
    assert problems_of(error) == [
        "TASKER_SIDECAR_ROLE='scheduler' (from overrides): a role must be one of "
        "orchestration, worker; set it to orchestration"
    ]


def test_a_plan_names_its_instances_once_with_where_each_count_came_from() -> None:
    settings = load_settings([], {}, ENVIRON)

    plan = plan_instances(
        settings, {"orchestration": "3"}, {"orchestration": "the --orchestration flag"}, others=None
    )
    assert plan.summary() == "3 orchestration, 2 worker-python"
    assert plan.settings.service_type("orchestration").instances == 3
    with pytest.raises(ConfigError) as error:
        plan_instances(settings, {"orchestration": "many"}, {"orchestration": "the --scale flag"})
    assert problems_of(error)[0].startswith(
        "TASKER_ORCHESTRATION_INSTANCES='many' (from the --scale flag): an instance count"
    )
