"""A vSphere login: the API version both sides speak, the SOAP stub, the session's view.

The backend holds one `Session` per account under its own lock; this module opens and
closes one and tells an expired session from any other fault.
"""

from __future__ import annotations

import http.client
import logging
import ssl
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from pyVmomi import SoapStubAdapter, vim
from pyVmomi.VmomiSupport import GetServiceVersions, versionIdMap

from winged_monkey_vsphere import inventory
from winged_monkey_vsphere.errors import NotAVSphere
from winged_monkey_vsphere.settings import Target

log = logging.getLogger(__name__)


@dataclass
class Session:
    stub: Any
    content: Any
    view: Any  # the ContainerView the listing reads; lives as long as the session


def open_session(
    target: Target, context: ssl.SSLContext, user: str, password: str, stale: Session | None
) -> Session:
    """Log in and create the listing's ContainerView; `stale`'s sockets are dropped once
    the new stub exists. Nothing is left open when any step fails."""
    stub = SoapStubAdapter(
        host=target.host,
        port=target.port if target.secure else -target.port,
        path=target.path,
        version=negotiate(target, context),
        sslContext=context,
        httpConnectionTimeout=target.timeout,
    )
    if stale is not None:
        stale.stub.DropConnections()
    try:
        content = vim.ServiceInstance("ServiceInstance", stub).RetrieveContent()
        sessions, views = content.sessionManager, content.viewManager
        if sessions is None or views is None:  # an ESXi/vCenter always has both
            raise NotAVSphere(target.path)
        sessions.Login(user, password, None)
        view = views.CreateContainerView(content.rootFolder, inventory.VIEW_TYPES, True)
    except BaseException:
        stub.DropConnections()
        raise
    return Session(stub=stub, content=content, view=view)


def logout(session: Session) -> None:
    try:
        session.content.sessionManager.Logout()
    except Exception as exc:  # the session may be gone already; closing must not fail
        log.debug("vSphere logout: %s", type(exc).__name__)
    session.stub.DropConnections()


def session_gone(exc: Exception, session: Session) -> bool:
    """NotAuthenticated, or the session's own ContainerView has vanished with it."""
    if isinstance(exc, vim.fault.NotAuthenticated):
        return True
    missing = getattr(exc, "obj", None)
    return getattr(missing, "_moId", None) == getattr(session.view, "_moId", "")


def negotiate(target: Target, context: ssl.SSLContext) -> str:
    """The newest API version both pyvmomi and the server speak (vimServiceVersions.xml).

    pyVim's SmartStubAdapter does the same, but with no timeout on this first request
    (a server that accepts and never answers would hold the connect lock for ever).
    """
    connection: http.client.HTTPConnection
    if target.secure:
        connection = http.client.HTTPSConnection(
            target.host, target.port, timeout=target.timeout, context=context
        )
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=target.timeout)
    try:
        connection.request("GET", f"{target.path}/vimServiceVersions.xml")
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise NotAVSphere(target.path)
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 (expat refuses entity bombs)
    except ElementTree.ParseError:
        raise NotAVSphere(target.path) from None
    offered = {
        (element.text or "").strip()
        for namespace in root.iter("namespace")
        for element in (*namespace.findall("version"), *namespace.findall("priorVersions/version"))
    }
    for version in GetServiceVersions("vim25"):  # pyvmomi's, newest first
        if versionIdMap.get(version) in offered:
            return str(version)
    raise NotAVSphere(target.path)
