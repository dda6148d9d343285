"""Keystone for the test OpenStack (stack.py): its config, bootstrap, tokens, and the
seed of identities (service users and catalog, the two projects with their users)."""

from __future__ import annotations

import getpass
import grp
import os
import secrets
from pathlib import Path
from typing import Any

from stack_helpers import REGION, StackError, expect, http, ini
from stack_processes import Processes

SERVICES = ("nova", "glance", "placement")
#: The seed: project -> (user, role).
PROJECTS = {"alpha": "alice", "beta": "bob"}


class Identity(Processes):
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
