"""Templates shaped like openstack/heat-templates, for holding wm's gathering of files to
python-heatclient's: a software-config example whose boot-config environment maps a type
to a template in another folder reaching `../../elements/...`, groups of nested files
(ResourceGroup's `resource_def`, AutoScalingGroup's `resource`), one file reached by
several paths, `file:` URLs, a folder reached through a symlink, environments with
registries relative to their own folder (global and per resource), merged in order,
`get_file` everywhere (odd names, binary, Latin-1, empty, a template read as a file),
CloudFormation format, every `heat_template_version`, YAML's `!!binary` and `!!set`, tabs
after colons, an environment in UTF-16, and files that are missing or not UTF-8."""

from __future__ import annotations

import json
from pathlib import Path

SC = "hot/software-config"

BOOT = """heat_template_version: 2014-10-16
resources:
  install_config_agent_rdo:
    type: "OS::Heat::SoftwareConfig"
    properties:
      group: ungrouped
      config: {get_file: fragments/install_config_agent_rdo.sh}
  configure_config_agent:
    type: "OS::Heat::SoftwareConfig"
    properties:
      group: ungrouped
      config:
        str_replace:
          params:
            $heat_config_script: {get_file: ../../elements/heat-config/configure.d/55-heat-config}
            $hook_script: {get_file: ../../elements/heat-config-script/install.d/hook-script.py}
            $orc_oac: {get_file: fragments/20-os-apply-config}
          template: {get_file: fragments/configure_config_agent.sh}
  install_config_agent:
    type: "OS::Heat::MultipartMime"
    properties:
      parts:
      - config: {get_resource: install_config_agent_rdo}
      - config: {get_resource: configure_config_agent}
outputs:
  config:
    value: {get_resource: install_config_agent}
"""

BOOT_ENV = """# Installs software-config agent on boot
parameters:
  image: CentOS-7-x86_64-GenericCloud
resource_registry:
  "Heat::InstallConfigAgent": templates/install_config_agent_centos7_rdo.yaml
"""

EXAMPLE = """heat_template_version: queens
parameters:
  image: {type: string}
resources:
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      config: {get_file: config-scripts/example-script.sh}
  boot_config:
    type: Heat::InstallConfigAgent
  server:
    type: OS::Nova::Server
    properties:
      image: {get_param: image}
      user_data_format: SOFTWARE_CONFIG
      user_data: {get_attr: [boot_config, config]}
"""

MEMBER = """heat_template_version: 2016-10-14
parameters:
  index: {type: number, default: 0}
resources:
  cfg:
    type: OS::Heat::SoftwareConfig
    properties:
      config: {get_file: scripts/member.sh}
  port:
    type: lib/port.yaml
"""

PORT = """heat_template_version: pike
resources:
  data:
    type: OS::Heat::Value
    properties:
      value: {get_file: ../scripts/member.sh}
"""

GROUPS = """heat_template_version: 2018-03-02
resources:
  rg:
    type: OS::Heat::ResourceGroup
    properties:
      count: 2
      resource_def:
        type: member.yaml
        properties: {index: "%index%"}
  asg:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 1
      max_size: 3
      resource: {type: member.yaml}
  stack:
    type: OS::Heat::Stack
    properties:
      template: {get_file: lib/port.yaml}
"""

#: The same files by several paths, and by file: URLs (ROOT: the corpus's own URL).
PATHS = """heat_template_version: rocky
resources:
  a: {type: lib/port.yaml}
  b: {type: ./lib/port.yaml}
  c: {type: sub/../lib/port.yaml}
  d: {type: "ROOT/app/member.yaml"}
  e:
    type: OS::Heat::Value
    properties:
      value:
        list_join:
        - ""
        - - {get_file: scripts/member.sh}
          - {get_file: lib/../scripts/member.sh}
          - {get_file: "ROOT/shared/banner.txt"}
"""

CFN_JSON = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"Tag": {"Type": "String", "Default": "ABC"}},
    "Resources": {  # heatclient gathers lowercase `type`/`get_file` only
        "Nested": {"Type": "member.yaml"},
        "Said": {"Type": "OS::Heat::Value", "Properties": {"value": {"get_file": "empty.txt"}}},
    },
}

