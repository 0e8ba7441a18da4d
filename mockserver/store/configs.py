"""Config overrides: the real server's sections, how overrides are applied, validated and shown.

The real server keeps one stored override per `<section>/<element>` ID and, on every GET and every
update, re-applies *all* stored overrides (in ID order, the one being changed last if it is new)
to a copy of the file configuration, converting each JSON value into the Go field the way its
reflection-based override code does. Values it reads back from storage are `json.Number`s, not
float64s, so a number that converted fine when it was set can fail later (a fractional `port` is
truncated when set, then no longer parses as an integer): that poisons every later GET (500) and
update (400), exactly as on the real server. The mock keeps that model, so every message it
returns is the one the same sequence of requests gets from Kapacitor.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.errors import BadRequest, MockError, NotFound, ServerError, unknown_section
from mockserver.gotext import go_quote
from mockserver.render import go_path_join
from mockserver.store import config_sections as cs
from mockserver.store.config_validation import ELEMENT_VALIDATORS, LIST_VALIDATORS
from mockserver.store.config_values import ConversionError, StoredNumber, convert, go_float_text, go_type_name
from mockserver.store.state import StoreState

_VALID_NAME = re.compile(r"[-A-Za-z0-9_+]+\Z")


# ---- overrides ---------------------------------------------------------------------------------------


@dataclass
class Override:
    id: str
    options: dict[str, Any]
    create: bool = False


class ApplyError(MockError):
    """An error of the override engine; `str()` is the server's complete message."""


def to_stored(value: Any) -> Any:
    """What a value looks like once the server has saved it and read it back (numbers → json.Number)."""
    if isinstance(value, bool) or value is None or isinstance(value, StoredNumber):
        return value
    if isinstance(value, int):
        return StoredNumber(str(value))
    if isinstance(value, float):
        return StoredNumber(go_float_text(value))
    if isinstance(value, list):
        return [to_stored(v) for v in value]
    if isinstance(value, dict):
        return {k: to_stored(v) for k, v in value.items()}
    return value


