"""Alert topics, events and the topic sub-router over HTTP (behaviour reference §8, Go server tests).

Events are injected through the mock-only route `POST /mock/alerts/topics/<topic>/events`, the
stand-in for an alert node collecting them. Every response is checked against the spec's schema.
"""

from __future__ import annotations

import pytest

from mockserver.app import create_app
from mockserver.config import MockConfig
from spec import operations
from tests.mock.conftest import Api, Response, check, error_of
from tests.mock.spec_check import assert_matches_spec

T = "/kapacitor/v1/alerts/topics"
ZERO = "0001-01-01T00:00:00Z"


def inject(api: Api, topic: str, event_id: str, level: str, **extra: object) -> Response:
    resp = api.post(f"/mock/alerts/topics/{topic}/events", {"id": event_id, "level": level, **extra})
    assert resp.status == 200, resp.body
    return resp


def add_handler(api: Api, topic: str, handler_id: str, kind: str = "slack", **extra: object) -> Response:
    return check(
        api.post(f"{T}/{topic}/handlers", {"id": handler_id, "kind": kind, **extra}), "createTopicHandler", 200
    )


def topic_object(topic: str, level: str, collected: int) -> dict[str, object]:
    """The exact topic object of TestServer_AlertTopic (struct order: link, id, level, collected, links)."""
    return {
        "link": {"rel": "self", "href": f"{T}/{topic}"},
        "id": topic,
        "level": level,
        "collected": collected,
        "events-link": {"rel": "events", "href": f"{T}/{topic}/events"},
        "handlers-link": {"rel": "handlers", "href": f"{T}/{topic}/handlers"},
    }


# ---- topics ---------------------------------------------------------------------------------------


def test_empty_topic_list_links_to_the_bare_path(api: Api) -> None:
    # Transcript §29.
    resp = check(api.get(T), "listTopics", 200)
    assert resp.json == {"link": {"rel": "self", "href": T}, "topics": []}
    assert resp.body.startswith(b'{\n    "link": {\n        "rel": "self",')


def test_list_link_echoes_the_raw_query(api: Api) -> None:
    # TestServer_AlertListTopics: the Go client's query, with `*` percent-encoded.
    add_handler(api, "test", "h")
    resp = check(api.get(T, params=[("min-level", "OK"), ("pattern", "")]), "listTopics", 200)
    assert resp.json["link"]["href"] == f"{T}?min-level=OK&pattern="
    resp = check(api.get(T, params=[("min-level", "OK"), ("pattern", "*")]), "listTopics", 200)
    assert resp.json["link"]["href"] == f"{T}?min-level=OK&pattern=%2A"
    assert [t["id"] for t in resp.json["topics"]] == ["test"]


def test_topic_created_by_a_handler_is_ok_with_nothing_collected(api: Api) -> None:
    # TestServer_AlertTopic asserts this exact object.
    add_handler(api, "misc", "testAlertHandlers", "tcp", options={"address": "localhost:4657"})
    resp = check(api.get(f"{T}/misc"), "getTopic", 200)
    assert resp.json == topic_object("misc", "OK", 0)
    assert list(resp.json) == list(topic_object("misc", "OK", 0))


def test_missing_topic_is_404(api: Api) -> None:
    # Transcript §30 / §8.5.
    resp = check(api.get(f"{T}/nosuch"), "getTopic", 404)
    assert error_of(resp) == 'unknown topic: "nosuch"'


def test_topics_are_sorted_and_filtered_by_pattern(api: Api) -> None:
    for topic in ("b", "a2", "a1", "c"):
        inject(api, topic, "e", "OK")
    resp = check(api.get(T), "listTopics", 200)
    assert [t["id"] for t in resp.json["topics"]] == ["a1", "a2", "b", "c"]
    resp = check(api.get(T, params={"pattern": "a*"}), "listTopics", 200)
    assert [t["id"] for t in resp.json["topics"]] == ["a1", "a2"]


@pytest.mark.parametrize("path_suffix", ["", "/test/handlers"])
def test_malformed_pattern_is_400(api: Api, path_suffix: str) -> None:
    op_id = "listTopics" if not path_suffix else "listTopicHandlers"
    resp = check(api.get(T + path_suffix, params={"pattern": "["}), op_id, 400)
    assert error_of(resp) == "invalid pattern: syntax error in pattern"


@pytest.mark.parametrize("accepted", ["ok", "Info", "warn", "W", "C", "CRIT", "OKINFO"])
def test_min_level_accepts_what_parse_level_accepts(api: Api, accepted: str) -> None:
    check(api.get(T, params={"min-level": accepted}), "listTopics", 200)


