"""What Heat would refuse, said before wm sends it.

A stack's resume runs heat.engine.resource.Resource.resume on each of its resources, its
suspend Resource.suspend (either engine, legacy or convergence): each refuses a resource
in a state it does not take ("State ('SNAPSHOT', 'COMPLETE') invalid for resume"), and
one refusal fails the whole stack's action. A resource that owns a nested stack (a
ResourceGroup, a template resource) takes the action by its own state, then passes it to
its nested stack (one with none, never created, fails it: 'Cannot suspend group, stack
not created'), whose resources take it the same way, unless that stack is already
where it leads (Stack.suspend returns at once on a SUSPEND_COMPLETE stack, Stack.resume
on a RESUME_COMPLETE one). wm reads the resources first, nested ones too, and says so
instead, with what to do."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from winged_monkey.actions import Action
from winged_monkey.models import Instance, InstanceState
from winged_monkey_heat.models import StackResource
from winged_monkey_heat.states import KEEP_STATE, split

#: The only states Resource.resume takes.
RESUMABLE = frozenset({"SUSPEND_COMPLETE", "RESUME_FAILED", "RESUME_COMPLETE"})
#: Statuses of a suspended stack whose resources all left SUSPEND_COMPLETE (a check or a
#: snapshot runs on each): Heat resumes none of them, but suspends each again.
SUSPENDED_THEN = frozenset(f"{action}_COMPLETE" for action in KEEP_STATE)
RESUMES = frozenset({Action.START, Action.RESUME})
SUSPENDS = frozenset({Action.STOP, Action.SUSPEND})
#: Resources named in a refusal; the rest are counted.
NAMED = 3
#: The status at which Heat leaves a (nested) stack as it is, for a suspend and a resume.
ARRIVED = {"SUSPEND": "SUSPEND_COMPLETE", "RESUME": "RESUME_COMPLETE"}
#: Heat's resource types that own a nested stack (heat.engine.resources.stack_resource.
#: StackResource and its subclasses), besides a template resource (a type naming its
#: template file, or one the app's environment maps to a template: `nested_types`).
NESTING_TYPES = frozenset(
    {
        "OS::Heat::ResourceGroup",
        "OS::Heat::AutoScalingGroup",
        "OS::Heat::InstanceGroup",
        "OS::Heat::ResourceChain",
        "OS::Heat::SoftwareDeploymentGroup",
        "OS::Heat::SoftwareDeployments",
        "OS::Heat::StructuredDeploymentGroup",
        "OS::Heat::StructuredDeployments",
        "AWS::AutoScaling::AutoScalingGroup",
        "AWS::CloudFormation::Stack",
        "AWS::ElasticLoadBalancing::LoadBalancer",
    }
)
#: What a template resource's type ends with (heat.engine.environment.ResourceInfo).
TEMPLATE_TYPES = (".yaml", ".template")


def settled(stack_status: str) -> bool:
    """A stack whose last action completed and left each resource as Heat's suspend or
    resume takes it (CREATE_COMPLETE, SUSPEND_COMPLETE, ...): a failed action's resources,
    a check's or a snapshot's, a rollback's, may hold one Heat refuses."""
    action, result = split(stack_status)
    return result == "COMPLETE" and action in {"CREATE", "UPDATE", "SUSPEND", "RESUME"}


def suspendable(status: str) -> bool:
    """Resource.suspend: not a deleted (or deleting) one, and not one whose last action
    is unfinished or failed, unless that was a suspend."""
    action, result = split(status)
    return action != "DELETE" and (action == "SUSPEND" or result == "COMPLETE")


def suspended_then_checked(app: Instance) -> bool:
    """A suspended app checked or snapshotted since, with resources: each is CHECK_COMPLETE
    or SNAPSHOT_COMPLETE now, which Heat's resume refuses and its suspend takes."""
    return (
        app.state is InstanceState.SUSPENDED
        and app.raw_state in SUSPENDED_THEN
        and bool(app.members)
    )


def by_status(action: Action, app: Instance) -> str | None:
    """What the app's status alone says Heat would refuse (no network call)."""
    if action in RESUMES and suspended_then_checked(app):
        after = "check" if app.raw_state.startswith("CHECK") else "snapshot"
        return (
            f"Heat would refuse to resume {app.name}: since its {after}, its resources are "
            f"{app.raw_state}, and Heat resumes only suspended ones; suspend it again "
            f"(`wm stop {app.name}`), then start it"
        )
    return None


def heat_action(action: Action) -> str | None:
    """The Heat stack action `action` sends: SUSPEND, RESUME, or None (not walked here)."""
    return "RESUME" if action in RESUMES else "SUSPEND" if action in SUSPENDS else None


def takes(heat: str, status: str) -> bool:
    """Whether Resource.suspend (or .resume) takes a resource in `status`."""
    return status in RESUMABLE if heat == "RESUME" else suspendable(status)


def stackless(resource: StackResource) -> bool:
    """A resource of a type that owns a nested stack, with none (never created: its
    INIT_COMPLETE after a create that failed before it): StackResource.handle_suspend and
    handle_resume fail it ('Cannot suspend group, stack not created'). Heat links a
    nested stack on every resource read that has one (a top-level read too)."""
    return (nests(resource.type) or resource.nesting) and resource.nested_stack_id is None


def nests(kind: str) -> bool:
    """Whether a resource type owns a nested stack by its name alone."""
    return kind in NESTING_TYPES or kind.endswith(TEMPLATE_TYPES)


