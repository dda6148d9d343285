"""Heat on the test OpenStack (stack.py), added on demand: its database, the `heat`
trustee user and catalog entries, its config and processes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from stack_backing import Backing
from stack_helpers import HERE, REGION, StackError, expect, free_port, http, ini
from stack_keystone import Identity


class Heat(Backing, Identity):
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
