"""The alert node: levels with resets, history and flapping, state changes, templates, topics.

The state machine is the real `alertState` (history ring, `changed`, `expired`, flapping weights);
events go to the anonymous topic `main:<task>:<node>` (only when the node has handlers, as on the
server) and to `.topic()`, and the `log` handler appends the event's JSON line to its file.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from mockserver.errors import ServerError
from mockserver.gotime import format_ns
from mockserver.tickscript.graph import PNode

from . import expr, gotemplate
from .expr import EvalError, Scope
from .messages import Batch, BatchPoint, Message, Point
from .nodes import Node, dur_ns, flag, setting
from .rows import batch_row, point_row

if TYPE_CHECKING:
    from mockserver.store.alerts import EventState

OK, INFO, WARNING, CRITICAL = range(4)
LEVELS = ("OK", "INFO", "WARNING", "CRITICAL")
_LEVEL_PROPS = ((INFO, "Info", "InfoReset"), (WARNING, "Warn", "WarnReset"), (CRITICAL, "Crit", "CritReset"))

HANDLER_PROPERTIES = (
    "Post", "Tcp", "Email", "Exec", "Log", "VictorOps", "PagerDuty", "PagerDuty2", "Pushover", "Sensu",
    "Slack", "Discord", "BigPanda", "Telegram", "HipChat", "Alerta", "OpsGenie", "OpsGenie2", "Talk",
    "Mqtt", "SnmpTrap", "Kafka", "Teams", "ServiceNow", "Zenoss",
)  # fmt: skip

DEFAULT_ID = "{{ .Name }}:{{ .Group }}"
DEFAULT_MESSAGE = "{{ .ID }} is {{ .Level }}"
DEFAULT_DETAILS = "{{ json . }}"

_WEIGHT_DIFF = 1.5
_MAX_WEIGHT = 1.2


class _State:
    __slots__ = ("changed", "expired", "first_triggered", "flapping", "history", "idx", "last_triggered")

    def __init__(self, history: int) -> None:
        self.history = [OK] * history
        self.idx = 0
        self.flapping = False
        self.changed = False
        self.expired = False
        self.first_triggered = 0
        self.last_triggered = 0

    def current(self) -> int:
        return self.history[self.idx]

    def duration(self) -> int:
        return self.last_triggered - self.first_triggered

    def triggered(self, t: int) -> None:
        self.last_triggered = t
        p = self.idx - 1 if self.idx else len(self.history) - 1
        if self.history[p] == OK:
            self.first_triggered = t

    def percent_change(self) -> float:
        n = len(self.history)
        changes = 0.0
        weight = _MAX_WEIGHT / _WEIGHT_DIFF
        step = (_MAX_WEIGHT - weight) / (n - 1)
        for i in range(n - 1):
            c = (i + self.idx) % n
            p = c - 1 if c else n - 1
            if self.history[c] != self.history[p]:
                changes += weight
            weight += step
        return changes / (n - 1)


class AlertNode(Node):
    grouped = True
    extra_stats = ("alerts_inhibited", "alerts_triggered", "crits_triggered", "infos_triggered",
                   "oks_triggered", "warns_triggered")

    def __init__(self, task: Any, pn: PNode) -> None:
        super().__init__(task, pn)
        self.levels: list[expr.Fn | None] = [None] * 4
        self.resets: list[expr.Fn | None] = [None] * 4
        for level, prop, reset in _LEVEL_PROPS:
            lam = setting(pn, prop)
            if lam is not None:
                self.levels[level] = expr.compile_lambda(lam)
                rlam = setting(pn, reset)
                if rlam is not None:
                    self.resets[level] = expr.compile_lambda(rlam)
        self.id_tmpl = gotemplate.parse(str(setting(pn, "Id", DEFAULT_ID)))
        self.message_tmpl = gotemplate.parse(str(setting(pn, "Message", DEFAULT_MESSAGE)))
        self.details_tmpl = gotemplate.parse(str(setting(pn, "Details", DEFAULT_DETAILS)))
        self.topic = str(setting(pn, "Topic", "") or "")
        self.history = max(2, int(setting(pn, "History", 21) or 21))
        flapping = pn.settings.get("Flapping")
        self.flapping = bool(flapping)
        self.flap_low, self.flap_high = (float(flapping[-1][0]), float(flapping[-1][1])) if flapping else (0.0, 0.0)
        self.state_changes_only = flag(pn, "StateChangesOnly") or flag(pn, "IsStateChangesOnly")
        sco = pn.settings.get("StateChangesOnly")
        self.sco_duration = dur_ns(sco[-1][0]) if sco and sco[-1] else 0
        self.all = flag(pn, "All")
        self.no_recoveries = flag(pn, "NoRecoveries")
        self.level_tag = str(setting(pn, "LevelTag", "") or "")
        self.level_field = str(setting(pn, "LevelField", "") or "")
        self.message_field = str(setting(pn, "MessageField", "") or "")
        self.duration_field = str(setting(pn, "DurationField", "") or "")
        self.id_tag = str(setting(pn, "IdTag", "") or "")
        self.id_field = str(setting(pn, "IdField", "") or "")
        self.log_paths = [str(a[0]) for a in pn.settings.get("Log", []) if a]
        self.handler_count = sum(len(pn.settings.get(h, [])) for h in HANDLER_PROPERTIES)
        self.anon_topic = f"{task.master}:{task.id}:{self.name}" if self.handler_count else ""
        if not task.publish:
            self.anon_topic, self.topic, self.log_paths = "", "", []
        self.states: dict[str, _State] = {}

    # ---- topics

    def start(self) -> None:
        if self.anon_topic:
            alerts = self.task.engine.alerts
            alerts.restore_events(self.anon_topic, self.task.engine.saved_events.pop(self.anon_topic, []))

    def stop(self) -> None:
        """The topic goes; its event states stay saved for a restart (a deleted task drops them).
        A replay's topic (named after the replay's own task master) just goes."""
        if self.anon_topic:
            alerts = self.task.engine.alerts
            if self.task.master != "main":
                alerts.delete_topic(self.anon_topic)
                return
            try:
                saved = alerts.event_states(self.anon_topic, OK)
            except ServerError:  # the topic was deleted through the API meanwhile
                saved = []
            self.task.engine.saved_events[self.anon_topic] = saved
            alerts.delete_topic(self.anon_topic)

    # ---- evaluation

    def _render_id(self, name: str, group: str, tags: dict[str, str]) -> str:
        return gotemplate.execute(self.id_tmpl, self._id_info(name, group, tags))

    def _id_info(self, name: str, group: str, tags: dict[str, str]) -> dict[str, Any]:
        return {
            "Name": name,
            "TaskName": self.task.id,
            "Group": group or "nil",
            # Go maps: json and range go in key order
            "Tags": gotemplate.StringMap(sorted(tags.items())),
            "ServerInfo": self.task.engine.server_info(),
        }

    def _eval(self, fn: expr.Fn, fields: dict[str, Any], tags: dict[str, str], t: int) -> bool:
        v = fn(Scope(fields, tags, t))
        if not isinstance(v, bool):
            raise EvalError(f"expression returned unexpected type {expr.type_name(v)}")
        return v

    def _first_match(self, start: int, stop: int, fields: dict[str, Any], tags: dict[str, str], t: int
                     ) -> tuple[int, bool]:
        stop = max(stop, OK)
        level = start
        while level > stop:
            fn = self.levels[level]
            if fn is not None:
                try:
                    if self._eval(fn, fields, tags, t):
                        return level, True
                except EvalError as exc:
                    self.error("error evaluating expression for level", exc, level=LEVELS[level])
            level -= 1
        return OK, False

    def _determine(self, fields: dict[str, Any], tags: dict[str, str], t: int, current: int) -> int:
        level, found = self._first_match(CRITICAL, current - 1, fields, tags, t)
        if found:
            return level
        reset = self.resets[current]
        if reset is not None:
            try:
                if not self._eval(reset, fields, tags, t):
                    return current
            except EvalError as exc:
                self.error("error evaluating reset expression for current level", exc, level=LEVELS[current])
        level, found = self._first_match(current, OK, fields, tags, t)
        return level if found else OK

    def _add_event(self, st: _State, t: int, level: int) -> None:
        st.changed = st.history[st.idx] != level
        st.idx = (st.idx + 1) % len(st.history)
        st.history[st.idx] = level
        if self.flapping:
            p = st.percent_change()
            if st.flapping and p < self.flap_low:
                st.flapping = False
            elif not st.flapping and p > self.flap_high:
                st.flapping = True
        st.expired = (not st.changed and self.sco_duration != 0 and t - st.last_triggered >= self.sco_duration)

    def _state(self, msg: Message, name: str, tags: dict[str, str], t: int) -> _State:
        st = self.states.get(msg.group)
        if st is None:
            st = self.states[msg.group] = _State(self.history)
            level, when = self._restore(self._render_id(name, msg.group, tags))
            if level != OK:
                self._add_event(st, t, level)
                st.triggered(when)
        return st

    def _restore(self, event_id: str) -> tuple[int, int]:
        alerts = self.task.engine.alerts
        for topic in (self.anon_topic, self.topic):
            if topic:
                ev = alerts.event_state(topic, event_id)
                if ev is not None:
                    return ev.level, ev.time or 0
        return OK, 0

    def process(self, msg: Message) -> None:
        if isinstance(msg, Point):
            self._point(msg)
        else:
            self._batch(msg)

    def _point(self, p: Point) -> None:
        gtags = p.tags
        st = self._state(p, p.name, p.tags, p.time)
        event_id = self._render_id(p.name, p.group, p.tags)
        level = self._determine(p.fields, p.tags, p.time, st.current())
        self._add_event(st, p.time, level)
        if (self.flapping and st.flapping) or (self.state_changes_only and not st.changed and not st.expired):
            return
        if level == OK and not st.changed:
            return
        st.triggered(p.time)
        if self.no_recoveries and level == OK:
            return
        state = self._event(event_id, p.name, p.group, gtags, p.fields, level, p.time, st.duration(),
                            point_row(p.name, p.tags, p.fields, p.time))
        if state is None:
            return
        tags, fields = self._augment(p.tags, p.fields, state)
        self.emit(p.copy(tags=tags, fields=fields))

    def _batch(self, b: Batch) -> None:
        if not b.points:
            return
        st = self._state(b, b.name, b.tags, b.time)
        event_id = self._render_id(b.name, b.group, b.tags)
        lowest, highest, highest_point = CRITICAL, OK, None
        current = st.current()
        for bp in b.points:
            level = self._determine(bp.fields, bp.tags, bp.time, current)
            lowest = min(lowest, level)
            if level > highest or highest_point is None:
                highest, highest_point = level, bp
        level = lowest if self.all else highest
        assert highest_point is not None  # the batch has points
        t = highest_point.time
        if self.all or level == OK:
            t = b.time
        self._add_event(st, t, level)
        if not ((st.changed and level == OK) or (
                level != OK and not ((self.flapping and st.flapping)
                                     or (self.state_changes_only and not st.changed and not st.expired)))):
            return
        st.triggered(t)
        if self.no_recoveries and level == OK:
            return
        state = self._event(event_id, b.name, b.group, b.tags, highest_point.fields, level, t, st.duration(),
                            batch_row(b))
        if state is None:
            return
        pts = []
        for bp in b.points:
            tags, fields = self._augment(bp.tags, bp.fields, state)
            pts.append(BatchPoint(fields, tags, bp.time))
        btags, _ = self._augment(b.tags, {}, state)
        self.emit(Batch(b.name, btags, b.dims, b.by_name, b.group, b.time, pts))

    def _augment(self, tags: dict[str, str], fields: dict[str, Any], state: EventState
                 ) -> tuple[dict[str, str], dict[str, Any]]:
        if self.level_tag or self.id_tag:
            tags = dict(tags)
            if self.level_tag:
                tags[self.level_tag] = LEVELS[state.level]
            if self.id_tag:
                tags[self.id_tag] = state.id
        if self.level_field or self.id_field or self.duration_field or self.message_field:
            fields = dict(fields)
            if self.level_field:
                fields[self.level_field] = LEVELS[state.level]
            if self.message_field:
                fields[self.message_field] = state.message
            if self.id_field:
                fields[self.id_field] = state.id
            if self.duration_field:
                fields[self.duration_field] = state.duration
        return tags, fields

    def _event(self, event_id: str, name: str, group: str, tags: dict[str, str], fields: dict[str, Any],
               level: int, t: int, duration: int, row: dict[str, Any]) -> EventState | None:
        info = self._id_info(name, group, tags)
        info.update({"ID": event_id, "Fields": dict(sorted(fields.items())), "Level": LEVELS[level],
                     "Time": gotemplate.GoTime(t), "Duration": gotemplate.GoDuration(duration)})
        try:
            message = gotemplate.execute(self.message_tmpl, info)
            info["Message"] = message
            details = gotemplate.execute(self.details_tmpl, info, html=True)
        except gotemplate.TemplateError as exc:
            self.error("failed to render alert templates", exc)
            return None
        from mockserver.store.alerts import EventState

        state = EventState(id=event_id, message=message, details=details, time=t, duration=duration, level=level)
        self.stats["alerts_triggered"] += 1
        self.stats[("oks_triggered", "infos_triggered", "warns_triggered", "crits_triggered")[level]] += 1
        alerts = self.task.engine.alerts
        if self.anon_topic:
            previous = alerts.event_state(self.anon_topic, event_id)
            alerts.collect(self.anon_topic, state)
            self._handle(state, previous.level if previous else OK, row)
        if self.topic:
            alerts.collect(self.topic, state)
        return state

    def _handle(self, state: EventState, previous: int, row: dict[str, Any]) -> None:
        if not self.log_paths:
            return
        data = {
            "id": state.id, "message": state.message, "details": state.details,
            "time": format_ns(state.time), "duration": state.duration, "level": LEVELS[state.level],
            "data": {"series": [row]}, "previousLevel": LEVELS[previous], "recoverable": not self.no_recoveries,
        }  # fmt: skip
        line = gotemplate.go_json_line(data)
        for path in self.log_paths:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, line.encode("utf-8"))
                finally:
                    os.close(fd)
            except OSError as exc:
                self.error("failed to open file for alert logging", exc, file=path)