@pytest.mark.parametrize(("given", "shown"), [("foo", "FOO"), ("K", "K"), ("okay", "OKAY")])
def test_unknown_min_level_is_400_upper_cased(api: Api, given: str, shown: str) -> None:
    resp = check(api.get(T, params={"min-level": given}), "listTopics", 400)
    assert error_of(resp) == f"unknown alert level '{shown}'"
    inject(api, "t", "e", "OK")
    resp = check(api.get(f"{T}/t/events", params={"min-level": given}), "listTopicEvents", 400)
    assert error_of(resp) == f"unknown alert level '{shown}'"


def test_min_level_filters_topics_by_level(api: Api) -> None:
    inject(api, "calm", "e", "OK")
    inject(api, "warm", "e", "WARNING")
    inject(api, "hot", "e", "CRITICAL")
    resp = check(api.get(T, params={"min-level": "WARNING"}), "listTopics", 200)
    assert [(t["id"], t["level"]) for t in resp.json["topics"]] == [("hot", "CRITICAL"), ("warm", "WARNING")]


def test_preview_prefix_lists_with_v1_links(api: Api) -> None:
    add_handler(api, "p", "h")
    resp = check(api.get("/kapacitor/v1preview/alerts/topics"), "listTopics", 200)
    assert resp.json["link"]["href"] == T
    assert resp.json["topics"][0]["link"]["href"] == f"{T}/p"


# ---- events ---------------------------------------------------------------------------------------


def test_injected_events_set_level_and_collected(api: Api) -> None:
    resp = inject(
        api,
        "system",
        "cpu",
        "WARNING",
        message="cpu is WARNING",
        details="d",
        time="2016-12-01T00:00:00Z",
        duration="5m",
    )
    assert_matches_spec("getTopicEvent", 200, resp.body)
    inject(
        api,
        "system",
        "cpu",
        "CRITICAL",
        message="cpu is CRITICAL",
        time="2016-12-01T00:10:00Z",
        duration=60_000_000_000,
    )
    resp = check(api.get(f"{T}/system"), "getTopic", 200)
    assert resp.json == topic_object("system", "CRITICAL", 2)
    resp = check(api.get(f"{T}/system/events/cpu"), "getTopicEvent", 200)
    assert resp.json == {
        "link": {"rel": "self", "href": f"{T}/system/events/cpu"},
        "id": "cpu",
        "state": {
            "message": "cpu is CRITICAL",
            "details": "",
            "time": "2016-12-01T00:10:00Z",
            "duration": "1m0s",
            "level": "CRITICAL",
        },
    }


def test_event_durations_are_go_duration_strings(api: Api) -> None:
    # §1.8: client.Duration marshals as a Go duration string ("0s", "1s", "5m0s").
    for event_id, duration, shown in (
        ("a", 0, "0s"),
        ("b", "1s", "1s"),
        ("c", "300s", "5m0s"),
        ("d", "90m", "1h30m0s"),
    ):
        inject(api, "d", event_id, "INFO", duration=duration)
        resp = check(api.get(f"{T}/d/events/{event_id}"), "getTopicEvent", 200)
        assert resp.json["state"]["duration"] == shown


def test_event_list_and_min_level(api: Api) -> None:
    inject(api, "t", "w", "WARNING", time="2016-12-01T00:00:00Z")
    resp = check(api.get(f"{T}/t/events"), "listTopicEvents", 200)
    assert resp.json["link"] == {"rel": "self", "href": f"{T}/t/events"}
    assert resp.json["topic"] == "t"
    assert [e["id"] for e in resp.json["events"]] == ["w"]
    # TestServer_AlertTopic_PersistedState: a WARNING event is filtered by min-level=CRITICAL.
    resp = check(api.get(f"{T}/t/events", params={"min-level": "CRITICAL"}), "listTopicEvents", 200)
    assert resp.json["events"] == []


