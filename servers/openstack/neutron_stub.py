"""A stand-in for Neutron: the one part of the test OpenStack that is NOT the real service.

No Neutron runs here. Nova asks the network API on boot, start, stop, reboot and
delete; this stub answers every list (`GET /v2.0/<resource>`) with an empty list
(`{"<resource>": []}`), a project's quota with "unlimited", every other read with
404 and every write with an empty success, so servers boot with no NICs (no
`networks=` in the request).
Nothing about networks, ports, security groups or floating IPs is tested through it.

    python3 neutron_stub.py --port 9696
"""

from __future__ import annotations

import argparse
import json
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_LIST = re.compile(r"^/v2\.0/([a-z0-9_-]+)(?:\.json)?/?$")
_ITEM = re.compile(r"^/v2\.0/([a-z0-9_-]+)/[^/]+(?:\.json)?/?$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "neutron-stub"

    def _send(self, status: int, body: object | None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _drain(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def do_GET(self) -> None:
        self._drain()
        path = self.path.split("?", 1)[0]
        if path in ("", "/"):
            href = f"http://{self.headers.get('Host', '127.0.0.1')}/v2.0/"
            version = {"id": "v2.0", "status": "CURRENT", "links": [{"href": href, "rel": "self"}]}
            self._send(200, {"versions": [version]})
            return
        if path.rstrip("/") == "/v2.0":
            self._send(200, {"resources": []})
            return
        listed = _LIST.match(path)
        if listed:
            self._send(200, {listed.group(1).replace("-", "_"): []})
            return
        item = _ITEM.match(path)
        if item and item.group(1) == "quotas":  # Nova checks the port quota on boot
            self._send(200, {"quota": {"port": -1, "network": -1, "subnet": -1}})
            return
        name = item.group(1) if item else "resource"
        self._send(404, {"NeutronError": {"type": "NotFound", "message": f"no such {name}"}})

    def do_POST(self) -> None:
        self._drain()
        self._send(201, {})

    def do_PUT(self) -> None:
        self._drain()
        self._send(200, {})

    def do_DELETE(self) -> None:
        self._drain()
        self._send(204, None)

    def log_message(self, format: str, *args: object) -> None:
        print(f"{self.address_string()} {format % args}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9696)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print(f"neutron-stub listening on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
