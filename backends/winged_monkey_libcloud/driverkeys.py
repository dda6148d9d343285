"""The keyword arguments a libcloud driver really reads, found in libcloud's own code, so
that a misspelt key of an account's `driver` table is refused instead of dropped.

libcloud's driver constructors take `**kwargs` and drop what no code of theirs reads:
`driver = { ex_force_auth_urll = ... }` would leave OpenStack's Keystone unset in silence.
A class takes the named parameters of the `__new__` and `__init__` it runs and, where one
of them has `**kwargs`, the names its body reads from them (`kwargs.get("ex_...")`,
`kwargs.pop(...)`, `kwargs[...]`, `"..." in kwargs`), following `**kwargs` into the next
constructor it is passed to (`super().__init__`, `OpenStackDriverMixin.__init__(self,
**kwargs)`, a method of its own). Where `**kwargs` goes anywhere else (stored, iterated,
handed to another callable), which names count cannot be known from the code: the class
is then `opaque` and every name is taken, since a false refusal would be worse than the
silence it replaces.

Read lazily, once per class: only an account with a `driver` table pays for it.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
from dataclasses import dataclass
from typing import Any

#: What a method may do with its `**kwargs` besides reading a name: write one (the name
#: then reaches the next constructor, which says whether it is read).
_WRITES = frozenset({"update"})
#: The dict methods that read one name, given as their first argument.
_READS = frozenset({"get", "pop", "setdefault"})

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


@dataclass(frozen=True)
class Takes:
    """The names a driver class reads from its constructor's keyword arguments."""

    names: frozenset[str]
    #: Why the names cannot be known (every name is then taken), or None.
    opaque: str | None = None

    def unknown(self, keys: list[str]) -> list[str]:
        """The keys of `keys` the class would drop."""
        if self.opaque is not None:
            return []
        return [key for key in keys if key not in self.names]


def takes(cls: type) -> Takes:
    """What `cls(...)` reads of its keyword arguments (libcloud's source, read once).

    A factory (a class whose own `__new__` picks one of its subclasses by `api_version`:
    vCloud, Linode, OpenNebula, ...) takes what any class of its module it may pick takes.
    """
    known = _TAKES.get(cls)
    if known is None:
        known = _TAKES[cls] = _factory(cls)
    return known


#: What each class takes, once read.
_TAKES: dict[type, Takes] = {}


def _factory(cls: type) -> Takes:
    found = _own(cls)
    if "__new__" not in vars(cls) or found.opaque is not None:
        return found
    names = set(found.names)
    for sub in _subclasses(cls):
        picked = _own(sub)
        if picked.opaque is not None:
            return picked
        names |= picked.names
    return Takes(frozenset(names))


def _subclasses(cls: type) -> list[type]:
    """Every subclass of `cls` defined in its module, at any depth."""
    found: list[type] = []
    sub: type
    for sub in cls.__subclasses__():
        if sub.__module__ == cls.__module__:
            found += [sub, *_subclasses(sub)]
    return found


def _own(cls: type) -> Takes:
    if type(cls).__call__ is not type.__call__:
        return Takes(frozenset(), f"its metaclass {type(cls).__name__} builds it")
    walk = _Walk(cls)
    for method in ("__new__", "__init__"):
        owner = _defining(cls.__mro__, method)
        if owner is not None:
            walk.follow(owner, method)
        if walk.opaque is not None:
            break
    return Takes(frozenset(walk.names), walk.opaque)


def _defining(mro: tuple[type, ...], method: str, after: type | None = None) -> type | None:
    """The first class of `mro` (after `after`, if given) that defines `method`, unless
    that is `object`'s (which reads nothing)."""
    start = 0 if after is None or after not in mro else mro.index(after) + 1
    for klass in mro[start:]:
        if method in vars(klass):
            return None if klass is object else klass
    return None