def test_topic_level_follows_the_servers_event_order(api: Api) -> None:
    # The server keeps events in a slice re-sorted with a comparator that is not a strict order
    # ("higher level first, or smaller ID first"); the topic level is the first entry's level and
    # min-level listing stops at the first entry below it. Worked through Go's insertion sort:
    inject(api, "q", "b", "CRITICAL")  # [b]
    assert check(api.get(f"{T}/q"), "getTopic", 200).json["level"] == "CRITICAL"
    inject(api, "q", "a", "OK")  # Less(a, b) is true (a < b by ID): [a, b]
    assert check(api.get(f"{T}/q"), "getTopic", 200).json["level"] == "OK"
    resp = check(api.get(f"{T}/q/events", params={"min-level": "CRITICAL"}), "listTopicEvents", 200)
    assert resp.json["events"] == []
    inject(api, "q", "c", "WARNING")  # b moves before a (higher level), c before a: [b, c, a]
    assert check(api.get(f"{T}/q"), "getTopic", 200).json["level"] == "CRITICAL"
    resp = check(api.get(f"{T}/q/events", params={"min-level": "WARNING"}), "listTopicEvents", 200)
    assert sorted(e["id"] for e in resp.json["events"]) == ["b", "c"]
    resp = check(api.get(T, params={"min-level": "CRITICAL"}), "listTopics", 200)
    assert [t["id"] for t in resp.json["topics"]] == ["q"]


def test_events_of_a_missing_topic_are_a_500(api: Api) -> None:
    # TestServer_AlertAnonTopic.
    resp = check(api.get(f"{T}/main:task:alert2/events"), "listTopicEvents", 500)
    assert error_of(resp) == 'failed to get topic events: unknown topic "main:task:alert2"'


def test_missing_event_is_404(api: Api) -> None:
    resp = check(api.get(f"{T}/t/events/e"), "getTopicEvent", 404)
    assert error_of(resp) == 'unknown event "e" in topic "t"'
    inject(api, "t", "other", "OK")
    resp = check(api.get(f"{T}/t/events/e"), "getTopicEvent", 404)
    assert error_of(resp) == 'unknown event "e" in topic "t"'


def test_injection_rejects_bad_input(api: Api) -> None:
    assert api.post("/mock/alerts/topics/t/events", {"level": "OK"}).status == 400
    assert api.post("/mock/alerts/topics/t/events", {"id": "e", "level": "LOUD"}).status == 400
    assert api.post("/mock/alerts/topics/t/events", {"id": "e", "duration": "5 minutes"}).status == 400
    assert api.post("/mock/alerts/topics/bad*topic/events", {"id": "e"}).status == 400
    assert check(api.get(T), "listTopics", 200).json["topics"] == []


# ---- delete ---------------------------------------------------------------------------------------


def test_delete_topic_drops_events_but_keeps_handler_specs(api: Api) -> None:
    add_handler(api, "t", "h")
    inject(api, "t", "e", "CRITICAL")
    check(api.delete(f"{T}/t"), "deleteTopic", 204)
    check(api.get(f"{T}/t"), "getTopic", 404)
    resp = check(api.get(f"{T}/t/events"), "listTopicEvents", 500)
    assert error_of(resp) == 'failed to get topic events: unknown topic "t"'
    resp = check(api.get(f"{T}/t/handlers"), "listTopicHandlers", 200)
    assert [h["id"] for h in resp.json["handlers"]] == ["h"]
    # An event brings the topic back, counting from zero.
    inject(api, "t", "e2", "INFO")
    assert check(api.get(f"{T}/t"), "getTopic", 200).json == topic_object("t", "INFO", 1)


def test_delete_of_a_missing_topic_is_204(api: Api) -> None:
    # Transcript §63.
    resp = check(api.delete(f"{T}/nope"), "deleteTopic", 204)
    assert resp.body == b""


# ---- the sub-router's path rules (§8.4) -----------------------------------------------------------


def test_get_of_an_unknown_sub_path_returns_the_first_segments_topic(api: Api) -> None:
    add_handler(api, "foo", "h")
    resp = check(api.get(f"{T}/foo/bar/baz"), "getTopic", 200)
    assert resp.json == topic_object("foo", "OK", 0)
    resp = check(api.get(f"{T}/foo/handlers/h/extra"), "getTopic", 200)
    assert resp.json["id"] == "foo"


def test_get_of_the_bare_prefix_is_an_unknown_empty_topic(api: Api) -> None:
    resp = check(api.get(f"{T}/"), "getTopic", 404)
    assert error_of(resp) == 'unknown topic: ""'


def test_get_handlers_with_trailing_slash_is_an_empty_handler_id(api: Api) -> None:
    add_handler(api, "foo", "h")
    resp = check(api.get(f"{T}/foo/handlers/"), "getTopicHandler", 404)
    assert error_of(resp) == 'unknown handler: ""'


def test_get_events_with_trailing_slash_names_event_events(api: Api) -> None:
    # `*/events/*` matches `foo/events/` and the event ID is path.Base of it: "events".
    inject(api, "foo", "x", "OK")
    resp = check(api.get(f"{T}/foo/events/"), "getTopicEvent", 404)
    assert error_of(resp) == 'unknown event "events" in topic "foo"'


