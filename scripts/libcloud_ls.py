"""The benchmarks' baseline: a bare libcloud `list_nodes` of some EC2 accounts on one endpoint.

    python scripts/libcloud_ls.py HOST PORT '[{"key": ..., "secret_env": ..., "token_env": ...,
                                               "region": ...}, ...]'

Prints the number of nodes listed over all the accounts. Only the standard library and
libcloud's EC2 driver are imported, and the only change to the driver is the one a moto
endpoint needs for a listing to find anything (the same rewrite as
winged_monkey_libcloud.ec2compat's quirk 2): moto writes EC2's XML namespace without the
trailing slash AWS sends, so the bare driver's namespaced lookups find no node at all.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

from libcloud.compute.drivers.ec2 import EC2Connection, EC2NodeDriver, EC2Response

_BARE_NAMESPACE = re.compile(r'xmlns="(http://ec2\.amazonaws\.com/doc/[0-9-]+)"')


class MotoResponse(EC2Response):
    def parse_body(self) -> Any:
        body = str(self.body or "")
        self.body = _BARE_NAMESPACE.sub(lambda m: f'xmlns="{m.group(1)}/"', body, count=1)
        return super().parse_body()  # type: ignore[no-untyped-call]


class MotoConnection(EC2Connection):
    responseCls = MotoResponse


class MotoEC2NodeDriver(EC2NodeDriver):
    connectionCls = MotoConnection


def main() -> None:
    host, port, plan = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    total = 0
    for account in plan:
        token_env = account.get("token_env")
        driver = MotoEC2NodeDriver(  # type: ignore[no-untyped-call]
            account["key"],
            os.environ[account["secret_env"]],
            token=os.environ[token_env] if token_env else None,
            secure=False,
            host=host,
            port=port,
            region=account["region"],
            signature_version="4",  # SigV2 in us-east-1 is routed to S3 by moto
        )
        total += len(driver.list_nodes())
    print(total)


if __name__ == "__main__":
    main()
