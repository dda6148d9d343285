"""What the services stand on (stack.py): MariaDB, RabbitMQ and the Neutron stub."""

from __future__ import annotations

import getpass
import shutil
import subprocess
import sys

from stack_helpers import HERE, StackError, listening
from stack_processes import Processes

DATABASES = ("keystone", "glance", "placement", "nova_api", "nova", "nova_cell0")


class Backing(Processes):
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
