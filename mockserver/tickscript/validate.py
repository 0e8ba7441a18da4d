"""Node validation after evaluation (the real `pipeline.Validate`): the checks a script most often
fails, with the real messages."""

from __future__ import annotations

from typing import Any

from . import ast
from .graph import PNode
from .values import Dur, TickscriptError


def _type_name(v: Any) -> str:
    from .pipeline import type_name  # the evaluator owns Go type naming

    return type_name(v)


def _validate_dimensions(dims: list[Any], excluded: list[Any]) -> None:
    has_star = False
    for d in dims:
        if isinstance(d, str):
            if not d:
                raise TickscriptError("dimensions cannot not be the empty string")
        elif isinstance(d, ast.Star):
            has_star = True
        else:
            raise TickscriptError(f"invalid dimension object of type {_type_name(d)}")
    if has_star and len(dims) > 1:
        raise TickscriptError("cannot group by both '*' and named dimensions.")
    if not has_star and excluded:
        raise TickscriptError("exclude requires '*'")


def _last(node: PNode, method: str) -> tuple[Any, ...] | None:
    calls = node.settings.get(method)
    return calls[-1] if calls else None


def _names_check(names: list[str], what: str, delimiter: str, parents: int | None, lambdas: int | None) -> None:
    if not names:
        raise TickscriptError(f"a call to {what}.as() is required to specify the output stream prefixes.")
    if parents is not None and len(names) != parents:
        raise TickscriptError("number of prefixes specified by join.as() must match the number of joined streams")
    if lambdas is not None and len(names) != lambdas:
        raise TickscriptError(
            "number of prefixes specified by combine.as() must match the number of combine expressions")
    for name in names:
        if not name:
            raise TickscriptError(f"must provide a prefix name for the {what} node, see .as() property method")
        if delimiter and delimiter in name:
            if what == "join":
                raise TickscriptError(f'cannot use name {name} as field prefix, it contains the delimiter '
                                      f'"{delimiter}"\t')
            raise TickscriptError(f"cannot use name {name} as field prefix, it contains the delimiter character "
                                  f"{delimiter}")
    if len(set(names)) != len(names):
        raise TickscriptError("cannot use the same prefix name see .as() property method")


def validate_node(n: PNode) -> None:
    g = n.gotype
    f = n.fields
    if g == "FromNode":
        dims = _last(n, "GroupBy")
        _validate_dimensions(list(dims) if dims else [], [])
    elif g == "GroupByNode":
        excluded = [d for call in n.settings.get("Exclude", ()) for d in call]  # Exclude appends
        _validate_dimensions(list(n.ctor_args), excluded)
    elif g == "WindowNode":
        pc, ec = f.get("PeriodCount", 0), f.get("EveryCount", 0)
        period = f.get("Period", Dur(0)).ns
        if pc != 0 and period != 0:
            raise TickscriptError("cannot specify both period and periodCount")
        if pc != 0 and "Align" in n.settings:
            raise TickscriptError("can only align windows based off time, not count")
        if pc != 0 and ec <= 0:
            raise TickscriptError("everyCount must be greater than zero")
    elif g == "EvalNode":
        as_list = _last(n, "As") or ()
        if len(as_list) != len(n.ctor_args):
            raise TickscriptError(f"must specify same number of expressions and .as() names: got {len(as_list)} "
                                  f"as names, and {len(n.ctor_args)} expressions.")
        for tag in _last(n, "Tags") or ():
            if tag not in as_list:
                raise TickscriptError(f'invalid tag name "{tag}", name is not present is .as() names')
    elif g == "JoinNode":
        _names_check(list(_last(n, "As") or ()), "join", f.get("Delimiter", "."), len(n.parents), None)
    elif g == "CombineNode":
        _names_check(list(_last(n, "As") or ()), "combine", f.get("Delimiter", "."), None, len(n.ctor_args))
    elif g == "BarrierNode":
        idle, period = f.get("Idle", Dur(0)).ns, f.get("Period", Dur(0)).ns
        if idle != 0 and period != 0:
            raise TickscriptError("cannot specify both idle and period")
        if period == 0 and idle <= 0:
            raise TickscriptError("idle must be greater than zero")
        if period <= 0 and idle == 0:
            raise TickscriptError("period must be greater than zero")
    elif g == "HTTPPostNode":
        urls = len(n.ctor_args)
        endpoints = len(n.settings.get("Endpoint", ()))
        if urls >= 2:
            raise TickscriptError(f"httpPost expects 0 or 1 arguments, got {urls}")
        if endpoints > 1:
            raise TickscriptError(f"httpPost expects 0 or 1 endpoints, got {endpoints}")
        if urls == 0 and endpoints == 0:
            raise TickscriptError("must provide url or endpoint")
        if urls and endpoints:
            raise TickscriptError("only one endpoint and url may be specified")
        for k, _v in n.settings.get("Header", ()):
            if k.upper() == "AUTHENTICATE":
                raise TickscriptError("cannot set 'authenticate' header")
    elif g == "KapacitorLoopbackNode":
        if not f.get("Database"):
            raise TickscriptError("must specify a database")
        if not f.get("RetentionPolicy"):
            raise TickscriptError("must specify a retention policy")
    elif g == "DefaultNode":
        for field, value in n.settings.get("Field", ()):
            if not isinstance(value, (float, int, bool, str)):
                raise TickscriptError(f'unsupported type {_type_name(value)} for field "{field}", field default '
                                      "values must be float,int,string or bool")
    elif g in ("K8sAutoscaleNode", "SwarmAutoscaleNode", "Ec2AutoscaleNode"):
        names = {"K8sAutoscaleNode": ("ResourceName", "ResourceNameTag"),
                 "SwarmAutoscaleNode": ("ServiceName", "ServiceNameTag"),
                 "Ec2AutoscaleNode": ("GroupName", "GroupNameTag")}[g]
        a, b = f.get(names[0], ""), f.get(names[1], "")
        if (a and b) or (not a and not b):
            raise TickscriptError(f"must specify exactly one of {names[0]} or {names[1]}")
        if g == "K8sAutoscaleNode":
            kind = f.get("Kind", "deployments")
            if kind not in ("deployments", "replicationcontrollers", "replicasets"):
                raise TickscriptError("invalid Kind, must be 'deployments', 'replicasets' or "
                                      f"'replicationcontrollers', got {kind}")
        if f.get("Min", 1) < 1:
            raise TickscriptError(f"min must be >= 1, got {f.get('Min')}")
        if f.get("Replicas") is None:
            raise TickscriptError("must provide a replicas lambda expression")
    elif g == "AlertNode":
        for (oid,) in n.settings.get("SnmpTrap", ()):
            if oid == "":
                raise TickscriptError(f'invalid SNMP trap "{oid}": you must supply a trap Oid')
        for _oid, typ, _value in n.settings.get("Data", ()):
            if typ not in ("c", "i", "n", "s", "t"):
                trap = n.settings["SnmpTrap"][-1][0] if n.settings.get("SnmpTrap") else ""
                raise TickscriptError(f'invalid SNMP trap "{trap}": unsupported data type "{typ}" for data entry '
                                      f'"{_oid}"')
        for k, _v in n.settings.get("Header", ()):
            if k.upper() == "AUTHENTICATE":
                raise TickscriptError("invalid post: cannot set 'authenticate' header")