class _Walk:
    """Follows one class's constructors, collecting the names they read."""

    def __init__(self, cls: type) -> None:
        self.mro = cls.__mro__
        self.names: set[str] = set()
        self.opaque: str | None = None
        self._seen: set[tuple[type, str]] = set()

    def follow(self, owner: type, method: str) -> None:
        if owner is object or self.opaque is not None or (owner, method) in self._seen:
            return  # object's reads nothing: what reaches it, Python itself refuses
        self._seen.add((owner, method))
        where = f"{owner.__qualname__}.{method}"
        raw = vars(owner)[method]
        func = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
        func = inspect.unwrap(func)
        try:
            params = list(inspect.signature(func).parameters.values())
        except (TypeError, ValueError):
            self.opaque = f"{where} has no signature to read"
            return
        if params and params[0].kind in (inspect.Parameter.POSITIONAL_ONLY, *_NAMED):
            params = params[1:]  # self, or __new__'s cls
        self.names.update(p.name for p in params if p.kind in _NAMED)
        var = next((p.name for p in params if p.kind is inspect.Parameter.VAR_KEYWORD), None)
        if var is None:
            return
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
        except (OSError, TypeError, SyntaxError):
            self.opaque = f"{where}'s source cannot be read"
            return
        body = tree.body[0]
        parents = {child: node for node in ast.walk(body) for child in ast.iter_child_nodes(node)}
        passed: list[ast.Call] = []
        for node in ast.walk(body):
            if isinstance(node, ast.Name) and node.id == var:
                said = self._use(node, parents, passed)
                if said is not None:
                    self.opaque = f"{where} {said}"
                    return
        for call in passed:
            target = self._target(call, owner, getattr(func, "__globals__", {}))
            if target is None:
                self.opaque = f"{where} passes **{var} to {ast.unparse(call.func)}()"
                return
            self.follow(*target)

    def _use(
        self, name: ast.Name, parents: dict[ast.AST, ast.AST], passed: list[ast.Call]
    ) -> str | None:
        """Records one use of the `**kwargs` name; says how it escapes when it does."""
        parent = parents.get(name)
        if isinstance(parent, ast.keyword) and parent.arg is None:  # f(**kwargs)
            call = parents.get(parent)
            if isinstance(call, ast.Call):
                passed.append(call)
                return None
        if isinstance(parent, ast.Attribute) and parent.attr in _WRITES:
            return None
        if isinstance(parent, ast.Attribute) and parent.attr in _READS:
            call = parents.get(parent)
            if isinstance(call, ast.Call) and call.func is parent and call.args:
                literal = _literal(call.args[0])
                if literal is not None:
                    self.names.add(literal)
                    return None
        if isinstance(parent, ast.Subscript) and parent.value is name:
            literal = _literal(parent.slice)
            if literal is not None:
                if isinstance(parent.ctx, ast.Load):
                    self.names.add(literal)
                return None
        if (
            isinstance(parent, ast.Compare)
            and len(parent.ops) == 1
            and isinstance(parent.ops[0], (ast.In, ast.NotIn))
            and parent.comparators[0] is name
        ):
            literal = _literal(parent.left)
            if literal is not None:
                self.names.add(literal)
                return None
        return f"uses {name.id} as `{ast.unparse(parent) if parent is not None else name.id}`"

    def _target(
        self, call: ast.Call, owner: type, scope: dict[str, Any]
    ) -> tuple[type, str] | None:
        """The constructor (or method of the class) `call` runs, if it is one to follow."""
        func = call.func
        if not isinstance(func, ast.Attribute):
            return None
        method, value = func.attr, func.value
        after: type | None = None
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
            if value.func.id != "super":
                return None
            if not value.args:
                after = owner  # super(): the class after the method's own
            else:
                named = _resolve(value.args[0], scope)
                if not isinstance(named, type):
                    return None
                after = named
            found = _defining(self.mro, method, after=after)
        elif isinstance(value, ast.Name) and value.id == "self":
            found = _defining(self.mro, method)  # a method of the class itself
        else:
            named = _resolve(value, scope)  # OpenStackDriverMixin.__init__(self, **kwargs)
            if not isinstance(named, type):
                return None
            found = _defining(named.__mro__, method)
        if found is None:
            return (object, method) if method in ("__init__", "__new__") else None
        return found, method


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _resolve(node: ast.AST, scope: dict[str, Any]) -> object:
    """The object a plain name (or dotted one) in a method's module names, or None."""
    if isinstance(node, ast.Name):
        return scope.get(node.id, getattr(builtins, node.id, None))
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, scope)
        return getattr(base, node.attr, None) if base is not None else None
    return None
