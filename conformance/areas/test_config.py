"""Config overrides (api#override-kapacitor-configurations): set/delete round-trip, opt-in only.

On a live server this changes a server-wide setting, so it must leave the server exactly as it was:
the option is one of a disabled service and free text (nobody relies on it), runs on one target take
turns (a lock template), the value set carries the run prefix (another run's value is recognised),
and the undo restores the prior value itself: if `delete` reveals that there was an override, it is
set back; if there was none, none is left. Anything another party changes meanwhile is a problem of
the run (skip with the reason), never a failure of the target.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from conformance import api
from conformance.checks import MUST, check, expect, expect_equal
from conformance.context import Kap, template_script
from conformance.sweep import CONFIG_LOCK, RUN_PREFIX

#: Free-text options of rarely used services: changing them while the service is off harms no one.
_PREFERRED = ("author_name", "room", "source", "environment", "origin", "embed-title", "channel", "username",
              "client-id", "kapacitor-hostname", "name")
#: One lock for every conformance run on a target; a lock older than this belongs to a killed run.
LOCK_ID = CONFIG_LOCK
LOCK_STALE = dt.timedelta(minutes=10)
LOCK_WAIT = 30.0
_REF = "api#override-configuration-values"


def _element(kap: Kap, section: str, element: str) -> dict[str, Any]:
    ex = kap.call("getConfigElement", section=section, element=element)
    return kap.json_object(ex, 200, f"GET config {section}/{element}", ref="api#retrieve-the-current-configuration")


def _value(kap: Kap, section: str, element: str, name: str) -> Any:
    return (_element(kap, section, element).get("options") or {}).get(name)


def pick_option(config: Any) -> tuple[str, str, str] | None:
    """(section, element, option): a plain string option, preferably free text of a disabled service
    whose value is empty (most likely never overridden)."""
    sections = config.get("sections") if isinstance(config, dict) else None
    if not isinstance(sections, dict):
        return None
    ranked: list[tuple[tuple[int, int, int], tuple[str, str, str]]] = []
    for sname in sorted(sections):
        for el in (sections[sname] or {}).get("elements") or []:
            href = ((el or {}).get("link") or {}).get("href", "")
            base = f"{api.V1}/config/{sname}/"
            if not href.startswith(base):
                continue
            options = el.get("options") or {}
            redacted = set(el.get("redacted") or [])
            for name, value in sorted(options.items()):
                if not isinstance(value, str) or name in redacted:
                    continue
                rank = (0 if options.get("enabled") is False else 1,
                        _PREFERRED.index(name) if name in _PREFERRED else len(_PREFERRED),
                        0 if value == "" else 1)
                ranked.append((rank, (sname, href[len(base):], name)))
    return min(ranked)[1] if ranked else None


def _lock(kap: Kap) -> None:
    """Take the target-wide config lock (a template only one run can create) or skip."""
    script = f"// kapacitor-conformance config lock of run {kap.prefix}\n" + template_script()
    deadline = time.monotonic() + LOCK_WAIT
    holder = "?"
    while True:
        ex = kap.call("createTemplate", json={"id": LOCK_ID, "script": script})
        if ex.status == 200:
            kap.registry.add("undo", f"release {LOCK_ID}", undo=lambda: _unlock(kap))
            return
        got = kap.call("getTemplate", id=LOCK_ID)
        body = got.json_or_none() if got.status == 200 else None
        if not isinstance(body, dict):  # not held, yet creating failed: try again shortly
            holder = f"create answered {ex.status or ex.error}"
        else:
            text = str(body.get("script", ""))
            holder = text.split("run ", 1)[1].split()[0] if "config lock of run " in text else "?"
            if _age(body.get("created")) > LOCK_STALE:  # left by a killed run
                kap.call("deleteTemplate", id=LOCK_ID)
                continue
        if time.monotonic() > deadline:
            pytest.skip(f"another conformance run ({holder}) holds the config lock (template {LOCK_ID}) for more "
                        f"than {LOCK_WAIT:g}s: skipped so as not to disturb it (a suite problem, not the target's)")
        time.sleep(0.2)


def _unlock(kap: Kap) -> None:
    body = kap.call("getTemplate", id=LOCK_ID).json_or_none()
    if isinstance(body, dict) and kap.prefix in str(body.get("script", "")):
        kap.call("deleteTemplate", id=LOCK_ID)


def _age(created: Any) -> dt.timedelta:
    try:
        when = dt.datetime.fromisoformat(str(created)[:26].rstrip("Z") + "+00:00")
    except ValueError:
        return dt.timedelta(0)
    return dt.datetime.now(dt.timezone.utc) - when


def _foreign(value: Any, own: str) -> bool:
    """A value set by another conformance run (its prefix), not by this one."""
    return isinstance(value, str) and bool(RUN_PREFIX.match(value)) and value != own


@check("config.override-roundtrip", MUST, _REF, mutates=True, requires=("config-writes",))
def test_override_roundtrip(kap: Kap) -> None:
    """`set` changes an option, `delete` removes the override again; GET shows both (204 real / 200 docs)."""
    kap.need("getConfig", "updateConfigElement")
    ex = kap.call("getConfig")
    picked = pick_option(kap.json_ok(ex, 200, "GET config", ref="api#retrieve-the-current-configuration"))
    if picked is None:
        pytest.skip("the target lists no config element with a plain string option to override")
    section, element, name = picked
    _lock(kap)
    original = _value(kap, section, element, name)
    value = f"{kap.prefix}override"
    where = f"{section}/{element} {name}"
    if _foreign(original, value):
        pytest.skip(f"config {where} holds {original!r}, set by another conformance run that may still be "
                    "running or was killed; if none runs, restore the option by hand (a suite problem)")

    def undo() -> None:
        """Back to `original`: remove our override; if that does not give `original` back, there was
        an override before ours (or someone changed it meanwhile): set `original` again."""
        if _value(kap, section, element, name) == original:
            return
        kap.call("updateConfigElement", section=section, element=element, json={"delete": [name]})
        if _value(kap, section, element, name) != original:
            kap.call("updateConfigElement", section=section, element=element, json={"set": {name: original}})

    kap.registry.add("undo", f"config {where}", undo=undo)
    ex = kap.call("updateConfigElement", section=section, element=element, json={"set": {name: value}})
    kap.disputed_status(ex, kapacitor=204, docs=200, what="POST config set", ref_real="behaviour §9.4",
                        ref_docs=_REF)
    now = _value(kap, section, element, name)
    if now != value and _foreign(now, value):
        pytest.skip(f"config {where} was changed by another party during the check (a suite problem)")
    expect_equal(now, value, f"{where} after set", ref=_REF)
    ex = kap.call("updateConfigElement", section=section, element=element, json={"delete": [name]})
    kap.disputed_status(ex, kapacitor=204, docs=200, what="POST config delete", ref_real="behaviour §9.4",
                        ref_docs=_REF)
    after = _value(kap, section, element, name)
    if _foreign(after, value):
        pytest.skip(f"config {where} was changed by another party during the check (a suite problem)")
    expect(after != value, f"{where} after delete: the override is gone", expected=f"the configured value, "
           f"{original!r} unless an override existed before", actual=after, ref=_REF)
    if after != original:
        kap.note(f"config {where}: the target had an override ({original!r} over {after!r}); it was set back")
