"""A real OpenStack on loopback for the tests: Keystone, Glance, Placement, Nova (fake virt)
and, on demand (`start --heat`, or `start_heat()` on a running stack), Heat.

Built from Debian 12's Zed libraries (servers/openstack/install.sh). Everything lives
in one scratch folder: MariaDB's data dir, RabbitMQ's node, each service's config,
logs and state. Each service is its own process group; `stop` ends every one.

    python3 servers/openstack/stack.py start --dir /tmp/wm-openstack   # prints stack.json's path
    python3 servers/openstack/stack.py heat --dir /tmp/wm-openstack    # adds Heat to it
    python3 servers/openstack/stack.py stop --dir /tmp/wm-openstack

`start` returns once every service answers and the seed is in place (two projects
`alpha` and `beta` with one member user each, a public image, flavors), and writes
DIR/stack.json with the ports, URLs, users and passwords. Standard library only: any
Python 3.11 runs it; the services themselves run under Debian's /usr/bin/python3.

NOT REAL: Neutron. No network service runs here; `neutron_stub.py` answers every list
with an empty one so servers boot without NICs. Everything else is the real service.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import grp
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SYSTEM_PYTHON = "/usr/bin/python3"
REGION = "RegionOne"
SERVICES = ("nova", "glance", "placement")
DATABASES = ("keystone", "glance", "placement", "nova_api", "nova", "nova_cell0")
#: The seed: project -> (user, role).
PROJECTS = {"alpha": "alice", "beta": "bob"}
#: Flavors: name -> (id, vcpus, ram MB, disk GB). m1.huge is bigger than a project's quota
#: (20 cores); m1.nohost has a disk no host has (the fake node has 600000 GB): the
#: scheduler finds no valid host and the server goes to ERROR with Nova's fault.
FLAVORS = {
    "m1.tiny": ("1", 1, 512, 1),
    "m1.small": ("2", 1, 2048, 20),
    "m1.medium": ("3", 2, 4096, 40),
    "m1.huge": ("9", 32, 8192, 80),
    "m1.nohost": ("10", 1, 512, 900000),
}
IMAGE_NAME = "cirros-fake"
#: Services that ignore SIGTERM (heat-engine waits for its green threads): killed at once.
KILL_AT_ONCE = frozenset({"heat-engine"})


class StackError(RuntimeError):
    """A step failed; the message names it and the log to read."""


# -- small helpers ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def http(
    method: str,
    url: str,
    body: Any = None,
    *,
    token: str | None = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, dict[str, str], Any]:
    """(status, headers, JSON body or None); never raises for an HTTP status."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    # Only http://127.0.0.1 URLs this script builds itself.
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
    request.add_header("Accept", "application/json")
    if raw is not None:
        request.add_header("Content-Type", "application/octet-stream")
    elif body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("X-Auth-Token", token)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310
            status, head, payload = reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as exc:
        status, head, payload = exc.code, dict(exc.headers), exc.read()
    try:
        parsed = json.loads(payload) if payload else None
    except ValueError:
        parsed = payload.decode(errors="replace")
    return status, head, parsed


def expect(result: tuple[int, dict[str, str], Any], what: str, *ok: int) -> Any:
    status, _, body = result
    if status not in (ok or (200, 201, 202, 204)):
        raise StackError(f"{what}: HTTP {status}: {str(body)[:500]}")
    return body


def ini(sections: dict[str, dict[str, Any]]) -> str:
    lines: list[str] = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {value}" for key, value in values.items())
        lines.append("")
    return "\n".join(lines)


# -- the stack ------------------------------------------------------------------------