REG_ENV = """resource_registry:
  My::Member: ../member.yaml
  My::Port: ../lib/port.yaml
  OS::Nova::Server: OS::Heat::None
  resources:
    rg:
      My::Member: ../lib/port.yaml
      hooks: [pre-create, pre-update]
    web:
      restricted_actions: replace
parameter_defaults:
  svc: {a: 1, nested: {x: 1, y: [1, 2]}}
  plain: one
parameter_merge_strategies:
  svc: deep_merge
  default: overwrite
"""

REG_ENV2 = """resource_registry:
  My::Port: ../member.yaml
  resources:
    rg:
      My::Extra: extra.yaml
parameter_defaults:
  svc: {b: 2, nested: {y: [3]}}
  plain: two
parameters:
  index: 4
parameter_merge_strategies:
  plain: merge
encrypted_param_names: [secret]
event_sinks:
  - {type: zaqar-queue, target: q}
"""

USES_REG = """heat_template_version: 2018-08-31
resources:
  m: {type: My::Member}
  p: {type: My::Port}
  rg:
    type: OS::Heat::ResourceGroup
    properties:
      resource_def: {type: My::Member}
"""

ODD = """heat_template_version: 2018-08-31
parameters:
  p:
    type: string
    default: {get_file: scripts/member.sh}
conditions:
  c: {equals: [{get_file: "banner with space.txt"}, x]}
resources:
  v:
    type: OS::Heat::Value
    properties:
      value:
      - {get_file: ünïcode.txt}
      - {get_file: [not, a, string]}
      - {get_file: empty.txt}
      - {get_file: latin1.txt}
      - {get_file: logo.bin}
      - {get_file: as_text.yaml}
  w: {type: lib/thing.yml}
  x: {type: lib/thing.template}
outputs:
  o: {value: {get_file: scripts/member.sh}}
"""

VERSIONS = tuple(enumerate((
    "2013-05-23", "2014-10-16", "2015-04-30", "2015-10-15", "2016-04-08", "2016-10-14",
    "2017-02-24", "2017-09-01", "2018-03-02", "2018-08-31", "2021-04-16", "newton",
    "ocata", "pike", "queens", "rocky", "wallaby", "'2018-08-31'", "2018-08-31T00:00:00",
)))  # fmt: skip

MISSING = {
    "missing/get_file.yaml": "  v: {type: OS::Heat::Value, properties: {value: {get_file: no.sh}}}",
    "missing/type.yaml": "  v: {type: lib/no.yaml}",
    "missing/deep.yaml": "  v: {type: ../lib/reaches_missing.yaml}",
    "lib/reaches_missing.yaml": "  v: {type: OS::Heat::None, properties: {x: {get_file: no.txt}}}",
}

TINY = "heat_template_version: 2018-08-31\n"

#: YAML tags JSON has no type for, as heatclient's request body (oslo jsonutils) has them.
TAGS = """heat_template_version: 2018-08-31
parameters:
  key:
    type: string
    default: !!binary c3NoLWVkMjU1MTkgQUFBQQ==
  zones:
    type: json
    default: !!set {nova}
"""

TAGS_ENV = "parameter_defaults:\n  key: !!binary aG9zdC1rZXk=\n  zones: !!set {az1}\n"

#: Values lined up with tabs: heatclient's libyaml takes a tab after a colon (PyYAML's own
#: parser does not), in a template, a nested one and an environment.
TABS = """heat_template_version:\t2018-08-31
description:\taligned with tabs
resources:
  n:
    type:\tlib/tabs.yaml
  m:
    type:\tMy::Member
"""

TABS_NESTED = "heat_template_version:\t2018-08-31\nresources:\n  v:\n    type:\tOS::Heat::None\n"
TABS_ENV = "parameters:\n  index:\t4\nresource_registry:\n  My::Member:\t../member.yaml\n"

#: Saved by Windows PowerShell 5's `>` (UTF-16 with a byte order mark): heatclient reads
#: an environment from its bytes, which YAML decodes by that mark.
UTF16_ENV = """parameter_defaults:
  greeting: café ✓
resource_registry:
  My::Member: ../member.yaml
"""