def unsure(resource: StackResource) -> bool:
    """A resource never created (INIT_COMPLETE, which Heat's suspend takes), no nested
    stack, of a type whose name does not say whether it owns one: the environment does."""
    return (
        resource.status == "INIT_COMPLETE"
        and resource.nested_stack_id is None
        and not resource.nesting
        and not nests(resource.type)
    )


def nested_types(environment: Any) -> frozenset[str]:
    """The types an app's environment maps to a template (`My::Thing: thing.yaml`), or to
    another type that owns a nested stack (`My::Group: OS::Heat::ResourceGroup`), as
    heat.engine.environment.ResourceInfo reads its resource_registry (a glob, or a
    mapping for one resource alone, is not read here)."""
    registry = environment.get("resource_registry") if isinstance(environment, dict) else None
    if not isinstance(registry, dict):
        return frozenset()
    aliases = {k: v for k, v in registry.items() if isinstance(v, str) and not k.endswith("*")}
    found: set[str] = set()
    for kind, value in aliases.items():
        seen = {kind}
        while value in aliases and value not in seen and not nests(value):
            seen.add(value)
            value = aliases[value]  # an alias of an alias
        if nests(value):
            found.add(kind)
    return frozenset(found)


def path(resource: StackResource) -> str:
    """A resource as its app's detail names it: `web`, `web/0` (group web's member 0)."""
    return f"{resource.parent}/{resource.name}" if resource.parent else resource.name


def walk(
    heat: str, resources: Sequence[StackResource], arrived: Collection[str] = ()
) -> tuple[list[StackResource], set[str]]:
    """As Heat's suspend or resume (`heat`) walks the app: the resources it refuses, and
    the nested stacks it entered holding one. A top-level resource is taken by its own
    state; one Heat takes that owns a nested stack passes the action on to the nested
    stack's resources, unless that stack is in `arrived` (its id: already
    SUSPEND_COMPLETE for a suspend, RESUME_COMPLETE for a resume, which Heat leaves as
    it is). Resources of nested stacks not read (a top-level read) are not walked."""
    below: dict[str | None, list[StackResource]] = defaultdict(list)
    for resource in resources:
        below[resource.parent].append(resource)
    refused: list[StackResource] = []
    entered: set[str] = set()

    def into(owner: str | None) -> bool:
        found = False
        for resource in below.get(owner, []):
            if not takes(heat, resource.status) or stackless(resource):
                refused.append(resource)
                found = True
            elif (
                resource.nested_stack_id
                and resource.nested_stack_id not in arrived
                and into(path(resource))
            ):
                entered.add(resource.nested_stack_id)
                found = True
        return found

    into(None)
    return refused, entered


def by_resources(
    action: Action,
    app: Instance,
    resources: Sequence[StackResource],
    arrived: Collection[str] = (),
) -> str | None:
    """What Heat would refuse given the app's resources as read (nested ones with their
    owner's path as `parent`); `arrived`: the nested stacks Heat would leave as they are
    (`walk`)."""
    heat = heat_action(action)
    statuses = [app.raw_state, *(r.status for r in resources)]
    if heat is None or any(split(status)[1] == "IN_PROGRESS" for status in statuses):
        return None  # Heat's own words say it best: an action in progress, to wait for
    refused, _ = walk(heat, resources, arrived)
    if not refused:
        return None
    if heat == "RESUME":
        said = (
            f"Heat would refuse to resume {app.name}: {_which(refused)} (Heat resumes a "
            "resource only when suspended, or when its last action was a resume)"
        )
        # A suspend takes them back where a resume does, if Heat takes it: not on a
        # stack already SUSPEND_COMPLETE (it returns at once), nor past a resource it
        # refuses. Heat's check takes any: each resource CHECK_COMPLETE, then a suspend.
        blocked, _ = walk("SUSPEND", resources)
        if not blocked and app.raw_state != ARRIVED["SUSPEND"]:
            return f"{said}; suspend it again (`wm stop {app.name}`), then start it"
        return (
            f"{said}; check it first (`wm check {app.name}`: Heat's check leaves each "
            "resource CHECK_COMPLETE, which its suspend takes), then stop it and start it"
        )
    why = "Heat suspends a resource only once its last action completed, or its suspend failed"
    if any(stackless(r) for r in refused):
        why += ", and one that owns a nested stack only once that stack is created"
    said = f"Heat would refuse to suspend {app.name}: {_which(refused)} ({why})"
    return f"{said}; {_instead(app, refused)}"


def _instead(app: Instance, refused: Sequence[StackResource]) -> str:
    """What Heat takes instead: a resume again, a delete again (Heat updates no stack
    whose delete it began), else an update."""
    if all(r.status == "RESUME_FAILED" for r in refused):
        return f"start it again first (`wm start {app.name}`)"
    if split(app.raw_state)[0] == "DELETE":
        return f"destroy it (`wm destroy {app.name}`)"
    return f"fix it with `wm app update {app.name}`, or destroy it"


def _which(resources: Sequence[StackResource]) -> str:
    """`resource vm is SNAPSHOT_COMPLETE`, `resources a (X), b (Y) and 2 more`."""
    if len(resources) == 1:
        return f"resource {path(resources[0])} is {_status(resources[0])}"
    named = ", ".join(f"{path(r)} ({_status(r)})" for r in resources[:NAMED])
    more = len(resources) - NAMED
    return f"resources {named}" + (f" and {more} more" if more > 0 else "")


def _status(resource: StackResource) -> str:
    """`CREATE_FAILED`; `INIT_COMPLETE, its nested stack not created` (`stackless`)."""
    if stackless(resource):
        return f"{resource.status}, its nested stack not created"
    return resource.status