def to_float(value: Any) -> Any:
    """A freshly decoded JSON value as Go sees it in `interface{}`: every number is a float64."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, list):
        return [to_float(v) for v in value]
    if isinstance(value, dict):
        return {k: to_float(v) for k, v in value.items()}
    return value


def _from_stored(value: Any) -> Any:
    """JSON-able form of a stored value (json.Number written back as a number)."""
    if isinstance(value, StoredNumber):
        text = str(value)
        return int(text) if re.fullmatch(r"-?[0-9]+", text) else float(text)
    if isinstance(value, list):
        return [_from_stored(v) for v in value]
    if isinstance(value, dict):
        return {k: _from_stored(v) for k, v in value.items()}
    return value


class ConfigStore:
    """Stored overrides plus the file configuration they apply to (see the module docstring)."""

    def __init__(self, state: StoreState) -> None:
        self.state = state
        self._overrides: dict[str, Override] = {}
        self._generation = 0
        self._cached: tuple[int, dict[str, list[dict[str, Any]]] | ApplyError] | None = None
        # What each section's service was last given: the config of the last successful update,
        # which may differ from what stored overrides resolve to now (see the module docstring).
        self._services: dict[str, list[dict[str, Any]]] | None = None

    # ---- version-dependent facts ----

    @property
    def legacy(self) -> bool:
        return cs.is_legacy(self.state.config.kapacitor_version)

    @property
    def sections(self) -> dict[str, cs.Section]:
        return cs.sections_for(self.state.config.kapacitor_version)

    def split_id(self, ident: str) -> tuple[str, str]:
        """Section and element of `<section>/<element>`; 1.5 knew no more than two parts."""
        if self.legacy:
            parts = ident.split("/")
            if len(parts) == 1:
                return parts[0], ""
            if len(parts) == 2:
                return parts[0], parts[1]
            return "", ""
        section, _, element = ident.partition("/")
        return section, element

    @staticmethod
    def override_id(section: str, element: str) -> str:
        ident = go_path_join(section, element)
        return ident + "/" if element == "" else ident

    # ---- resolving ----

    def base(self) -> dict[str, list[dict[str, Any]]]:
        return {name: [sec.build(e) for e in sec.elements] for name, sec in self.sections.items()}

    def resolve(self, overrides: list[Override]) -> dict[str, list[dict[str, Any]]]:
        """Apply `overrides` in order to a copy of the file config (the server's OverrideConfig)."""
        config = self.base()
        for ov in overrides:
            section, element = self.split_id(ov.id)
            if ov.create:
                element = ""
            try:
                self._apply(config, section, element, ov.options, ov.create)
            except ApplyError as exc:
                raise ApplyError(f"failed to override configuration {section}/{element}: {exc}") from None
        for name, elements in config.items():
            key = self.sections[name].element_key
            if key is None:
                continue
            seen: set[str] = set()
            for e in elements:
                if e[key] in seen:
                    raise ApplyError(
                        "failed to read sections from configuration object: "
                        f"section {go_quote(name)} has duplicate elements: {go_quote(e[key])}"
                    )
                seen.add(e[key])
        return config

    def _apply(
        self, config: dict[str, list[dict[str, Any]]], section: str, element: str, options: dict[str, Any], create: bool
    ) -> None:
        if section == "":
            raise ApplyError("invalid override: section cannot be empty")
        sec = self.sections.get(section)
        if sec is None:
            if options:
                raise ApplyError(f"unknown options [{' '.join(sorted(options))}] in section {section}")
            raise ApplyError(f"unknown section {section}")
        elements = config[section]
        key = sec.element_key
        used: set[str] = set()
        validate: dict[str, Any] | None
        if key is None:
            targets = list(elements) if element == "" else []
            validate = elements[0]
        else:
            if create:
                if key not in options:
                    raise ApplyError(f"element key {go_quote(key)} not present in options")
                name = options[key]
                if not isinstance(name, str) or isinstance(name, StoredNumber):
                    raise ApplyError(f"type of element key must be a string, got {go_type_name(name)} ")
                new = sec.build(sec.init)
                new[key] = name
                used.add(key)
                elements.append(new)
                element = name
            if element == "":
                targets, validate = list(elements), None
            else:
                targets = [e for e in elements if e[key] == element]
                validate = targets[-1] if targets else None
        for target in targets:
            for option in sec.options:
                name = option.name
                if name not in options:
                    name = name.lower()
                    if name not in options:
                        continue
                if not create and name == key:
                    raise ApplyError(f"cannot override element key {name}")
                try:
                    target[option.name] = convert(option.kind, target[option.name], options[name])
                except ConversionError as exc:
                    raise ApplyError(f"cannot set option {name}: {exc}") from None
                used.add(name)
        unused = sorted(k for k in options if k not in used)
        if unused:
            raise ApplyError(f"unknown options [{' '.join(unused)}] in section {section}")
        if validate is not None:
            check = ELEMENT_VALIDATORS.get(section)
            err = check(validate, self.legacy) if check else None
        else:
            list_check = LIST_VALIDATORS.get(sec.list_type or "")
            err = list_check(elements, self.legacy) if list_check else None
        if err:
            raise ApplyError(f"failed validation: {err}")

    def _stored_list(self) -> list[Override]:
        return [self._overrides[i] for i in sorted(self._overrides)]

    def current(self) -> dict[str, list[dict[str, Any]]]:
        """The resolved configuration; raises ApplyError when stored overrides no longer apply."""
        with self.state.lock:
            cached = self._cached
            if cached is None or cached[0] != self._generation:
                try:
                    result: dict[str, list[dict[str, Any]]] | ApplyError = self.resolve(self._stored_list())
                except ApplyError as exc:
                    result = exc
                cached = self._cached = (self._generation, result)
            if isinstance(cached[1], ApplyError):
                raise cached[1]
            return cached[1]

    def service_config(self, section: str) -> list[dict[str, Any]]:
        """The elements the section's service currently runs with (for service tests)."""
        with self.state.lock:
            if self._services is None:
                try:
                    self._services = copy.deepcopy(self.current())
                except ApplyError:
                    self._services = self.base()
            return self._services.get(section, [])

    def _resolved_for_get(self) -> dict[str, list[dict[str, Any]]]:
        try:
            return self.current()
        except ApplyError as exc:
            raise ServerError(
                f"failed to resolve current config:failed to apply configuration overrides: {exc}"
            ) from None

    def _ordered(self, name: str, elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        key = self.sections[name].element_key
        return sorted(elements, key=lambda e: e[key]) if key else elements

    def get_config(self) -> list[tuple[cs.Section, list[dict[str, Any]]]]:
        """Every section that has elements, by name, with its elements in the server's order."""
        with self.state.lock:
            config = self._resolved_for_get()
            return [(self.sections[n], self._ordered(n, config[n])) for n in sorted(config) if config[n]]

    def check_resolvable(self) -> None:
        """The server resolves the config before it looks at the path (500 wins over 400)."""
        with self.state.lock:
            self._resolved_for_get()

    def get_section(self, section: str) -> tuple[cs.Section, list[dict[str, Any]]]:
        with self.state.lock:
            config = self._resolved_for_get()
            if not config.get(section):
                raise unknown_section(section)
            return self.sections[section], self._ordered(section, config[section])

    def get_element(self, section: str, element: str) -> tuple[cs.Section, dict[str, Any]]:
        with self.state.lock:
            config = self._resolved_for_get()
            if not config.get(section):
                raise unknown_section(section)
            sec = self.sections[section]
            key = sec.element_key
            for e in self._ordered(section, config[section]):
                if (key is None and element == "") or (key is not None and e[key] == element):
                    return sec, e
            raise NotFound(f"unknown section/element: {section}/{element}")

    # ---- updating ----

    def update(self, section: str, element: str, has_element: bool, action: Mapping[str, Any]) -> None:
        """Apply one update action (decoded body) the way the server's handleUpdateSection does."""
        with self.state.lock:
            overrides, save = self._plan(section, element, has_element, action)
            try:
                config = self.resolve(overrides)
            except ApplyError as exc:
                raise BadRequest(str(exc)) from None
            services = self._services if self._services is not None else copy.deepcopy(self._last_good_or_base())
            services[section] = copy.deepcopy(config.get(section, []))
            self._services = services
            save()
            self._generation += 1

    def _last_good_or_base(self) -> dict[str, list[dict[str, Any]]]:
        try:
            return self.current()
        except ApplyError:
            return self.base()

    def _plan(
        self, section: str, element: str, has_element: bool, action: Mapping[str, Any]
    ) -> tuple[list[Override], Callable[[], None]]:
        set_ = to_float(action.get("set") or {})
        delete = action.get("delete") or []
        add = to_float(action.get("add") or {})
        remove = action.get("remove") or []
        err = self._validate_action(section, element, has_element, set_, delete, add, remove)
        if err:
            raise BadRequest(f"failed to apply update: invalid update action: {err}")
        stored = self._stored_list()
        if remove:
            removed = {self.override_id(section, name) for name in remove}

            def save_remove() -> None:
                for ident in removed:
                    self._overrides.pop(ident, None)
                    self.state.touch("configs", "overrides", ident)

            return [o for o in stored if o.id not in removed], save_remove
        if add:
            key = {name: sec.element_key for name, sec in self.sections.items()}.get(section, "missing")
            if key == "missing":
                raise BadRequest(f"failed to apply update: unknown section {go_quote(section)}")
            if key is None:
                raise BadRequest(
                    f"failed to apply update: section {go_quote(section)} is not a list, cannot add new element"
                )
            if key not in add:
                raise BadRequest(f'failed to apply update: missing key {go_quote(key)} in "add" map')
            name = add[key]
            if not isinstance(name, str):
                raise BadRequest(
                    f"failed to apply update: expected {go_quote(key)} key to be a string, got {go_type_name(name)}"
                )
            element = name
        ident = self.override_id(section, element)
        existing = self._overrides.get(ident)
        if existing is not None and add:
            # The real server passes a nil save function here and panics (the connection drops
            # without a response); the stored overrides stay as they were.
            raise ServerError(f"cannot add new override, override already exists for {ident}")
        if add:
            target = Override(ident, dict(add), create=True)
        else:
            target = Override(ident, dict(existing.options) if existing else {}, existing.create if existing else False)
            target.options.update(set_)
            for name in delete:
                target.options.pop(name, None)
        plan = [target if o.id == ident else o for o in stored]
        if existing is None:
            plan.append(target)

        def save() -> None:
            self._overrides[ident] = Override(ident, to_stored(target.options), target.create)
            self.state.touch("configs", "overrides", ident)

        return plan, save

    @staticmethod
    def _validate_action(
        section: str, element: str, has_element: bool, set_: Any, delete: Any, add: Any, remove: Any
    ) -> str | None:
        if section == "":
            return "must provide section name"
        if not _VALID_NAME.match(section):
            return f"invalid section name {go_quote(section)}"
        if element != "" and not _VALID_NAME.match(element):
            return f"invalid element name {go_quote(element)}"
        if (set_ or delete) and (add or remove):
            return "cannot provide both set/delete and add/remove actions in the same update"
        if add and element != "":
            return "must not provide an element name when adding an a new override"
        if remove and element != "":
            return "must not provide element when removing an override"
        if not remove and not add and not has_element:
            return "element not specified, are you missing a trailing '/'?"
        return None

    # ---- backup ----

    def snapshot(self) -> dict[str, Any]:
        with self.state.lock:
            return {"overrides": [_override_json(o) for o in self._stored_list()]}

    def item(self, section: str, key: str) -> dict[str, Any] | None:
        """One stored override of the snapshot (None: it is gone)."""
        override = self._overrides.get(key)
        return None if override is None else _override_json(override)

    def restore(self, data: dict[str, Any]) -> None:
        with self.state.lock:
            self._overrides = {
                item["id"]: Override(item["id"], to_stored(dict(item.get("options") or {})), bool(item.get("create")))
                for item in data.get("overrides", [])
            }
            self._generation += 1
            self._services = None


def _override_json(override: Override) -> dict[str, Any]:
    return {"id": override.id, "options": _from_stored(override.options), "create": override.create}