#: Latin-1 text where UTF-8 is expected (line 2 or 3): heatclient refuses these too.
LATIN1 = "heat_template_version: 2018-08-31\ndescription: café\n"
LATIN1_ENV = "parameter_defaults:\n  size: 2\n  greeting: café\n"

#: name -> (template, environments), paths under the corpus root; heatclient and wm
#: gather each the same way.
CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "software-config with a boot-config environment": (
        f"{SC}/example-templates/example-script-template.yaml",
        (f"{SC}/boot-config/centos7_rdo_env.yaml",),
    ),
    "ResourceGroup, AutoScalingGroup, OS::Heat::Stack": ("app/groups.yaml", ()),
    "one file by several paths and file: URLs": ("app/paths.yaml", ()),
    "a path with ..": ("app/lib/../groups.yaml", ()),
    "a folder reached through a symlink": ("linked/uses_reg.yaml", ("linked/env/reg_env.yaml",)),
    "a template that is a symlink": ("app/link_to_groups.yaml", ()),
    "CloudFormation JSON": ("app/cfn.json", ()),
    "registry relative to its environment": ("app/uses_reg.yaml", ("app/env/reg_env.yaml",)),
    "two environments": ("app/uses_reg.yaml", ("app/env/reg_env.yaml", "app/env/reg_env2.yaml")),
    "two environments reversed": (
        "app/uses_reg.yaml",
        ("app/env/reg_env2.yaml", "app/env/reg_env.yaml"),
    ),
    "a null in a later environment": (
        "app/uses_reg.yaml",
        ("app/env/reg_env.yaml", "app/env/null_env.yaml"),
    ),
    "an empty and a JSON environment": (
        "app/uses_reg.yaml",
        ("app/env/empty_env.yaml", "app/env/json_env.json"),
    ),
    "one environment twice": ("app/uses_reg.yaml", ("app/env/reg_env.yaml",) * 2),
    "get_file everywhere, odd names, binary": ("app/odd.yaml", ()),
    "a BOM and CRLF": ("app/crlf.yaml", ()),
    "a nested file that is not YAML": ("app/bad_nested.yaml", ()),
    "!!binary and !!set": ("app/tags.yaml", ("app/env/tags_env.yaml",)),
    "an environment in UTF-16": ("app/uses_reg.yaml", ("app/env/utf16_env.yaml",)),
    "tabs after colons": ("app/tabs.yaml", ("app/env/tabs_env.yaml",)),
    **{f"heat_template_version: {v}": (f"app/versions/{i}.yaml", ()) for i, v in VERSIONS},
}

#: name -> (template, environments, the file the error names, the file that named it).
FAILING: dict[str, tuple[str, tuple[str, ...], str, str]] = {
    "a missing get_file": ("app/missing/get_file.yaml", (), "app/missing/no.sh", "get_file.yaml"),
    "a missing nested template": (
        "app/missing/type.yaml",
        (),
        "app/missing/lib/no.yaml",
        "type.yaml",
    ),
    "a missing file two deep": (
        "app/missing/deep.yaml",
        (),
        "app/lib/no.txt",
        "../lib/reaches_missing.yaml",
    ),
    "a missing registry file": (
        "app/groups.yaml",
        ("app/env/bad_env.yaml",),
        "app/env/no.yaml",
        "bad_env.yaml",
    ),
    "a missing environment": (
        "app/groups.yaml",
        ("app/env/no_env.yaml",),
        "app/env/no_env.yaml",
        "",
    ),
    "a missing template": ("app/no.yaml", (), "app/no.yaml", ""),
}

#: name -> (template, environments, the file that is not UTF-8, its first line that is not).
NOT_UTF8: dict[str, tuple[str, tuple[str, ...], str, int]] = {
    "a template in Latin-1": ("app/latin1.yaml", (), "app/latin1.yaml", 2),
    "a template in UTF-16": ("app/utf16.yaml", (), "app/utf16.yaml", 1),
    "an environment in Latin-1": (
        "app/groups.yaml",
        ("app/env/latin1_env.yaml",),
        "app/env/latin1_env.yaml",
        3,
    ),
}


