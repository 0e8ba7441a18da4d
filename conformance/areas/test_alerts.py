"""Alert topics and handlers: handler CRUD incl. JSON Patch and rename (api#manage-alerts, behaviour §8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance import api
from conformance.checks import MUST, SHOULD, check, expect, expect_equal, expect_status
from conformance.context import Kap
from conformance.world import World

REF = "api#create-a-topic-handler"


@check("alerts.handler-crud", MUST, REF, mutates=True)
def test_handler_crud(kap: Kap) -> None:
    """Create, get, replace (PUT), patch (JSON Patch), rename, list and delete a handler."""
    topic, hid = kap.uid("at-"), kap.uid("ah-")
    created = kap.create_handler(topic, hid, kind="log", options={"path": "/dev/null"})
    expect_equal(created.get("id"), hid, "created handler: id", ref=REF)
    expect_equal(created.get("link", {}).get("href"), f"{api.V1}/alerts/topics/{topic}/handlers/{hid}",
                 "created handler: link", ref="behaviour §8.1")
    got = kap.json_ok(kap.call("getTopicHandler", topic=topic, handler=hid), 200, "GET handler",
                      ref="api#get-a-topic-handler")
    expect_equal((got.get("kind"), got.get("options")), ("log", {"path": "/dev/null"}), "GET handler: kind/options",
                 ref="api#get-a-topic-handler")

    ex = kap.call("replaceTopicHandler", topic=topic, handler=hid,
                  json={"id": hid, "kind": "log", "options": {"path": "/dev/null", "mode": 420}})
    body = kap.json_ok(ex, 200, "PUT handler", ref="api#update-a-topic-handler")
    expect_equal(body.get("options"), {"path": "/dev/null", "mode": 420}, "PUT handler: options",
                 ref="api#update-a-topic-handler", exchange=ex)

    patch = [{"op": "remove", "path": "/options/mode"}, {"op": "replace", "path": "/options/path", "value": "/tmp/x"}]
    ex = kap.call("patchTopicHandler", topic=topic, handler=hid, json=patch)
    kap.json_ok(ex, 200, "PATCH handler (JSON Patch)", ref="api#update-a-topic-handler")
    got = kap.json_ok(kap.call("getTopicHandler", topic=topic, handler=hid), 200, "GET handler after PATCH")
    expect_equal(got.get("options"), {"path": "/tmp/x"}, "GET handler after JSON Patch: options",
                 ref="api#update-a-topic-handler")

    new = kap.uid("ah-new-")
    ex = kap.call("replaceTopicHandler", topic=topic, handler=hid,
                  json={"id": new, "kind": "log", "options": {"path": "/dev/null"}})
    kap.registry.add("handler", new, topic=topic)
    body = kap.json_ok(ex, 200, "PUT handler with a new id (rename)", ref="behaviour §8.6")
    expect_equal(body.get("link", {}).get("href"), f"{api.V1}/alerts/topics/{topic}/handlers/{new}",
                 "renamed handler: link", ref="behaviour §8.6", exchange=ex)

    listed = kap.json_ok(kap.call("listTopicHandlers", topic=topic), 200, "list handlers",
                         ref="api#list-topic-handlers")
    ids = [h.get("id") for h in listed.get("handlers") or []]
    expect(new in ids, "list handlers after rename contains the new id", expected=new, actual=ids,
           ref="api#list-topic-handlers")

    expect_status(kap.call("deleteTopicHandler", topic=topic, handler=new), 204, "DELETE handler",
                  ref="api#remove-a-topic-handler")
    expect_status(kap.call("getTopicHandler", topic=topic, handler=new), 404, "GET handler after DELETE",
                  ref="behaviour §8.6")


@check("alerts.handlers-list", SHOULD, "behaviour §8.6", mutates=True)
def test_handlers_list(kap: Kap) -> None:
    """Handlers are listed sorted by ID, `pattern` filters them, an unknown topic lists []."""
    topic = kap.uid("al-")
    for suffix in ("b", "a", "c2", "c1"):
        kap.create_handler(topic, f"{kap.prefix}h{suffix}")
    body = kap.json_ok(kap.call("listTopicHandlers", topic=topic), 200, "list handlers", ref="behaviour §8.6")
    ids = [h["id"] for h in body.get("handlers") or []]
    expect_equal(ids, sorted(ids), "handlers sorted by id", ref="behaviour §8.6")
    expect_equal(len(ids), 4, "number of handlers", ref="behaviour §8.6")
    body = kap.json_ok(kap.call("listTopicHandlers", topic=topic, query=[("pattern", f"{kap.prefix}hc*")]), 200,
                       "list handlers with pattern")
    expect_equal([h["id"] for h in body.get("handlers") or []], [f"{kap.prefix}hc1", f"{kap.prefix}hc2"],
                 "handlers matching pattern", ref="behaviour §8.6")
    body = kap.json_ok(kap.call("listTopicHandlers", topic=kap.uid("none-")), 200, "handlers of an unknown topic")
    expect_equal(body.get("handlers"), [], "handlers of an unknown topic", ref="behaviour §8.6")


@check("alerts.topic", SHOULD, "behaviour §8.1", mutates=True)
def test_topic_shape(kap: Kap) -> None:
    """A topic created by a handler is listed, has level OK and events/handlers links."""
    topic = kap.uid("ats-")
    kap.create_handler(topic, kap.uid("h-"))
    body = kap.json_ok(kap.call("getTopic", topic=topic), 200, "GET topic", ref="api#topic-state")
    expect_equal(body.get("id"), topic, "topic id", ref="behaviour §8.1")
    expect_equal(body.get("level"), "OK", "topic level without events", ref="behaviour §8.1")
    expect_equal(body.get("events-link", {}).get("href"), f"{api.V1}/alerts/topics/{topic}/events",
                 "topic events-link", ref="behaviour §8.1")
    listed = kap.json_ok(kap.call("listTopics", query=[("pattern", topic)]), 200, "list topics")
    expect_equal([t.get("id") for t in listed.get("topics") or []], [topic], "topics matching the id",
                 ref="api#list-topics")


#: Handler kinds whose options never reach anything while their topic gets no event (ours never does).
KINDS: dict[str, dict[str, Any]] = {
    "log": {"path": "/dev/null", "mode": 420},
    "post": {"url": "http://127.0.0.1:9/kcf", "headers": {"X-Kcf": "1"}},
    "tcp": {"address": "127.0.0.1:9"},
    "slack": {"channel": "#kcf"},
}


@check("alerts.handler-kinds", MUST, REF, mutates=True)
def test_handler_kinds(kap: Kap) -> None:
    """Handlers of several kinds keep their kind and options exactly as given."""
    topic = kap.uid("ak-")
    for kind, options in KINDS.items():
        hid = kap.uid(f"h{kind}-")
        kap.create_handler(topic, hid, kind=kind, options=options, what=f"create {kind} handler")
        got = kap.json_ok(kap.call("getTopicHandler", topic=topic, handler=hid), 200, f"GET {kind} handler",
                          ref="api#get-a-topic-handler")
        expect_equal((got.get("id"), got.get("kind"), got.get("options")), (hid, kind, options),
                     f"GET {kind} handler: id, kind, options", ref="api#get-a-topic-handler")


@check("alerts.handler-match", SHOULD, "behaviour §8.1", mutates=True)
def test_handler_match(kap: Kap) -> None:
    """A handler created without `match` reports `"match": ""`, and its link names topic and id."""
    topic, hid = kap.uid("am-"), kap.uid("h-")
    kap.create_handler(topic, hid)
    ex = kap.call("getTopicHandler", topic=topic, handler=hid)
    got = kap.json_ok(ex, 200, "GET handler", ref="behaviour §8.1")
    expect_equal(got.get("match"), "", "handler without match: match", ref="behaviour §8.1", exchange=ex)
    expect_equal(got.get("link"), {"rel": "self", "href": f"{api.V1}/alerts/topics/{topic}/handlers/{hid}"},
                 "handler link", ref="behaviour §8.1", exchange=ex)


@check("alerts.handler-errors", SHOULD, "behaviour §8.6", mutates=True)
def test_handler_errors(kap: Kap) -> None:
    """An unknown kind and unknown option keys are refused with 500 and the server's messages."""
    kap.need("createTopicHandler")
    topic = kap.uid("ae-")
    kap.registry.add("topic", topic)
    hid = kap.uid("h-")
    ex = kap.call("createTopicHandler", topic=topic, json={"id": hid, "kind": "kcfnosuch", "options": {}})
    if ex.status == 200:
        kap.registry.add("handler", hid, topic=topic)
    kap.error(ex, 500, 'failed to create handler: unsupported action kind "kcfnosuch"', what="handler of unknown kind",
              ref="behaviour §8.6")
    hid = kap.uid("h-")
    ex = kap.call("createTopicHandler", topic=topic, json={"id": hid, "kind": "log",
                                                           "options": {"path": "/dev/null", "kcfnosuch": 1}})
    if ex.status == 200:
        kap.registry.add("handler", hid, topic=topic)
    kap.error(ex, 500, lambda m: m.startswith("failed to create handler: failed to decode options into "),
              what="log handler with an unknown option", ref="behaviour §8.6")


