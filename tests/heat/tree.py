"""A tree of templates written for the Heat files tests: nested files in the same folder,
a subfolder and `../`, a ResourceGroup and a ResourceChain of nested files, `get_file` of
a text and a script, environments (a custom type mapped to a file, parameter_defaults,
two that override each other) and CloudFormation-format templates in YAML and JSON.
Every resource runs on the standalone Heat (no Nova, no Keystone: an AWS
WaitConditionHandle would need Keystone's EC2 credentials)."""

from __future__ import annotations

import json
from pathlib import Path

APP = """
heat_template_version: 2018-08-31
description: a nested app
parameters:
  greeting:
    type: string
  size:
    type: number
    default: 1
resources:
  web:
    type: web.yaml
    properties:
      greeting: {get_param: greeting}
  db:
    type: lib/db.yaml
  members:
    type: OS::Heat::ResourceGroup
    properties:
      count: {get_param: size}
      resource_def:
        type: member.yaml
  thing:
    type: My::Thing
  motd:
    type: OS::Heat::TestResource
    properties:
      value: {get_file: files/motd.txt}
outputs:
  greeting:
    value: {get_attr: [web, said]}
  motd:
    value: {get_attr: [motd, output]}
  db_script:
    value: {get_attr: [db, script]}
  size:
    value: {get_param: size}
  thing:
    value: {get_attr: [thing, kind]}
"""

WEB = """
heat_template_version: 2018-08-31
parameters:
  greeting:
    type: string
resources:
  said:
    type: OS::Heat::TestResource
    properties:
      value: {get_param: greeting}
outputs:
  said:
    value: {get_attr: [said, output]}
"""

DB = """
heat_template_version: 2018-08-31
resources:
  tag:
    type: ../../common/tag.yaml
  script:
    type: OS::Heat::TestResource
    properties:
      value: {get_file: ../scripts/setup.sh}
outputs:
  script:
    value: {get_attr: [script, output]}
"""

TAG = """
heat_template_version: 2018-08-31
resources:
  none:
    type: OS::Heat::None
"""

MEMBER = """
heat_template_version: 2018-08-31
resources:
  secret:
    type: OS::Heat::RandomString
    properties:
      length: 8
"""

CHAIN = """
heat_template_version: 2018-08-31
description: a ResourceChain of nested files (an addition to heatclient's gathering)
resources:
  chain:
    type: OS::Heat::ResourceChain
    properties:
      resources: [member.yaml, lib/member2.yaml]
"""

THING = """
heat_template_version: 2018-08-31
resources:
  none:
    type: OS::Heat::None
outputs:
  kind:
    value: a thing from the environment
"""

MOTD = "Welcome [to] the nested app\n"
SCRIPT = "#!/bin/sh\necho 'set up'\n"

ENV = """
resource_registry:
  My::Thing: lib/thing.yaml
parameter_defaults:
  greeting: hello from the environment
parameters:
  size: 2
"""

OVERRIDE_ENV = """
parameters:
  size: 3
"""

#: Only gathered, never run: every section heatclient passes through, a per-resource
#: registry with its own base_url and hooks, and a binary file (sent base64-encoded).
EXTRA_ENV = """
parameter_merge_strategies:
  greeting: overwrite
event_sinks:
  - type: zaqar-queue
    target: app-events
encrypted_param_names: []
resource_registry:
  base_url: LIB_URL
  My::Other: thing.yaml
  OS::Heat::Noop: OS::Heat::None
  resources:
    web:
      hooks: pre-create
      My::Thing: ../web.yaml
"""

BINARY = """
heat_template_version: 2018-08-31
resources:
  logo:
    type: OS::Heat::TestResource
    properties:
      value: {get_file: files/logo.bin}
"""

CFN_YAML = """
AWSTemplateFormatVersion: '2010-09-09'
Description: a CloudFormation-format template in YAML
Parameters:
  Length:
    Type: Number
    Default: 12
    Description: the secret's length
Resources:
  Marker:
    Type: OS::Heat::None
  Secret:
    Type: OS::Heat::RandomString
    Properties:
      length: {Ref: Length}
Outputs:
  Length:
    Value: {Ref: Length}
"""

CFN_JSON = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Description": "a CloudFormation-format template in JSON",
    "Parameters": {"Tag": {"Type": "String", "AllowedPattern": "[A-Z]+", "Default": "ABC"}},
    "Resources": {
        "Said": {"Type": "OS::Heat::TestResource", "Properties": {"value": {"Ref": "Tag"}}}
    },
    "Outputs": {"Tag": {"Value": {"Ref": "Tag"}}},
}


def write_tree(root: Path) -> Path:
    """The tree under root/app; returns the folder holding app.yaml."""
    app = root / "app"
    files = {
        "app/app.yaml": APP,
        "app/app_env.yaml": ENV,
        "app/override_env.yaml": OVERRIDE_ENV,
        "app/web.yaml": WEB,
        "app/chain.yaml": CHAIN,
        "app/member.yaml": MEMBER,
        "app/lib/member2.yaml": MEMBER,
        "app/lib/db.yaml": DB,
        "app/lib/thing.yaml": THING,
        "app/files/motd.txt": MOTD,
        "common/tag.yaml": TAG,
        "app/scripts/setup.sh": SCRIPT,
        "app/cfn_yaml.yaml": CFN_YAML,
        "app/cfn_json.json": json.dumps(CFN_JSON, indent=2),
    }
    # A registry's base_url is a URL (heatclient joins a relative one to nothing).
    files["app/extra_env.yaml"] = EXTRA_ENV.replace("LIB_URL", (app / "lib").as_uri() + "/")
    files["app/binary.yaml"] = BINARY
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (app / "files" / "logo.bin").write_bytes(bytes(range(256)) * 2)
    return app
