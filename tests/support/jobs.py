"""Real job processes for the tests: ``mypack worker`` and ``mypack beat`` started as
an operator would, on a broker queue of the test's own, and stopped by the test."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

from tests.support.system import MYPACK, ROOT

#: The local brokers, by scheme.
BROKERS = {"amqp": "amqp://guest:guest@127.0.0.1:5672//", "redis": "redis://127.0.0.1:6379/0"}


def broker_reachable(url: str) -> str | None:
    """None if the broker at ``url`` answers, else why not."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as error:  # kombu's and the socket's many ways to fail
        return f"{type(error).__name__}: {error}"
    return None


def delete_queue(url: str, name: str) -> None:
    """Remove the test's queue (and its exchange) from the broker."""
    from kombu import Connection, Exchange, Queue

    with Connection(url, connect_timeout=3) as connection:
        channel = connection.channel()
        Queue(name, Exchange(name), name, channel=channel).delete()
        if url.startswith("amqp"):
            Exchange(name, channel=channel).delete()


def job_settings(broker_url: str, database_url: str, **extra) -> dict:
    """Settings of a web process and its workers that use a real broker, on a queue
    named for the test."""
    return {"CELERY_TASK_ALWAYS_EAGER": False, "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_DEFAULT_QUEUE": f"mypack-test-{uuid.uuid4().hex[:12]}",
            "SQLALCHEMY_DATABASE_URI": database_url, **extra}


class JobProcess:
    """``mypack <program>`` (worker or beat) in a process group of its own, with the
    testing configuration and ``settings`` as MYPACK_* variables; its output goes to
    ``log``. ``command`` and ``environment`` replace the installed script's and the
    test's (a deployment's own mypack, run as its service user)."""

    def __init__(self, program: str, instance: Path, settings: dict, *arguments: str,
                 command: list | None = None, environment: dict | None = None,
                 log_dir: Path | None = None):
        self.program, self.instance = program, instance
        self.log = (log_dir or instance) / f"{program}-{uuid.uuid4().hex[:6]}.log"
        if environment is None:
            environment = {k: v for k, v in os.environ.items()
                           if not k.startswith(("MYPACK_", "FLASK_"))}
            environment.update({"MYPACK_CONFIG": "testing", "MYPACK_LOG_TO_STDERR": "true"})
        environment.update({f"MYPACK_{name}": value if isinstance(value, str)
                            else json.dumps(value) for name, value in settings.items()})
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [str(part) for part in (command or [MYPACK])]
                + ["--instance", str(instance), program, *arguments],
                stdout=output, stderr=subprocess.STDOUT, env=environment, cwd=ROOT,
                start_new_session=True)

    def wait_for_line(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"mypack {self.program} did not say {text!r}:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group: a worker that dies mid-task."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> JobProcess:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def worker(instance: Path, settings: dict, *arguments: str, **options) -> JobProcess:
    """A worker that takes tasks (and is ready) when this returns."""
    process = JobProcess("worker", instance, settings, "--concurrency", "2",
                         "--without-mingle", "--without-gossip", *arguments, **options)
    process.wait_for_line(" ready.")
    return process
