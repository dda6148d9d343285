"""A libvirtd (test driver) per test module, and a witness connection holding two domains."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libvirt
import pytest

from tests.libvirt.daemon import Libvirtd

DOMAIN = """<domain type='test'><name>{name}</name><memory>262144</memory><vcpu>1</vcpu>
<os><type>hvm</type></os></domain>"""


@pytest.fixture(scope="module")
def daemon() -> Iterator[Libvirtd]:
    # Not under pytest's tmp: its root-only folders would keep `nobody` out.
    with (
        tempfile.TemporaryDirectory(prefix="wm-libvirtd-") as folder,
        Libvirtd(Path(folder)) as running,
    ):
        yield running


@pytest.fixture
def hypervisor(daemon: Libvirtd) -> Iterator[Any]:
    """A witness connection with two domains of our own: web (running), db (shut off)."""
    conn = libvirt.open(daemon.uri)
    conn.defineXML(DOMAIN.format(name="web")).create()
    conn.defineXML(DOMAIN.format(name="db"))
    yield conn
    conn.close()  # the test driver forgets everything with its last connection