@check("alerts.patch-edges", SHOULD, "behaviour §8.6", mutates=True)
def test_patch_edges(kap: Kap) -> None:
    """A failing JSON Patch `test`, a missing path, a topic change and an empty kind are refused; the
    handler is left as it was."""
    topic, hid = kap.uid("ape-"), kap.uid("h-")
    kap.create_handler(topic, hid)
    before = kap.json_ok(kap.call("getTopicHandler", topic=topic, handler=hid), 200, "GET handler")
    attempts: list[tuple[list[dict[str, Any]], int, str | Callable[[str], bool], str]] = [
        ([{"op": "test", "path": "/kind", "value": "slack"}, {"op": "replace", "path": "/options/path", "value": "/x"}],
         400, lambda m: m.startswith("failed to apply patch: "), "JSON Patch whose test fails"),
        ([{"op": "remove", "path": "/options/kcfnosuch"}], 400, lambda m: m.startswith("failed to apply patch: "),
         "JSON Patch removing a missing member"),
        ([{"op": "replace", "path": "/topic", "value": kap.uid("other-")}], 500,
         "failed to update handler: cannot change topic in update", "JSON Patch changing the topic"),
        ([{"op": "replace", "path": "/kind", "value": ""}], 400, "invalid handler spec: handler Kind must not be empty",
         "JSON Patch emptying the kind"),
    ]
    for patch, status, message, what in attempts:
        ex = kap.call("patchTopicHandler", topic=topic, handler=hid, json=patch)
        kap.error(ex, status, message, what=what, ref="behaviour §8.6")
        after = kap.json_ok(kap.call("getTopicHandler", topic=topic, handler=hid), 200, f"GET handler after {what}")
        expect_equal(after, before, f"handler after a refused {what}", ref="behaviour §8.6")


