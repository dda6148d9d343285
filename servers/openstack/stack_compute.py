"""Glance, Placement and Nova (fake virt driver) for the test OpenStack (stack.py): their
configs and databases, their processes, and the seed (flavors, an image)."""

from __future__ import annotations

from pathlib import Path

from stack_helpers import HERE, REGION, expect, http, ini
from stack_keystone import Identity

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


class Compute(Identity):
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