class Stack:
    @classmethod
    def attach(cls, root: Path) -> Stack:
        """The running stack whose `start` wrote root/stack.json."""
        stack = cls(root)
        stack.state = json.loads(stack.state_file.read_text())
        return stack

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.etc, self.log, self.run = self.root / "etc", self.root / "log", self.root / "run"
        self.state_file = self.root / "stack.json"
        self.pids_file = self.root / "pids.json"
        self.state: dict[str, Any] = {}

    # paths and URLs
    def url(self, service: str) -> str:
        port = self.state["ports"][service]
        suffix = {"nova": "/v2.1", "placement": "", "glance": "", "keystone": "/v3"}.get(
            service, ""
        )
        return f"http://127.0.0.1:{port}{suffix}"

    def db(self, name: str) -> str:
        sock = self.run / "mysqld.sock"
        return f"mysql+pymysql://root@localhost/{name}?unix_socket={sock}&charset=utf8"

    # processes
    def _pids(self) -> list[dict[str, Any]]:
        if not self.pids_file.exists():
            return []
        loaded: list[dict[str, Any]] = json.loads(self.pids_file.read_text())
        return loaded

    def spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> int:
        logfile = (self.log / f"{name}.out").open("ab")
        process = subprocess.Popen(
            command,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=self.root,
            start_new_session=True,
        )
        logfile.close()
        pids = self._pids()
        pids.append({"name": name, "pid": process.pid})
        self.pids_file.write_text(json.dumps(pids, indent=1))
        return process.pid

    def alive(self, name: str) -> bool:
        for entry in self._pids():
            if entry["name"] == name:
                try:
                    os.kill(entry["pid"], 0)
                except ProcessLookupError:
                    return False
                # a zombie child of ours counts as dead
                try:
                    done, _ = os.waitpid(entry["pid"], os.WNOHANG)
                except ChildProcessError:
                    return True
                return done == 0
        return False

    def wait_until(self, what: str, check: Any, timeout: float, service: str | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if service and not self.alive(service):
                raise StackError(f"{service} exited while waiting for {what}; {self.tail(service)}")
            try:
                if check():
                    return
            except (OSError, StackError):
                pass
            time.sleep(0.25)
        raise StackError(f"timed out after {timeout:g} s waiting for {what}; {self.tail(service)}")

    def tail(self, service: str | None) -> str:
        if not service:
            return f"logs in {self.log}"
        text = ""
        for path in sorted(self.log.glob(f"{service}*")):
            text += path.read_text(errors="replace")[-1500:]
        return f"end of {self.log}/{service}*:\n{text}"

    def manage(self, target: str, prog: str, *args: str, conf: Path | None = None) -> str:
        command = [SYSTEM_PYTHON, str(HERE / "run_service.py"), target, prog]
        if conf is not None:
            command += ["--config-file", str(conf)]
        command += list(args)
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root, check=False)
        with (self.log / f"{prog}.out").open("a") as log:
            log.write(f"$ {' '.join(args)}\n{done.stdout}{done.stderr}\n")
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise StackError(f"{prog} {' '.join(args)} failed ({done.returncode}):\n{tail}")
        return done.stdout + done.stderr

    def service(self, name: str, target: str, conf: Path, *extra: str) -> None:
        self.spawn(
            name,
            [
                SYSTEM_PYTHON,
                str(HERE / "run_service.py"),
                target,
                name,
                "--config-file",
                str(conf),
                "--log-file",
                str(self.log / f"{name}.log"),
                *extra,
            ],
        )

    def uwsgi(self, name: str, wsgi: str, port: int, env: dict[str, str]) -> None:
        wsgi_file = self.etc / f"{name}-wsgi.py"
        wsgi_file.write_text(wsgi)
        binary = shutil.which("uwsgi") or shutil.which("uwsgi-core") or "/usr/bin/uwsgi-core"
        command = [binary, "--plugin", "python3", "--http-socket", f"127.0.0.1:{port}"]
        command += ["--wsgi-file", str(wsgi_file), "--master", "--die-on-term"]
        command += ["--processes", "2", "--threads", "2", "--lazy-apps", "--need-app"]
        command += ["--add-header", "Connection: close", "--buffer-size", "65535"]
        command += ["--hook-master-start", "unix_signal:15 gracefully_kill_them_all"]
        for key, value in env.items():
            command += ["--env", f"{key}={value}"]
        self.spawn(name, command)

    # -- steps --------------------------------------------------------------------------

    def start(self) -> dict[str, Any]:
        if self.pids_file.exists() and any(self.alive(e["name"]) for e in self._pids()):
            raise StackError(f"a stack already runs from {self.root}; stop it first")
        for folder in (self.etc, self.log, self.run):
            folder.mkdir(parents=True, exist_ok=True)
        self.pids_file.write_text("[]")
        names = ("keystone", "glance", "placement", "nova", "neutron", "amqp", "epmd", "dist")
        self.state = {
            "root": str(self.root),
            "region": REGION,
            "ports": {name: free_port() for name in names},
            "admin_password": secrets.token_hex(10),
            "service_password": secrets.token_hex(10),
            "users": {},
            "timings": {},
        }
        started = time.monotonic()
        steps = [
            ("mariadb", self.start_mariadb),
            ("rabbitmq", self.start_rabbitmq),
            ("neutron_stub", self.start_neutron_stub),
            ("keystone", self.start_keystone),
            ("seed_identity", self.seed_identity),
            ("glance_placement_nova_db", self.prepare_dbs),
            ("services", self.start_services),
            ("seed", self.seed),
        ]
        try:
            for name, step in steps:
                at = time.monotonic()
                step()
                self.state["timings"][name] = round(time.monotonic() - at, 2)
        except BaseException:
            self.stop()
            raise
        self.state["timings"]["total"] = round(time.monotonic() - started, 2)
        self.state["auth_url"] = f"http://127.0.0.1:{self.state['ports']['keystone']}"
        self.state["compute_url"] = self.url("nova")
        self.state_file.write_text(json.dumps(self.state, indent=2))
        return self.state

    def start_mariadb(self) -> None:
        data = self.root / "mysql"
        user = getpass.getuser()
        if not (data / "mysql").exists():
            done = subprocess.run(
                [
                    "mariadb-install-db",
                    "--no-defaults",
                    f"--datadir={data}",
                    f"--user={user}",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            (self.log / "mariadb-install.out").write_text(done.stdout + done.stderr)
            if done.returncode != 0:
                raise StackError(f"mariadb-install-db failed: {done.stderr[-1500:]}")
        sock = self.run / "mysqld.sock"
        mariadbd = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
        self.spawn(
            "mariadb",
            [
                mariadbd,
                "--no-defaults",
                f"--datadir={data}",
                f"--socket={sock}",
                f"--pid-file={self.run / 'mysqld.pid'}",
                "--skip-networking",
                f"--user={user}",
                f"--log-error={self.log / 'mariadb.log'}",
                "--innodb-buffer-pool-size=64M",
                "--innodb-log-file-size=16M",
                "--innodb-flush-log-at-trx-commit=0",
                "--max-connections=1000",
                "--performance-schema=off",
                "--character-set-server=utf8mb4",
                "--innodb-doublewrite=0",
                "--skip-log-bin",
            ],
        )
        self.wait_until("MariaDB's socket", sock.exists, 60, "mariadb")
        sql = "".join(f"CREATE DATABASE IF NOT EXISTS {name};" for name in DATABASES)
        self.wait_until("MariaDB to answer", lambda: self._sql(sql), 30, "mariadb")

    def _sql(self, sql: str) -> bool:
        sock = self.run / "mysqld.sock"
        done = subprocess.run(
            ["mariadb", "--no-defaults", "-S", str(sock), "-u", "root", "-e", sql],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.returncode == 0

    def start_rabbitmq(self) -> None:
        ports = self.state["ports"]
        base = self.root / "rabbitmq"
        base.mkdir(exist_ok=True)
        (base / "enabled_plugins").write_text("[].\n")
        (base / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{ports['amqp']}\n"
            "loopback_users.guest = true\n"
            "log.console = true\nlog.file = false\n"
        )
        env = {
            "HOME": str(base),
            "ERL_EPMD_PORT": str(ports["epmd"]),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODENAME": "wm@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(ports["amqp"]),
            "RABBITMQ_DIST_PORT": str(ports["dist"]),
            "RABBITMQ_CTL_DIST_PORT_MIN": str(ports["dist"] + 1),
            "RABBITMQ_CTL_DIST_PORT_MAX": str(ports["dist"] + 10),
            "RABBITMQ_BASE": str(base),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.log),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.run / "rabbitmq.pid"),
            "RABBITMQ_SERVER_ERL_ARGS": "+S 1:1 +A 4",
            # The node's distribution port binds 0.0.0.0 unless told: loopback, like the rest.
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }
        # Our own epmd in the foreground (erl's own would daemonise out of our process group).
        self.spawn("epmd", ["epmd", "-port", str(ports["epmd"]), "-address", "127.0.0.1"], env=env)
        self.wait_until("epmd", lambda: listening(ports["epmd"]), 15, "epmd")
        self.spawn("rabbitmq", ["/usr/lib/rabbitmq/bin/rabbitmq-server"], env=env)
        self.wait_until("RabbitMQ's AMQP port", lambda: listening(ports["amqp"]), 90, "rabbitmq")
        self.state["transport_url"] = f"rabbit://guest:guest@127.0.0.1:{ports['amqp']}/"

    def start_neutron_stub(self) -> None:
        port = self.state["ports"]["neutron"]
        stub = [sys.executable, str(HERE / "neutron_stub.py"), "--port", str(port)]
        self.spawn("neutron-stub", stub)
        self.wait_until("the Neutron stub", lambda: listening(port), 15, "neutron-stub")

    def keystone_conf(self) -> Path:
        conf = self.etc / "keystone.conf"
        keys = self.root / "keystone"
        conf.write_text(
            ini(
                {
                    "DEFAULT": {"use_stderr": "true"},
                    "database": {"connection": self.db("keystone")},
                    "token": {"provider": "fernet"},
                    "fernet_tokens": {"key_repository": keys / "fernet-keys"},
                    "credential": {"key_repository": keys / "credential-keys"},
                }
            )
        )
        return conf

    def start_keystone(self) -> None:
        conf = self.keystone_conf()
        port = self.state["ports"]["keystone"]
        user, group = getpass.getuser(), grp.getgrgid(os.getgid()).gr_name
        for sub in ("fernet-keys", "credential-keys"):
            (self.root / "keystone" / sub).mkdir(parents=True, exist_ok=True)
        target = "keystone.cmd.manage:main"
        self.manage(target, "keystone-manage", "db_sync", conf=conf)
        owner = ("--keystone-user", user, "--keystone-group", group)
        self.manage(target, "keystone-manage", "fernet_setup", *owner, conf=conf)
        self.manage(target, "keystone-manage", "credential_setup", *owner, conf=conf)
        url = f"http://127.0.0.1:{port}/v3/"
        self.manage(
            target,
            "keystone-manage",
            "bootstrap",
            f"--bootstrap-password={self.state['admin_password']}",
            "--bootstrap-admin-url",
            url,
            "--bootstrap-internal-url",
            url,
            "--bootstrap-public-url",
            url,
            "--bootstrap-region-id",
            REGION,
            conf=conf,
        )
        self.run_keystone()

    def run_keystone(self) -> None:
        """Start Keystone's uwsgi (again, after `stop_service("keystone")`) and wait for it."""
        conf = self.etc / "keystone.conf"
        port = self.state["ports"]["keystone"]
        wsgi = (
            "from keystone.server.wsgi import initialize_public_application\n"
            "application = initialize_public_application()\n"
        )
        self.uwsgi("keystone", wsgi, port, {"OS_KEYSTONE_CONFIG_FILES": str(conf)})
        url = f"http://127.0.0.1:{port}/v3/"
        self.wait_until("Keystone", lambda: http("GET", url)[0] == 200, 60, "keystone")

    def token(self, user: str, password: str, project: str) -> str:
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": user, "domain": {"id": "default"}, "password": password}
                    },
                },
                "scope": {"project": {"name": project, "domain": {"id": "default"}}},
            }
        }
        status, headers, reply = http("POST", self.url("keystone") + "/auth/tokens", body)
        if status != 201:
            raise StackError(f"token for {user}: HTTP {status}: {reply}")
        return headers["X-Subject-Token"]

    def admin_token(self) -> str:
        return self.token("admin", self.state["admin_password"], "admin")

    def seed_identity(self) -> None:
        ks, token = self.url("keystone"), self.admin_token()

        def create(kind: str, body: dict[str, Any]) -> str:
            reply = expect(http("POST", f"{ks}/{kind}s", {kind: body}, token=token), kind)
            return str(reply[kind]["id"])

        roles = expect(http("GET", f"{ks}/roles", token=token), "roles")["roles"]
        role = {r["name"]: r["id"] for r in roles}
        service_project = create("project", {"name": "service", "domain_id": "default"})

        def grant(project: str, user: str, role_name: str) -> None:
            path = f"{ks}/projects/{project}/users/{user}/roles/{role[role_name]}"
            expect(http("PUT", path, token=token), "role assignment")

        ports = self.state["ports"]
        catalog = {
            "nova": ("compute", f"http://127.0.0.1:{ports['nova']}/v2.1"),
            "glance": ("image", f"http://127.0.0.1:{ports['glance']}"),
            "placement": ("placement", f"http://127.0.0.1:{ports['placement']}"),
            "neutron": ("network", f"http://127.0.0.1:{ports['neutron']}"),
        }
        for name in (*SERVICES, "neutron"):
            user = create(
                "user",
                {
                    "name": name,
                    "password": self.state["service_password"],
                    "domain_id": "default",
                },
            )
            grant(service_project, user, "admin")
            kind, url = catalog[name]
            service = create("service", {"name": name, "type": kind})
            for interface in ("public", "internal", "admin"):
                create(
                    "endpoint",
                    {
                        "service_id": service,
                        "interface": interface,
                        "url": url,
                        "region_id": REGION,
                    },
                )
        for project_name, user_name in PROJECTS.items():
            project = create(
                "project",
                {"name": project_name, "domain_id": "default", "description": "wm test"},
            )
            password = secrets.token_hex(10)
            user = create("user", {"name": user_name, "password": password, "domain_id": "default"})
            grant(project, user, "member")
            self.state["users"][project_name] = {
                "project": project_name,
                "project_id": project,
                "user": user_name,
                "password": password,
            }

    def authtoken(self) -> dict[str, Any]:
        return {
            "www_authenticate_uri": f"http://127.0.0.1:{self.state['ports']['keystone']}",
            "auth_url": f"http://127.0.0.1:{self.state['ports']['keystone']}",
            "auth_type": "password",
            "project_domain_name": "Default",
            "user_domain_name": "Default",
            "project_name": "service",
            "region_name": REGION,
            "password": self.state["service_password"],
        }

    def prepare_dbs(self) -> None:
        ports = self.state["ports"]
        auth = self.authtoken()
        # Glance
        paste = self.etc / "glance-api-paste.ini"
        paste.write_text((HERE / "glance-api-paste.ini").read_text())
        images = self.root / "images"
        images.mkdir(exist_ok=True)
        glance = self.etc / "glance-api.conf"
        glance.write_text(
            ini(
                {
                    "DEFAULT": {
                        "bind_host": "127.0.0.1",
                        "bind_port": ports["glance"],
                        "workers": 0,
                        "enabled_backends": "file:file",
                    },
                    "database": {"connection": self.db("glance")},
                    "keystone_authtoken": {**auth, "username": "glance"},
                    "paste_deploy": {"flavor": "keystone", "config_file": paste},
                    "glance_store": {"default_backend": "file"},
                    "file": {"filesystem_store_datadir": images},
                    "os_glance_staging_store": {
                        "filesystem_store_datadir": self.root / "glance-staging"
                    },
                    "os_glance_tasks_store": {
                        "filesystem_store_datadir": self.root / "glance-tasks"
                    },
                    "oslo_concurrency": {"lock_path": self.run},
                }
            )
        )
        self.manage("glance.cmd.manage:main", "glance-manage", "db_sync", conf=glance)
        # Placement
        placement_dir = self.etc / "placement"
        placement_dir.mkdir(exist_ok=True)
        (placement_dir / "placement.conf").write_text(
            ini(
                {
                    "DEFAULT": {"use_stderr": "true"},
                    "placement_database": {"connection": self.db("placement")},
                    "api": {"auth_strategy": "keystone"},
                    "keystone_authtoken": {**auth, "username": "placement"},
                }
            )
        )
        self.manage(
            "placement.cmd.manage:main",
            "placement-manage",
            "db",
            "sync",
            conf=placement_dir / "placement.conf",
        )
        # Nova
        nova = self.nova_conf()
        target = "nova.cmd.manage:main"
        self.manage(target, "nova-manage", "api_db", "sync", conf=nova)
        self.manage(target, "nova-manage", "cell_v2", "map_cell0", conf=nova)
        self.manage(target, "nova-manage", "cell_v2", "create_cell", "--name", "cell1", conf=nova)
        self.manage(target, "nova-manage", "db", "sync", conf=nova)

    def nova_conf(self) -> Path:
        ports = self.state["ports"]
        auth = self.authtoken()
        service_auth = {k: v for k, v in auth.items() if k != "www_authenticate_uri"}
        paste = self.etc / "nova-api-paste.ini"
        paste.write_text((HERE / "nova-api-paste.ini").read_text())
        state = self.root / "nova"
        (state / "instances").mkdir(parents=True, exist_ok=True)
        conf = self.etc / "nova.conf"
        conf.write_text(
            ini(
                {
                    "DEFAULT": {
                        "transport_url": self.state["transport_url"],
                        "compute_driver": "fake.FakeDriver",
                        "host": "wm-fake-compute",
                        "my_ip": "127.0.0.1",
                        "enabled_apis": "osapi_compute",
                        "osapi_compute_listen": "127.0.0.1",
                        "osapi_compute_listen_port": ports["nova"],
                        "osapi_compute_workers": 1,
                        "state_path": state,
                        "instances_path": state / "instances",
                        "allow_resize_to_same_host": "true",
                        "heal_instance_info_cache_interval": -1,
                    },
                    "api_database": {"connection": self.db("nova_api")},
                    "database": {"connection": self.db("nova")},
                    "wsgi": {"api_paste_config": paste},
                    "api": {"auth_strategy": "keystone"},
                    "conductor": {"workers": 1},
                    "scheduler": {"workers": 1, "discover_hosts_in_cells_interval": -1},
                    "keystone_authtoken": {**auth, "username": "nova"},
                    "placement": {**service_auth, "username": "placement"},
                    "glance": {"endpoint_override": f"http://127.0.0.1:{ports['glance']}"},
                    "neutron": {
                        **service_auth,
                        "username": "neutron",
                        "endpoint_override": f"http://127.0.0.1:{ports['neutron']}",
                    },
                    "vnc": {"enabled": "false"},
                    "oslo_concurrency": {"lock_path": self.run},
                    "oslo_messaging_notifications": {"driver": "noop"},
                    "cinder": {"os_region_name": REGION},
                }
            )
        )
        return conf

    def start_services(self) -> None:
        ports = self.state["ports"]
        self.service("glance-api", "glance.cmd.api:main", self.etc / "glance-api.conf")
        wsgi = "from placement.wsgi import init_application\napplication = init_application()\n"
        env = {"OS_PLACEMENT_CONFIG_DIR": str(self.etc / "placement")}
        self.uwsgi("placement", wsgi, ports["placement"], env)
        nova = self.etc / "nova.conf"
        for name in ("conductor", "scheduler", "compute", "api"):
            self.service(f"nova-{name}", f"nova.cmd.{name}:main", nova)
        glance = f"http://127.0.0.1:{ports['glance']}/versions"
        self.wait_until("Glance", lambda: http("GET", glance)[0] in (200, 300), 60, "glance-api")
        placement = f"http://127.0.0.1:{ports['placement']}/"
        self.wait_until("Placement", lambda: http("GET", placement)[0] == 200, 60, "placement")
        nova_root = f"http://127.0.0.1:{ports['nova']}/"
        self.wait_until(
            "Nova's API", lambda: http("GET", nova_root)[0] in (200, 300), 90, "nova-api"
        )

    def seed(self) -> None:
        token = self.admin_token()
        nova = self.url("nova")

        placement = f"http://127.0.0.1:{self.state['ports']['placement']}/resource_providers"

        # The compute node's resource provider appears right after its compute node row;
        # os-hypervisors does not show it before discover_hosts maps the host.
        def provider() -> bool:
            reply = expect(http("GET", placement, token=token), "resource providers")
            return bool(reply["resource_providers"])

        self.wait_until("the fake compute node", provider, 90, "nova-compute")
        self.manage(
            "nova.cmd.manage:main",
            "nova-manage",
            "cell_v2",
            "discover_hosts",
            "--verbose",
            conf=self.etc / "nova.conf",
        )
        for name, (ident, vcpus, ram, disk) in FLAVORS.items():
            body = {"flavor": {"name": name, "id": ident, "vcpus": vcpus, "ram": ram, "disk": disk}}
            expect(http("POST", f"{nova}/flavors", body, token=token), f"flavor {name}")
        glance = f"http://127.0.0.1:{self.state['ports']['glance']}/v2/images"
        image = expect(
            http(
                "POST",
                glance,
                {
                    "name": IMAGE_NAME,
                    "disk_format": "raw",
                    "container_format": "bare",
                    "visibility": "public",
                },
                token=token,
            ),
            "image",
        )
        expect(
            http("PUT", f"{glance}/{image['id']}/file", raw=b"\0" * 65536, token=token),
            "image upload",
        )
        self.state["image_id"] = image["id"]
        self.state["flavors"] = {name: spec[0] for name, spec in FLAVORS.items()}

    # -- Heat, on demand ----------------------------------------------------------------

    def start_heat(self) -> dict[str, Any]:
        """Add Heat (api + engine, legacy engine, trusts through a `heat` trustee user) to
        the running stack and register it in Keystone's catalog; idempotent."""
        if "orchestration_url" in self.state and self.alive("heat-api"):
            return self.state
        started = time.monotonic()
        for name in ("heat-api", "heat-engine"):  # a half-started Heat from an earlier try
            self.stop_service(name)
        ports = self.state["ports"]
        if "heat" not in ports:  # else Keystone's catalog already names it: keep it
            ports["heat"] = free_port()
            self.state_file.write_text(json.dumps(self.state, indent=2))
        if not self._sql("CREATE DATABASE IF NOT EXISTS heat;"):
            raise StackError("could not create Heat's database in MariaDB")
        self.register_heat()
        conf = self.heat_conf()
        self.manage("heat.cmd.manage:main", "heat-manage", "db_sync", conf=conf)
        self.service("heat-engine", "heat.cmd.engine:main", conf)
        self.service("heat-api", "heat.cmd.api:main", conf)
        url = f"http://127.0.0.1:{ports['heat']}/v1"
        # Any answer will do (401: Keystone's middleware is in front).
        self.wait_until("Heat's API", lambda: http("GET", url)[0] < 500, 60, "heat-api")
        project = self.state["users"]["alpha"]["project_id"]
        stacks = f"{url}/{project}/stacks"

        # A stack list goes through the engine over RabbitMQ: it answers once the engine is up.
        def engine() -> bool:
            return http("GET", stacks, token=self.admin_token(), timeout=10)[0] == 200

        self.wait_until("heat-engine", engine, 90, "heat-engine")
        self.state["orchestration_url"] = url
        self.state["timings"]["heat"] = round(time.monotonic() - started, 2)
        self.state_file.write_text(json.dumps(self.state, indent=2))
        return self.state

    def register_heat(self) -> None:
        ks, token = self.url("keystone"), self.admin_token()

        def find(kind: str, name: str) -> str | None:
            found = expect(http("GET", f"{ks}/{kind}s?name={name}", token=token), kind)
            items = found[f"{kind}s"]
            return str(items[0]["id"]) if items else None

        def create(kind: str, body: dict[str, Any]) -> str:
            reply = expect(http("POST", f"{ks}/{kind}s", {kind: body}, token=token), kind)
            return str(reply[kind]["id"])

        if find("service", "heat"):
            return
        user = create(
            "user",
            {"name": "heat", "password": self.state["service_password"], "domain_id": "default"},
        )
        service_project, admin = find("project", "service"), find("role", "admin")
        path = f"{ks}/projects/{service_project}/users/{user}/roles/{admin}"
        expect(http("PUT", path, token=token), "role assignment")
        service = create("service", {"name": "heat", "type": "orchestration"})
        url = f"http://127.0.0.1:{self.state['ports']['heat']}/v1/%(tenant_id)s"
        for interface in ("public", "internal", "admin"):
            create(
                "endpoint",
                {"service_id": service, "interface": interface, "url": url, "region_id": REGION},
            )

    def heat_conf(self) -> Path:
        ports = self.state["ports"]
        auth = self.authtoken()
        keystone = auth["auth_url"]
        heat_etc = self.etc / "heat"
        for sub in ("environment.d", "templates", "plugins"):
            (heat_etc / sub).mkdir(parents=True, exist_ok=True)
        paste = heat_etc / "api-paste.ini"
        paste.write_text((HERE / "heat-api-paste.ini").read_text())
        conf = heat_etc / "heat.conf"
        conf.write_text(
            ini(
                {
                    "DEFAULT": {
                        "transport_url": self.state["transport_url"],
                        "host": "wm-heat",
                        "num_engine_workers": 1,
                        # The legacy engine finishes small stacks about twice as fast.
                        "convergence_engine": "false",
                        "region_name_for_services": REGION,
                        "environment_dir": heat_etc / "environment.d",
                        "template_dir": heat_etc / "templates",
                        "plugin_dirs": heat_etc / "plugins",
                        "stack_action_timeout": 600,
                        "periodic_interval": 60,
                    },
                    "heat_api": {
                        "bind_host": "127.0.0.1",
                        "bind_port": ports["heat"],
                        "workers": 1,
                    },
                    "database": {"connection": self.db("heat")},
                    # No token cache: a token revoked in Keystone is refused at once.
                    "keystone_authtoken": {**auth, "username": "heat", "token_cache_time": -1},
                    "trustee": {
                        "auth_type": "password",
                        "auth_url": keystone,
                        "username": "heat",
                        "password": self.state["service_password"],
                        "user_domain_name": "Default",
                    },
                    "clients_keystone": {"auth_uri": keystone},
                    "paste_deploy": {"api_paste_config": paste},
                    "oslo_concurrency": {"lock_path": self.run},
                    "oslo_messaging_notifications": {"driver": "noop"},
                }
            )
        )
        return conf

    # -- stop ---------------------------------------------------------------------------

    def stop(self, grace: float = 10.0) -> list[str]:
        """End every process group this stack started, newest first; return their names."""
        entries = list(reversed(self._pids()))
        for entry in entries:
            kill = entry["name"] in KILL_AT_ONCE
            _signal(entry["pid"], signal.SIGKILL if kill else signal.SIGTERM)
        deadline = time.monotonic() + grace
        for entry in entries:
            _end_group(entry["pid"], deadline)
        if self.pids_file.exists():
            self.pids_file.write_text("[]")
        return [str(e["name"]) for e in entries]

    def stop_service(self, name: str) -> None:
        """Stop one service (e.g. "keystone") and forget it."""
        for entry in self._pids():
            if entry["name"] == name:
                _signal(entry["pid"], signal.SIGTERM)
                _end_group(entry["pid"], time.monotonic() + 10)
        self.pids_file.write_text(json.dumps([e for e in self._pids() if e["name"] != name]))