@check("alerts.put-rename", SHOULD, "behaviour §8.6", mutates=True)
def test_put_rename(kap: Kap) -> None:
    """PUT with a new id renames: the old id is gone and the topic lists only the new one."""
    topic, old, new = kap.uid("apr-"), kap.uid("h-"), kap.uid("h-new-")
    kap.create_handler(topic, old)
    ex = kap.call("replaceTopicHandler", topic=topic, handler=old,
                  json={"id": new, "kind": "log", "options": {"path": "/dev/null"}})
    kap.registry.add("handler", new, topic=topic)
    kap.json_ok(ex, 200, "PUT handler with a new id", ref="behaviour §8.6")
    kap.error(kap.call("getTopicHandler", topic=topic, handler=old), 404, f'unknown handler: "{old}"',
              what="GET old handler id after rename", ref="behaviour §8.6")
    listed = kap.json_ok(kap.call("listTopicHandlers", topic=topic), 200, "list handlers after rename")
    expect_equal([h.get("id") for h in listed.get("handlers") or []], [new], "handlers after rename",
                 ref="behaviour §8.6")


@check("alerts.delete-topic-keeps-handlers", SHOULD, "behaviour §8.5", mutates=True)
def test_delete_topic_keeps_handlers(kap: Kap) -> None:
    """Deleting a topic drops its state but keeps its handlers (they are still listed and readable)."""
    topic, hid = kap.uid("adt-"), kap.uid("h-")
    kap.create_handler(topic, hid)
    expect_status(kap.call("deleteTopic", topic=topic), 204, "DELETE topic", ref="api#delete-a-topic")
    listed = kap.json_ok(kap.call("listTopicHandlers", topic=topic), 200, "list handlers of a deleted topic",
                         ref="behaviour §8.5")
    expect_equal([h.get("id") for h in listed.get("handlers") or []], [hid], "handlers of a deleted topic",
                 ref="behaviour §8.5")
    expect_status(kap.call("getTopicHandler", topic=topic, handler=hid), 200, "GET handler of a deleted topic",
                  ref="behaviour §8.5")


