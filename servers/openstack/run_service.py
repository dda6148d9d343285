"""Run one OpenStack service's entry point from Debian's libraries.

The console scripts (nova-api, keystone-manage, ...) live in Debian's service
packages, which also start system services and ask debconf questions; only the
python3-* library packages are installed. So every service starts as

    /usr/bin/python3 run_service.py nova.cmd.api:main nova-api --config-file ...

(module:function, the program name oslo.config sees, then the service's arguments).
"""

import importlib
import sys


def main() -> None:
    target, prog, *args = sys.argv[1:]
    sys.argv = [prog, *args]
    module, function = target.split(":")
    sys.exit(getattr(importlib.import_module(module), function)())


if __name__ == "__main__":
    main()