def _end_group(pgid: int, deadline: float) -> None:
    """Wait for a signalled process group to exit; SIGKILL it at the deadline and wait
    until every member is gone (its sockets closed), so nothing half-dead answers."""
    while _group_alive(pgid) and time.monotonic() < deadline:
        _reap(pgid)
        time.sleep(0.1)
    if _group_alive(pgid):
        _signal(pgid, signal.SIGKILL)
        until = time.monotonic() + 10
        while _group_alive(pgid) and time.monotonic() < until:
            _reap(pgid)
            time.sleep(0.05)
    _reap(pgid)


def _signal(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Only zombies left (children of ours not reaped yet) do not count.
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def rss_mb(root: Path) -> dict[str, float]:
    """Resident memory (MB) of each process group the stack at `root` started."""
    pids = json.loads((root / "pids.json").read_text()) if (root / "pids.json").exists() else []
    groups = {int(e["pid"]): str(e["name"]) for e in pids}
    found: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            pgid, rss_pages = int(fields[2]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        if pgid in groups:
            name = groups[pgid]
            found[name] = found.get(name, 0.0) + rss_pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    return {name: round(mb, 1) for name, mb in sorted(found.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description="Test OpenStack on loopback (see module doc).")
    parser.add_argument("command", choices=("start", "heat", "stop", "rss"))
    parser.add_argument("--heat", action="store_true", help="start: add Heat as well.")
    parser.add_argument("--dir", type=Path, required=True, help="Scratch folder for everything.")
    args = parser.parse_args()
    stack = Stack(args.dir)
    if args.command in ("start", "heat"):
        try:
            if args.command == "heat":
                stack = Stack.attach(args.dir)
            else:
                stack.start()
            state = stack.start_heat() if args.command == "heat" or args.heat else stack.state
        except StackError as exc:
            print(f"openstack stack failed: {exc}", file=sys.stderr)
            sys.exit(1)
        print(json.dumps(state["timings"]), file=sys.stderr)
        print(stack.state_file)
    elif args.command == "stop":
        print("stopped: " + ", ".join(stack.stop()))
    else:
        sizes = rss_mb(args.dir)
        print(json.dumps({**sizes, "total": round(sum(sizes.values()), 1)}, indent=1))


if __name__ == "__main__":
    main()