@check("alerts.min-level", SHOULD, "behaviour §8.2", mutates=True)
def test_min_level(kap: Kap) -> None:
    """`min-level` filters topics by level (a topic without events is OK); prefixes like `warn` parse."""
    topic = kap.uid("aml-")
    kap.create_handler(topic, kap.uid("h-"))
    for level, want in (("OK", [topic]), ("ok", [topic]), ("warn", []), ("CRITICAL", []), ("", [topic])):
        ex = kap.call("listTopics", query=[("pattern", topic), ("min-level", level)])
        body = kap.json_ok(ex, 200, f"list topics min-level={level!r}", ref="behaviour §8.2")
        expect_equal([t.get("id") for t in body.get("topics") or []], want, f"topics with min-level={level!r}",
                     ref="behaviour §8.2", exchange=ex)


@check("alerts.list-links", SHOULD, "behaviour §8.1", mutates=True)
def test_list_links(kap: Kap) -> None:
    """Topic and handler lists link to the request URI as received, raw query included."""
    topic = kap.uid("all-")
    kap.create_handler(topic, kap.uid("h-"))
    ex = kap.call("listTopics", raw_query=f"min-level=OK&pattern={topic}")
    body = kap.json_ok(ex, 200, "list topics", ref="behaviour §8.1")
    expect_equal(body.get("link"), {"rel": "self", "href": f"{api.V1}/alerts/topics?min-level=OK&pattern={topic}"},
                 "topic list link", ref="behaviour §8.1", exchange=ex)
    ex = kap.call("listTopicHandlers", topic=topic, raw_query="pattern=%2A")
    body = kap.json_ok(ex, 200, "list handlers", ref="behaviour §8.1")
    expect_equal((body.get("link"), body.get("topic")),
                 ({"rel": "self", "href": f"{api.V1}/alerts/topics/{topic}/handlers?pattern=%2A"}, topic),
                 "handler list link, topic", ref="behaviour §8.1", exchange=ex)


@check("alerts.events", MUST, "api#list-topic-events", mutates=True)
def test_events(kap: Kap) -> None:
    """A topic without events lists `"events": []` with its topic and link."""
    topic = kap.uid("aev-")
    kap.create_handler(topic, kap.uid("h-"))
    ex = kap.call("listTopicEvents", topic=topic)
    body = kap.json_ok(ex, 200, "list topic events", ref="api#list-topic-events")
    expect_equal((body.get("topic"), body.get("events")), (topic, []), "events of a quiet topic: topic, events",
                 ref="api#list-topic-events", exchange=ex)
    expect_equal(body.get("link", {}).get("href"), f"{api.V1}/alerts/topics/{topic}/events", "events link",
                 ref="api#list-topic-events", exchange=ex)


@check("alerts.path-topic-wins", SHOULD, "behaviour §8.6", mutates=True)
def test_path_topic_wins(kap: Kap) -> None:
    """A `topic` in the handler body is ignored: the topic of the path owns the handler."""
    kap.need("createTopicHandler")
    topic, other, hid = kap.uid("apt-"), kap.uid("apt-other-"), kap.uid("h-")
    kap.registry.add("topic", topic)
    kap.registry.add("topic", other)
    ex = kap.call("createTopicHandler", topic=topic,
                  json={"id": hid, "topic": other, "kind": "log", "options": {"path": "/dev/null"}})
    kap.registry.add("handler", hid, topic=topic)
    kap.registry.add("handler", hid, topic=other)
    body = kap.json_ok(ex, 200, "create handler with another topic in the body", ref="behaviour §8.6")
    expect_equal(body.get("link", {}).get("href"), f"{api.V1}/alerts/topics/{topic}/handlers/{hid}",
                 "handler link (path topic)", ref="behaviour §8.6", exchange=ex)
    listed = kap.json_ok(kap.call("listTopicHandlers", topic=other), 200, "handlers of the body's topic")
    expect_equal(listed.get("handlers"), [], "handlers of the topic named only in the body", ref="behaviour §8.6")


@check("alerts.error-keys", SHOULD, "behaviour §1.6", mutates=True)
def test_error_keys(kap: Kap, world: World) -> None:
    """Alert errors carry exactly `error` before 1.6 and `error` + `message` from 1.6 on."""
    kap.need("getTopicHandler")
    ex = kap.call("getTopicHandler", topic=world.topic, handler=world.missing())
    want = ["error", "message"] if kap.suite.error_has_message else ["error"]
    body = ex.json_or_none()
    expect_equal(sorted(body) if isinstance(body, dict) else body, want,
                 f"error keys on {kap.suite.version_header or 'an unknown version'}", ref="behaviour §1.6", exchange=ex)