@pytest.mark.parametrize("sub_path", ["events", "handlers", "bar/baz"])
def test_delete_of_a_non_handler_sub_path_deletes_the_topic(api: Api, sub_path: str) -> None:
    add_handler(api, "foo", "h")
    inject(api, "foo", "e", "OK")
    resp = api.delete(f"{T}/foo/{sub_path}")
    assert resp.status == 204
    check(api.get(f"{T}/foo"), "getTopic", 404)
    assert [h["id"] for h in api.get(f"{T}/foo/handlers").json["handlers"]] == ["h"]


def test_delete_of_a_deep_handler_path_deletes_the_handler(api: Api) -> None:
    # handlerIDFromPath only needs the parent directory to end in `handlers/`.
    add_handler(api, "foo", "h")
    assert api.delete(f"{T}/foo/x/handlers/h").status == 204
    assert api.get(f"{T}/foo/handlers").json["handlers"] == []
    check(api.get(f"{T}/foo"), "getTopic", 200)


def _fallback(op_id: str) -> pytest.MarkDecorator:
    present = any(op.operation_id == op_id for op in operations())
    return pytest.mark.skipif(not present, reason=f"the spec does not yet route {op_id}")


@_fallback("createTopicHandlerFallback")
def test_post_anywhere_under_a_topic_creates_a_handler(api: Api) -> None:
    resp = api.post(f"{T}/foo", {"id": "h", "kind": "slack"})
    assert resp.status == 200
    assert resp.json["link"]["href"] == f"{T}/foo/handlers/h"
    resp = api.post(f"{T}/foo/events/x", {"id": "h2", "kind": "slack"})
    assert resp.status == 200
    assert [h["id"] for h in api.get(f"{T}/foo/handlers").json["handlers"]] == ["h", "h2"]


@_fallback("replaceTopicHandlerFallback")
def test_put_of_a_non_handler_path_is_unknown_empty_handler(api: Api) -> None:
    resp = api.put(f"{T}/foo", {"id": "h", "kind": "slack"})
    assert resp.status == 404
    assert error_of(resp) == 'unknown handler: ""'


@_fallback("patchTopicHandlerFallback")
def test_patch_of_a_non_handler_path_is_unknown_empty_handler(api: Api) -> None:
    resp = api.patch(f"{T}/foo", [])
    assert resp.status == 404
    assert error_of(resp) == 'unknown handler: ""'


# ---- backup ---------------------------------------------------------------------------------------


def test_snapshot_and_restore_keep_topics_events_and_specs() -> None:
    source = Api(create_app(MockConfig()))
    add_handler(source, "t", "h", options={"channel": "#x"})
    inject(source, "t", "b", "CRITICAL", time="2020-01-01T00:00:00Z", duration="1s")
    inject(source, "t", "a", "OK")
    inject(source, "t", "c", "WARNING")
    check(source.delete(f"{T}/gone"), "deleteTopic", 204)
    data = source.state.alerts.snapshot()
    target = Api(create_app(MockConfig()))
    target.state.alerts.restore(data)
    for path in (T, f"{T}/t", f"{T}/t/events", f"{T}/t/events/b", f"{T}/t/handlers", f"{T}/t/handlers/h"):
        assert target.get(path).json == source.get(path).json
    # The restored event order keeps driving the level and later sorts.
    assert target.get(f"{T}/t").json["level"] == "CRITICAL"
    assert target.state.alerts.snapshot() == data


def test_error_bodies_before_1_6_have_no_message(make_api: object) -> None:
    api = make_api(kapacitor_version="1.5.9")  # type: ignore[operator]
    resp = api.get(f"{T}/nosuch")
    assert resp.status == 404
    assert resp.json == {"error": 'unknown topic: "nosuch"'}


def test_list_links_keep_the_clients_path_encoding(api: Api) -> None:
    # r.URL.String() uses the raw path when it is a valid encoding of the routed path.
    resp = check(api.get(f"{T}/a%3Ab/handlers"), "listTopicHandlers", 200)
    assert resp.json["topic"] == "a:b"
    assert resp.json["link"]["href"] == f"{T}/a%3Ab/handlers"
    resp = check(api.get(f"{T}/a%20b/handlers", params={"pattern": "x y"}), "listTopicHandlers", 200)
    assert resp.json["topic"] == "a b"
    assert resp.json["link"]["href"] == f"{T}/a%20b/handlers?pattern=x+y"
