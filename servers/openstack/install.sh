#!/bin/sh
# Install the Debian 12 (Zed) OpenStack libraries the test stack runs from.
# Idempotent: does nothing when every package is already installed.
# Only the library packages (python3-*) are installed, not the service
# packages: those start daemons and ask debconf questions. The services are
# started by servers/openstack/stack.py from small wrappers instead.
set -eu

PACKAGES="python3-keystone python3-nova python3-placement python3-glance python3-heat
python3-pymysql uwsgi-core uwsgi-plugin-python3 rabbitmq-server mariadb-server"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -z "$missing" ]; then
    echo "openstack: all packages installed"
    exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO="sudo"
fi
echo "openstack: installing$missing"
# Keep the package scripts from starting MariaDB/RabbitMQ system services.
policy=/usr/sbin/policy-rc.d
created_policy=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    created_policy=1
fi
trap '[ -n "$created_policy" ] && $SUDO rm -f "$policy"' EXIT
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
