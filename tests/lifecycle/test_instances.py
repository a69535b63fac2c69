"""Instances: ids, ports, argv placeholders per element, and each instance's environment."""

from __future__ import annotations

import sys

from tasker_cluster.config.instances import instance_for_id, plan_instances
from tasker_cluster.config.loader import load_settings

ENVIRON = {"PATH": "/usr/bin:/bin", "HOME": "/home/dev", "TASKER_WORKER_ID": "leaked"}


def test_placeholders_are_substituted_inside_each_argument_without_a_shell() -> None:
    settings = load_settings(
        [],
        {
            "TASKER_CLUSTER_DIR": "/srv/c1",
            "TASKER_ORCHESTRATION_INSTANCES": "2",
            "TASKER_ORCHESTRATION_COMMAND": (
                "{python} -c 'print(1); import os' --name=\"{instance_id} #{number}\" "
                "--grpc {host}:{port+1010} --data {cluster_dir}/{instance_id} "
                "--json '{\"a\": {port}}' $HOME;rm"
            ),
            "TASKER_WORKER_PYTHON_INSTANCES": "0",
        },
        ENVIRON,
    )

    second = plan_instances(settings)[1]

    assert second.argv == (
        sys.executable,
        "-c",
        "print(1); import os",
        "--name=orchestration-2 #2",
        "--grpc",
        "127.0.0.1:9091",
        "--data",
        "/srv/c1/orchestration-2",
        "--json",
        '{"a": 8081}',
        "$HOME;rm",
    )


def test_every_instance_gets_its_identity_and_workers_a_worker_id() -> None:
    settings = load_settings(
        [],
        {"TASKER_CLUSTER_DIR": "/srv/c1", "DATABASE_URL": "sqlite:////srv/db.sqlite3"},
        {**ENVIRON, "TASKER_INSTANCE_ID": "stale", "TASKER_ORCHESTRATION_COMMAND": "{python}"},
    )
    orchestration, _, worker, _ = plan_instances(settings)

    assert {k: v for k, v in orchestration.environment.items() if k != "HOME"} == {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": "sqlite:////srv/db.sqlite3",
        "TASKER_INSTANCE_ID": "orchestration-1",
        "TASKER_INSTANCE_PORT": "8080",
        "TASKER_WEB_BIND_ADDRESS": "127.0.0.1:8080",
        "PORT": "8080",
        "TASKER_CLUSTER_DIR": "/srv/c1",
    }
    assert worker.environment["TASKER_WORKER_ID"] == "worker-python-1"
    assert worker.environment["TASKER_WEB_BIND_ADDRESS"] == "127.0.0.1:8300"
    assert worker.url == "http://127.0.0.1:8300"
    assert worker.health_url == "http://127.0.0.1:8300/health"


def test_bind_host_sets_the_bind_address_and_wildcards_are_probed_on_loopback() -> None:
    wildcard = load_settings([], {"TASKER_BIND_HOST": "0.0.0.0"}, ENVIRON)
    ipv6 = load_settings([], {"TASKER_BIND_HOST": "::1"}, ENVIRON)

    first = plan_instances(wildcard)[0]
    assert first.environment["TASKER_WEB_BIND_ADDRESS"] == "0.0.0.0:8080"
    assert first.health_url == "http://127.0.0.1:8080/health"
    assert plan_instances(ipv6)[0].environment["TASKER_WEB_BIND_ADDRESS"] == "[::1]:8080"
    assert plan_instances(ipv6)[0].url == "http://[::1]:8080"


def test_an_instance_id_maps_back_to_its_instance() -> None:
    settings = load_settings([], {}, ENVIRON)

    rebuilt = instance_for_id(settings, "worker-python-7")

    assert rebuilt is not None
    assert (rebuilt.service, rebuilt.number, rebuilt.port) == ("worker-python", 7, 8306)
    assert instance_for_id(settings, "worker-java-1") is None
    assert instance_for_id(settings, "orchestration") is None