def write_corpus(root: Path) -> Path:
    a = root / "app"
    files = {
        f"{SC}/boot-config/centos7_rdo_env.yaml": BOOT_ENV,
        f"{SC}/boot-config/templates/install_config_agent_centos7_rdo.yaml": BOOT,
        f"{SC}/boot-config/templates/fragments/install_config_agent_rdo.sh": "yum install\n",
        f"{SC}/boot-config/templates/fragments/20-os-apply-config": "os-apply-config\n",
        f"{SC}/boot-config/templates/fragments/configure_config_agent.sh": "$orc_oac\n",
        f"{SC}/elements/heat-config/configure.d/55-heat-config": "#!/usr/bin/env python\n",
        f"{SC}/elements/heat-config-script/install.d/hook-script.py": "import json\n",
        f"{SC}/example-templates/example-script-template.yaml": EXAMPLE,
        f"{SC}/example-templates/config-scripts/example-script.sh": "echo $foo > $x.result\n",
        "shared/banner.txt": "banner\n",
        "app/groups.yaml": GROUPS,
        "app/member.yaml": MEMBER,
        "app/lib/port.yaml": PORT,
        "app/scripts/member.sh": "#!/bin/sh\necho member\n",
        "app/paths.yaml": PATHS.replace("ROOT", root.as_uri()),
        "app/cfn.json": json.dumps(CFN_JSON, indent=2),
        "app/uses_reg.yaml": USES_REG,
        "app/env/reg_env.yaml": REG_ENV,
        "app/env/reg_env2.yaml": REG_ENV2,
        "app/env/extra.yaml": TINY + "resources: {s: {type: OS::Heat::None}}\n",
        "app/env/null_env.yaml": "parameter_defaults:\n  svc: null\n",
        "app/env/empty_env.yaml": "# nothing yet\n",
        "app/env/json_env.json": json.dumps({"parameters": {"index": 9}}),
        "app/env/bad_env.yaml": "resource_registry:\n  My::Thing: no.yaml\n",
        "app/odd.yaml": ODD,
        "app/banner with space.txt": "space\n",
        "app/ünïcode.txt": "ünïcode ✓\n",
        "app/empty.txt": "",
        "app/as_text.yaml": TINY + "description: read by get_file\n",
        "app/lib/thing.yml": TINY,
        "app/lib/thing.template": TINY,
        "app/crlf.yaml": "\ufeff" + TINY + "resources:\r\n  v: {type: member.yaml}\r\n",
        "app/bad_nested.yaml": TINY + "resources:\n  v: {type: lib/bad.yaml}\n",
        "app/lib/bad.yaml": TINY + "resources:\n  v: [unclosed\n",
        "app/tags.yaml": TAGS,
        "app/env/tags_env.yaml": TAGS_ENV,
        "app/tabs.yaml": TABS,
        "app/lib/tabs.yaml": TABS_NESTED,
        "app/env/tabs_env.yaml": TABS_ENV,
    }
    files.update({f"app/{k}": TINY + "resources:\n" + v + "\n" for k, v in MISSING.items()})
    for i, version in VERSIONS:
        files[f"app/versions/{i}.yaml"] = f"heat_template_version: {version}\n" + (
            "resources:\n  n: {type: ../member.yaml}\n"
        )
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (a / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    (a / "logo.bin").write_bytes(bytes(range(256)) * 3)
    (a / "env" / "utf16_env.yaml").write_bytes(UTF16_ENV.encode("utf-16"))
    (a / "utf16.yaml").write_bytes(TINY.encode("utf-16"))
    (a / "latin1.yaml").write_bytes(LATIN1.encode("latin-1"))
    (a / "env" / "latin1_env.yaml").write_bytes(LATIN1_ENV.encode("latin-1"))
    # ~/templates -> /srv/templates; a template kept elsewhere and linked into a folder.
    (root / "linked").symlink_to(a)
    (root / "elsewhere").mkdir()
    (a / "link_to_groups.yaml").symlink_to(Path("..") / "elsewhere" / "groups.yaml")
    (root / "elsewhere" / "groups.yaml").write_text(GROUPS)
    for sub in ("member.yaml", "lib/port.yaml", "scripts/member.sh"):
        (root / "elsewhere" / sub).parent.mkdir(parents=True, exist_ok=True)
        text = (a / sub).read_text().replace("echo member", "echo elsewhere")
        (root / "elsewhere" / sub).write_text(text)
    return root
