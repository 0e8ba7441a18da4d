"""Alert topics and handlers: handler CRUD incl. JSON Patch and rename (api#manage-alerts, behaviour §8)."""

from __future__ import annotations

from conformance.checks import MUST, SHOULD, check, expect, expect_equal, expect_status
from conformance.context import Kap

REF = "api#create-a-topic-handler"


@check("alerts.handler-crud", MUST, REF, mutates=True)
def test_handler_crud(kap: Kap) -> None:
    """Create, get, replace (PUT), patch (JSON Patch), rename, list and delete a handler."""
    topic, hid = kap.uid("at-"), kap.uid("ah-")
    created = kap.create_handler(topic, hid, kind="log", options={"path": "/dev/null"})
    expect_equal(created.get("id"), hid, "created handler: id", ref=REF)
    expect_equal(created.get("link", {}).get("href"), f"/kapacitor/v1/alerts/topics/{topic}/handlers/{hid}",
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
    expect_equal(body.get("link", {}).get("href"), f"/kapacitor/v1/alerts/topics/{topic}/handlers/{new}",
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
    expect_equal(body.get("events-link", {}).get("href"), f"/kapacitor/v1/alerts/topics/{topic}/events",
                 "topic events-link", ref="behaviour §8.1")
    listed = kap.json_ok(kap.call("listTopics", query=[("pattern", topic)]), 200, "list topics")
    expect_equal([t.get("id") for t in listed.get("topics") or []], [topic], "topics matching the id",
                 ref="api#list-topics")
