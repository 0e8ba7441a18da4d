"""Scores and reports: terminal summary, JSON result file, self-contained HTML.

Score = passed / (passed + failed) per area and level; skipped checks and accepted deviations are
counted separately and never lower the score. The run passes only when no MUST check failed.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import json
import os
import re
import sys
import textwrap
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance import references
from conformance.checks import AREAS, LEVELS, MUST
from conformance.deviations import Deviation

SCHEMA_VERSION = 1
_FAILED = ("failed", "error")


def _bucket() -> dict[str, int]:
    return {"passed": 0, "failed": 0, "skipped": 0, "deviation": 0}


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    areas: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: {lv: _bucket() for lv in LEVELS})
    totals = {lv: _bucket() for lv in LEVELS}
    for rec in results:
        outcome = rec.get("outcome") or "skipped"
        key = "failed" if outcome in _FAILED else outcome
        if key not in ("passed", "failed", "skipped", "deviation"):
            key = "skipped"
        areas[rec["area"]][rec["level"]][key] += 1
        totals[rec["level"]][key] += 1
    ordered = {a: areas[a] for a in AREAS if a in areas}
    ordered.update({a: v for a, v in areas.items() if a not in ordered})
    for buckets in [*list(ordered.values()), totals]:
        for b in buckets.values():
            b["score"] = score(b)  # type: ignore[assignment]
    return {
        "areas": ordered,
        "totals": totals,
        "must_failed": totals[MUST]["failed"],
        "passed": totals[MUST]["failed"] == 0,
        "notes": sum(len(r.get("notes") or []) for r in results),
    }


def score(bucket: dict[str, Any]) -> float | None:
    run = bucket["passed"] + bucket["failed"]
    return None if run == 0 else round(100.0 * bucket["passed"] / run, 1)


def fmt_score(level: str, bucket: dict[str, Any]) -> str:
    run = bucket["passed"] + bucket["failed"]
    if run == 0:
        return f"{level} -"
    return f"{level} {bucket['passed']}/{run} ({100.0 * bucket['passed'] / run:.1f}%)"


def document(meta: dict[str, Any], summary: dict[str, Any], results: list[dict[str, Any]],
             deviations: list[Deviation], *, verdict: dict[str, Any] | None = None,
             baseline: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": "kapacitor-conformance",
        "tool_version": meta.get("tool_version"),
        "spec_version": meta.get("spec_version"),
        "spec_sha256": meta.get("spec_sha256"),
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "verdict": verdict,
        "run": meta,
        "summary": summary,
        "baseline": baseline,
        "deviations_declared": [d.to_dict() for d in deviations],
        "results": [{**r, "ref_url": ref_url(str(r.get("ref") or ""))} for r in results],
    }


# -- credentials never reach a file -----------------------------------------------------------------
MASK = "<credentials>"
_AUTH_HEADERS = ("authorization", "proxy-authorization", "cookie", "set-cookie", "x-auth-token")
_AUTH_TEXT = re.compile(r"(?i)\b((?:proxy-)?authorization\s*[:=]\s*)(?:basic|bearer|token)?\s*[^\s'\",\]]+")
_SCHEME_TOKEN = re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9+/=._~-]{8,}")
_USERINFO = re.compile(r"(?i)\b(https?://)[^/@\s'\"]+@")


def scrub(doc: Any, secrets: list[str] | tuple[str, ...] = ()) -> Any:
    """A copy of `doc` with every credential masked as the curl lines mask it: Authorization (and
    cookie) header values, `Basic`/`Bearer` tokens and user:password in URLs anywhere in the text,
    plus the given secrets (the --auth value, its password and base64 form, the run's user password)."""
    needles: list[str] = []
    for sec in secrets:
        if sec:
            needles.append(sec)
            needles.append(base64.b64encode(sec.encode()).decode())
    needles = sorted(set(needles), key=len, reverse=True)

    def text(value: str) -> str:
        for n in needles:
            value = value.replace(n, MASK)
        value = _AUTH_TEXT.sub(lambda m: m.group(1) + MASK, value)
        value = _SCHEME_TOKEN.sub(MASK, value)
        return _USERINFO.sub(lambda m: m.group(1) + MASK + "@", value)

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return text(value)
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            if len(value) == 2 and isinstance(value[0], str) and value[0].lower() in _AUTH_HEADERS:
                return [value[0], MASK]
            return [walk(v) for v in value]
        return value

    return walk(doc)


# -- references and failure groups ----------------------------------------------------------------
def ref_url(ref: str) -> str | None:
    """Upstream docs references become their URL; behaviour references their place in the repository."""
    url = references.doc_url(ref)
    if url is None and (cited := references.behaviour_sections_cited(ref)):
        return references.behaviour_location(cited[0])
    return url


@functools.cache
def _routes() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    import spec

    out = []
    for op in spec.operations():
        rx = re.escape(op.path)
        names = re.findall(r"\\\{([^}]+)\\\}", rx)
        for i, name in enumerate(names):
            last = i == len(names) - 1 and op.rest_param
            rx = rx.replace(f"\\{{{name}\\}}", ".*" if last else "[^/]*", 1)
        out.append((op.method, op.path, re.compile(rx + "$")))
    # Longest template first: `/tasks/{id}/{endpoint}` must not be read as `/tasks/{id}`.
    return tuple(sorted(out, key=lambda t: -len(t[1])))


def route_template(method: str, url: str) -> str:
    import spec

    path = urlsplit(url).path
    at = path.find("/kapacitor/")
    if at > 0:
        path = path[at:]
    v1, v1preview = spec.base_path() + "/", spec.preview_base_path() + "/"
    preview = path.startswith(v1preview)
    probe = v1 + path[len(v1preview):] if preview else path
    for m, template, rx in _routes():
        if rx.match(probe) and (m == method or method in ("HEAD", "OPTIONS")):
            return template.replace(v1, v1preview, 1) if preview else template
    return path


_RUN_ID = re.compile(r"kcf[0-9a-f]{8}-[^\s\"'/,)]*")


def failure_key(rec: dict[str, Any]) -> tuple[str, ...]:
    """Failures with one cause share method, route template and the wrong answer."""
    ex = rec.get("exchange") or {}
    req = ex.get("request") or {}
    f = rec.get("failure") or {}
    if not f:
        first = ((rec.get("message") or "").strip().splitlines() or [""])[0]
        # e.g. "Failed: shared task could not be created earlier: ...": one cause, many checks.
        return ("message", _RUN_ID.sub("<id>", first)) if first else ("single", rec["full_id"])
    if not req:
        return ("single", rec["full_id"])
    actual = json.dumps(f.get("actual"), ensure_ascii=False, default=str)[:300]
    return (req.get("method", ""), route_template(req.get("method", ""), req.get("url", "")),
            _RUN_ID.sub("<id>", actual))


def group_failures(failed: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in failed:
        groups.setdefault(failure_key(r), []).append(r)
    return list(groups.values())


def shorten(text: str, width: int = 200) -> str:
    """Cut at a word boundary, never mid-word."""
    return textwrap.shorten(" ".join(text.split()), width=width, placeholder=" ...")


def write_json(doc: dict[str, Any], path: str | Path) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str), encoding="utf-8")


# -- terminal -------------------------------------------------------------------------------------
Styled = tuple[str, dict[str, bool]]


def terminal_styled(meta: dict[str, Any], summary: dict[str, Any], results: list[dict[str, Any]],
                    *, verdict: dict[str, Any] | None = None,
                    baseline: dict[str, Any] | None = None) -> list[Styled]:
    """The summary block, each line with pytest terminal markup (colour only reaches a TTY)."""
    plain: dict[str, bool] = {}
    red, green, yellow, bold = {"red": True}, {"green": True}, {"yellow": True}, {"bold": True}
    partial = " (partial: the run was interrupted)" if summary.get("partial") else ""
    out: list[Styled] = [("", plain), ("=" * 30 + " Kapacitor conformance " + "=" * 30, bold)]
    out.append((f"target {meta['target']}  version {meta['version'] or 'unknown'}  profile {meta['profile']}"
                f"  seed {meta['seed']}  prefix {meta['prefix']}  requests {meta['requests']}", plain))
    if meta.get("tool_version"):
        out.append((f"kapacitor-conformance {meta['tool_version']}  spec {meta.get('spec_version')} "
                    f"(sha256 {str(meta.get('spec_sha256'))[:12]})", plain))
    width = max([len(a) for a in summary["areas"]] + [8])
    if partial:
        out.append((f"scores{partial}", yellow))
    for area, buckets in summary["areas"].items():
        cells = "   ".join(f"{fmt_score(lv, buckets[lv]):<24}" for lv in LEVELS)
        extra = []
        for kind in ("deviation", "skipped"):
            n = sum(buckets[lv][kind] for lv in LEVELS)
            if n:
                extra.append(f"{n} {kind}")
        style = red if buckets[MUST]["failed"] else plain
        out.append((f"  {area:<{width}}  {cells}{'  ' + ', '.join(extra) if extra else ''}", style))
    t = summary["totals"]
    out.append((f"  {'TOTAL':<{width}}  " + "   ".join(f"{fmt_score(lv, t[lv]):<24}" for lv in LEVELS)
                + (" (partial)" if partial else ""), bold))
    failed = [r for r in results if r.get("outcome") in _FAILED]
    if failed:
        groups = group_failures(failed)
        out.append((f"failures: {len(failed)}" + (f" in {len(groups)} groups of one cause (same method, route and answer)"
                                                  if len(groups) < len(failed) else ""), red))
        for g in groups:
            out.extend((line, red if g[0]["level"] == MUST else yellow) for line in _group_lines(g))
    devs = [r for r in results if r.get("outcome") == "deviation"]
    if devs:
        out.append(("accepted deviations:", yellow))
        grouped: dict[tuple[str, str], int] = {}
        for r in devs:
            key = (r["deviation"]["check"], r["deviation"]["reason"])
            grouped[key] = grouped.get(key, 0) + 1
        for (chk, reason), n in grouped.items():
            out.append((f"  {chk} ({n}x): {shorten(reason, 240)}", plain))
    for mkey, label in (("unknown_deviations", "deviation entries matching no check of the suite (typo?)"),
                        ("stale_deviations", "deviation entries not needed in this run (fixed?)")):
        if meta.get(mkey):
            out.append((f"{label}: " + ", ".join(meta[mkey]), yellow))
    if summary.get("notes"):
        out.append((f"notes: {summary['notes']} (docs vs. real-server differences; see the JSON/HTML report)", plain))
    if meta.get("target_notes"):
        out.append((f"notes about the target from cleanup: {len(meta['target_notes'])}: "
                    + "; ".join(meta["target_notes"][:2]) + ("; ..." if len(meta["target_notes"]) > 2 else ""),
                    plain))
    if meta.get("cleanup_errors"):
        out.append((f"cleanup problems: {len(meta['cleanup_errors'])}: " + "; ".join(meta["cleanup_errors"][:5]),
                    red))
    if baseline:
        out.extend(_baseline_lines(baseline))
    if verdict:
        v = verdict
        reasons = f": {'; '.join(v['reasons'])}" if v.get("reasons") else ""
        out.append((f"result: {v['outcome']}{reasons}", green if v["outcome"] == "PASS" else red))
    else:
        verdict_text = "PASS" if summary["passed"] else f"FAIL ({summary['must_failed']} MUST check(s) failed)"
        out.append((f"result: {verdict_text}", green if summary["passed"] else red))
    return out


def _ref_text(ref: str) -> str:
    """A reference as a terminal shows it: the citation, then where to read it."""
    url = ref_url(ref)
    return f"{ref} -> {url}" if url and url not in ref else ref


def _group_lines(group: list[dict[str, Any]]) -> list[str]:
    first = group[0]
    f = first.get("failure") or {}
    if len(group) == 1:
        what = f.get("what") or ((first.get("message") or "").splitlines() or [""])[0]
        ref = f.get("ref") or first["ref"]
        return [f"  {first['level']:<6} {first['full_id']}: {what}  [{_ref_text(ref)}]"]
    key = failure_key(first)
    ids = [r["full_id"] for r in group]
    shown = ", ".join(ids[:4]) + (f", +{len(ids) - 4} more" if len(ids) > 4 else "")
    level = MUST if any(r["level"] == MUST for r in group) else first["level"]
    if key[0] == "message":
        return [f"  {len(group)}x {level:<6} {_short_value(key[1], 160)}", f"      {shown}"]
    got = _short_value(f.get("actual"))
    return [f"  {len(group)}x {level:<6} {key[0]} {key[1]}: got {got}, expected "
            f"{_short_value(f.get('expected'))}  [{_ref_text(f.get('ref') or first['ref'])}]",
            f"      {shown}"]


def _short_value(value: Any, width: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[:width - 3] + "..."


def _baseline_lines(b: dict[str, Any]) -> list[Styled]:
    out: list[Styled] = [(f"baseline {b.get('file')}: {len(b['regressions'])} regression(s), "
                          f"{len(b['fixed'])} fixed", {"bold": True})]
    out += [(f"  warning: {w}", {"yellow": True}) for w in b.get("warnings") or []]
    out += [(f"  REGRESSED {r['level']:<6} {r['full_id']}", {"red": True}) for r in b["regressions"]]
    out += [(f"  FIXED     {r['level']:<6} {r['full_id']}", {"green": True}) for r in b["fixed"]]
    return out


def print_verdict_line(line: str, ok: bool, config: Any = None, stream: Any = None) -> None:
    """The final line; coloured only on a terminal (and never with NO_COLOR or --color=no)."""
    stream = stream or sys.stdout
    color = stream.isatty() and not os.environ.get("NO_COLOR")
    opt = getattr(getattr(config, "option", None), "color", "auto") if config is not None else "auto"
    if opt == "yes":
        color = True
    elif opt == "no":
        color = False
    if color:
        line = f"\x1b[1;{32 if ok else 31}m{line}\x1b[0m"
    stream.write(line + "\n")
    stream.flush()


# -- HTML -----------------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d1d1f;background:#f6f6f8;
     line-height:1.4}
main{max-width:1200px;margin:0 auto;padding:1.5em 2em 4em}
h1{font-size:1.6em;margin:.2em 0 .4em}h2{font-size:1.2em;margin-top:2em;padding-bottom:.2em;
   border-bottom:1px solid #d8d8de}h4{margin:1em 0 .3em;font-size:.95em}
a{color:#0b57d0;text-decoration:none}a:hover{text-decoration:underline}
nav{margin:.6em 0 1em;font-size:.92em}nav a{margin-right:1.2em}
table{border-collapse:collapse;margin:.8em 0;background:#fff}
th,td{border:1px solid #dedee3;padding:.35em .7em;text-align:left;vertical-align:top;font-size:.9em}
th{background:#eeeef2;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.verdict{display:inline-block;padding:.35em .9em;border-radius:.4em;font-weight:700;font-size:1.05em}
.verdict.ok{background:#e3f5e8;color:#0a6b22}.verdict.bad{background:#fde4e8;color:#a0001c}
.ok{color:#0a6b22}.bad{color:#a0001c;font-weight:600}.muted{color:#777}
.pass{background:#e9f7ed}.fail{background:#fde9ec}.dev{background:#fff5d1}.skip{color:#666}
.cards{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}
.card{background:#fff;border:1px solid #dedee3;border-radius:.5em;padding:.6em 1em;min-width:9em}
.card b{display:block;font-size:1.3em}.card span{color:#666;font-size:.85em}
pre{background:#f3f3f6;border:1px solid #e4e4ea;border-radius:.3em;padding:.6em;margin:.2em 0;
    white-space:pre-wrap;overflow-wrap:anywhere;font-size:.82em;max-height:24em;overflow:auto}
details{margin:.8em 0;background:#fff;border:1px solid #dedee3;border-radius:.4em;padding:.5em 1em}
details.failure{border-left:4px solid #c4001f}details.failure.should{border-left-color:#d98b00}
summary{cursor:pointer;font-weight:600}summary .what{font-weight:400;color:#333}
table.kv{width:100%;table-layout:fixed}.kv td:first-child{font-weight:600;width:8.5em;background:#fafafb}
table.run td:first-child{font-weight:600;background:#fafafb}
.badge{display:inline-block;padding:.05em .55em;border-radius:.7em;font-size:.78em;background:#eceef2;
       margin-left:.4em;font-weight:600;vertical-align:1px}
.badge.MUST{background:#fbd9df;color:#8c0019}.badge.SHOULD{background:#ffeccc;color:#7a4d00}
.diff{background:#fff8e1;border:1px solid #f0dc9a;padding:.4em .6em;border-radius:.3em;font-size:.88em}
.legend{font-size:.85em;color:#555}.nowrap{white-space:nowrap}
.verdict.warn{background:#fff1d6;color:#7a4d00}
.ea{display:grid;grid-template-columns:1fr 1fr;gap:.8em;margin:.6em 0}
.ea>div{border-radius:.4em;padding:.4em .7em}.ea h5{margin:.1em 0 .3em;font-size:.8em;text-transform:uppercase;
  letter-spacing:.04em}.ea .exp{background:#e9f7ed;border:1px solid #b9e2c4}
.ea .act{background:#fde9ec;border:1px solid #f3b8c2}.ea pre{font-size:.95em;background:#fff;max-height:14em}
.count{display:inline-block;background:#a0001c;color:#fff;border-radius:.7em;padding:0 .5em;margin-right:.4em;
  font-size:.85em}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _pre(value: Any) -> str:
    if not isinstance(value, str):
        value = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return f"<pre>{_e(value)}</pre>"


def _score_cell(level: str, bucket: dict[str, Any]) -> str:
    run = bucket["passed"] + bucket["failed"]
    if run == 0:
        return '<td class="muted num">-</td>'
    cls = "pass" if bucket["failed"] == 0 else "fail"
    return f'<td class="{cls} num">{bucket["passed"]}/{run} ({100.0 * bucket["passed"] / run:.1f}%)</td>'


def _http_text(ex: dict[str, Any]) -> tuple[str, str]:
    req, resp = ex["request"], ex["response"]
    req_text = f"{req['method']} {req['url']}\n" + "\n".join(f"{k}: {v}" for k, v in req["headers"])
    if req.get("body") is not None:
        req_text += "\n\n" + req["body"]
    if resp.get("error"):
        resp_text = f"(no HTTP response: {resp['error']})"
    else:
        resp_text = f"HTTP {resp['status']} {resp['reason']}\n" + "\n".join(f"{k}: {v}" for k, v in resp["headers"])
        if resp.get("body"):
            resp_text += "\n\n" + resp["body"]
    return req_text, resp_text


def _exchange_html(ex: dict[str, Any] | None) -> str:
    if not ex:
        return "<p class='muted'>no HTTP exchange recorded</p>"
    req_text, resp_text = _http_text(ex)
    return (f"<h4>Request</h4>{_pre(req_text)}<h4>Response</h4>{_pre(resp_text)}"
            f"<h4>Reproduce</h4>{_pre(ex['curl'])}")


def _earlier_html(rec: dict[str, Any]) -> str:
    """The requests the check sent before the failing one (context for a multi-step check)."""
    final = (rec.get("exchange") or {}).get("curl")
    earlier = [x for x in rec.get("exchanges") or [] if x.get("curl") != final]
    if not earlier:
        return ""
    rows = []
    for x in earlier:
        resp = x["response"]
        got = resp["error"] or f"{resp['status']} {resp['reason']}"
        rows.append(f"{x['request']['method']} {x['request']['url']}  ->  {got}")
    return (f"<details><summary>{len(earlier)} earlier request(s) of this check</summary>"
            f"{_pre(chr(10).join(rows))}</details>")


def _ref_html(ref: str) -> str:
    """Docs references link out; behaviour references link to their section in this report's appendix."""
    url = references.doc_url(ref)
    if url:
        return f"<a href='{_e(url)}' rel='noreferrer'>{_e(ref)}</a>"
    cited = [c for c in map(references.resolve_section, references.behaviour_sections_cited(ref)) if c]
    if cited:
        return f"<a href='#behaviour-s{_e(cited[0])}'>{_e(ref)}</a>"
    return _e(ref)


def _behaviour_appendix(results: list[dict[str, Any]]) -> str:
    """The behaviour-reference sections the report cites, so the report stays self-contained."""
    sections = references.behaviour_sections()
    cited: list[str] = []
    for r in results:
        for ref in (r.get("ref") or "", (r.get("failure") or {}).get("ref") or ""):
            for sec in map(references.resolve_section, references.behaviour_sections_cited(str(ref))):
                if sec is not None and sec not in cited:
                    cited.append(sec)
    if not cited:
        return ""
    order = sorted(cited, key=lambda s: tuple(int(p) for p in s.split(".")))
    body = "".join(f"<div id='behaviour-s{_e(s)}'>{_pre(sections[s])}</div>" for s in order)
    return (f"<h2 id='behaviour'>Behaviour reference: the sections cited ({len(order)})</h2>"
            f"<p class='muted'>From {_e(references.BEHAVIOUR_DOC)} of kapacitor-conformance: what a real "
            f"Kapacitor server does, with the source files each fact comes from.</p>"
            f"<details><summary>show the cited sections</summary>{body}</details>")


def _failure_html(group: list[dict[str, Any]]) -> str:
    """One card per cause: expected vs actual first and largest, then the reference and the exchange."""
    r = group[0]
    f = r.get("failure") or {}
    count = f"<span class='count'>{len(group)}x</span>" if len(group) > 1 else ""
    anchors = "".join(f"<a id='f-{_e(x['full_id'])}'></a>" for x in group[1:])
    out = [f"<details open class='failure {'should' if r['level'] != MUST else 'must'}' id='f-{_e(r['full_id'])}'>"
           f"{anchors}<summary>{count}{_e(r['full_id'])}<span class='badge {_e(r['level'])}'>{_e(r['level'])}</span>"
           f"<span class='badge'>{_e(r['area'])}</span> <span class='what'>{_e(f.get('what') or '')}</span>"
           "</summary>"]
    if f:
        out.append(f"<div class='ea'><div class='exp'><h5>expected</h5>{_pre(f.get('expected'))}</div>"
                   f"<div class='act'><h5>actual</h5>{_pre(f.get('actual'))}</div></div>")
    if len(group) > 1:
        key = failure_key(r)
        cause = f"{key[0]} {key[1]}" if key[0] != "message" else key[1]
        out.append(f"<p><b>{len(group)} checks fail with this same answer</b> ({_e(cause)}): "
                   + ", ".join(f"<code>{_e(x['full_id'])}</code>" for x in group) + "</p>")
    out += ["<table class='kv'>", f"<tr><td>check</td><td>{_e(r['title'])}</td></tr>"]
    if f:
        if f.get("difference"):
            out.append(f"<tr><td>difference</td><td><div class='diff'>{_e(f['difference'])}</div></td></tr>")
        if f.get("hint"):
            out.append(f"<tr><td>note</td><td>{_e(f['hint'])}</td></tr>")
    ref = (f.get("ref") if f else "") or r["ref"]
    also = "" if ref == r["ref"] else f" <span class='muted'>(check: {_ref_html(r['ref'])})</span>"
    out.append(f"<tr><td>reference</td><td>{_ref_html(ref)}{also}</td></tr>")
    if r.get("deviation"):
        d = r["deviation"]
        out.append(f"<tr><td>deviation</td><td>expired on {_e(d['expires'])}: {_e(d['reason'])}</td></tr>")
    out.append(f"<tr><td>test</td><td><code>{_e(r['nodeid'])}</code></td></tr></table>")
    out.append(_exchange_html(r.get("exchange")))
    out.append(_earlier_html(r))
    if not f and r.get("message"):
        out.append(f"<h4>Message</h4>{_pre(r['message'])}")
    out.append("</details>")
    return "\n".join(out)


def _verdict_html(doc: dict[str, Any]) -> str:
    v = doc.get("verdict")
    summary = doc["summary"]
    if not v:
        return ("<span class='verdict ok'>PASS: every MUST check passed</span>" if summary["passed"]
                else f"<span class='verdict bad'>FAIL: {summary['must_failed']} MUST check(s) failed</span>")
    cls = "ok" if v["outcome"] == "PASS" else "warn" if v["outcome"] in ("INCOMPLETE", "INTERRUPTED") else "bad"
    why = f": {'; '.join(v['reasons'])}" if v.get("reasons") else ""
    return (f"<span class='verdict {cls}' id='verdict' data-outcome='{_e(v['outcome'])}' "
            f"data-exit-code='{_e(v['exit_code'])}'>{_e(v['outcome'])} (exit {_e(v['exit_code'])}){_e(why)}</span>")


def render_html(doc: dict[str, Any]) -> str:
    meta, summary, results = doc["run"], doc["summary"], doc["results"]
    t = summary["totals"]
    verdict = _verdict_html(doc)
    failed = [r for r in results if r.get("outcome") in _FAILED]
    failed.sort(key=lambda r: (r["level"] != MUST, AREAS.index(r["area"]) if r["area"] in AREAS else 99))
    groups = group_failures(failed)
    partial = " (partial)" if summary.get("partial") else ""
    devs = [r for r in results if r.get("outcome") == "deviation"]
    noted = [r for r in results if r.get("notes")]
    sections = [("scores", "Scores"), ("failures", f"Failures ({len(failed)})")]
    if devs:
        sections.append(("deviations", f"Accepted deviations ({len(devs)})"))
    if noted:
        sections.append(("notes", "Notes"))
    if meta.get("target_notes") or meta.get("cleanup_errors"):
        sections.append(("cleanup", "Cleanup"))
    sections.append(("all", f"All checks ({len(results)})"))
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>Kapacitor conformance: {_e(meta.get('target'))}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        f"<h1>Kapacitor conformance report</h1><p>{verdict}</p>",
        "<nav>" + "".join(f"<a href='#{a}'>{_e(label)}</a>" for a, label in sections) + "</nav>",
        "<div class='cards'>",
    ]
    for level in LEVELS:
        b = t[level]
        run = b["passed"] + b["failed"]
        pct = f"{100.0 * b['passed'] / run:.1f}%" if run else "-"
        out.append(f"<div class='card'><span>{level} passed{partial}</span><b>{b['passed']}/{run}</b>"
                   f"<span>{pct}</span></div>")
    out.append(f"<div class='card'><span>deviations</span><b>{sum(t[lv]['deviation'] for lv in LEVELS)}</b>"
               "<span>accepted</span></div>")
    out.append(f"<div class='card'><span>skipped</span><b>{sum(t[lv]['skipped'] for lv in LEVELS)}</b>"
               "<span>not applicable here</span></div></div>")
    out.append("<table class='run'>")
    rows = [
        ("target", _e(meta.get("target")) + (" <span class='muted'>(embedded mock)</span>"
                                            if meta.get("embedded_mock") else "")),
        ("version", _e(meta.get("version") or "unknown")),
        ("profile", _e(meta.get("profile"))),
        ("seed", f"{_e(meta.get('seed'))} <span class='muted'>(rerun with --seed {_e(meta.get('seed'))})</span>"),
        ("prefix", f"<code>{_e(meta.get('prefix'))}</code>"),
        ("mode", ", ".join(x for x, on in (("quick", meta.get("quick")), ("read-only", meta.get("read_only")),
                                         ("writes allowed", meta.get("allow_writes")),
                                         ("config writes allowed", meta.get("allow_config_writes"))) if on)
         or "full, no opt-in writes"),
        ("areas", _e(", ".join(meta["areas"])) if meta.get("areas") else "all"),
        ("checks", _e(", ".join(meta["checks"])) if meta.get("checks") else "all"),
        ("requests", _e(meta.get("requests"))),
        ("duration", f"{_e(meta.get('duration'))} s"),
        ("generated", _e(doc["generated"])),
        ("tool", f"kapacitor-conformance {_e(meta.get('tool_version'))}"),
        ("spec", f"{_e(meta.get('spec_version'))} <span class='muted'>sha256 {_e(meta.get('spec_sha256'))}</span>"),
    ]
    if meta.get("interrupted_by"):
        rows.append(("interrupted", f"by {_e(meta['interrupted_by'])}: scores are partial"))
    out.extend(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows)
    out.append("</table>")

    out.append("<h2 id='scores'>Scores per area</h2><table><tr><th>area</th>")
    out.extend(f"<th>{lv}</th>" for lv in LEVELS)
    out.append("<th>deviations</th><th>skipped</th></tr>")
    for area, buckets in [*list(summary["areas"].items()), ("TOTAL", summary["totals"])]:
        label = f"<b>{_e(area)}</b>" if area == "TOTAL" else _e(area)
        out.append(f"<tr><td>{label}</td>")
        out.extend(_score_cell(lv, buckets[lv]) for lv in LEVELS)
        out.append(f"<td class='num'>{sum(buckets[lv]['deviation'] for lv in LEVELS)}</td>"
                   f"<td class='num'>{sum(buckets[lv]['skipped'] for lv in LEVELS)}</td></tr>")
    out.append("</table><p class='legend'>Score = passed / (passed + failed). MUST: the documented contract "
               "(a failure fails the run). SHOULD: real-server behaviour beyond the docs. Skipped checks and "
               "accepted deviations never lower a score.</p>")

    grouped = f", {len(groups)} causes" if len(groups) < len(failed) else ""
    out.append(f"<h2 id='failures'>Failures ({len(failed)}{grouped})</h2>")
    if not failed:
        out.append("<p class='ok'>none</p>")
    out.extend(_failure_html(g) for g in groups)
    if doc.get("baseline"):
        b = doc["baseline"]
        out.append(f"<h2 id='baseline'>Against the baseline {_e(b.get('file'))}</h2>")
        out.extend(f"<p class='muted'>warning: {_e(w)}</p>" for w in b.get("warnings") or [])
        for title, key in (("Regressions (passed in the baseline, fail now)", "regressions"),
                           ("Fixed (failed in the baseline, pass now)", "fixed")):
            items = "".join(f"<li><code>{_e(x['full_id'])}</code> {_e(x.get('level'))}</li>" for x in b[key])
            out.append(f"<h4>{title}: {len(b[key])}</h4><ul>{items}</ul>")
    unknown = meta.get("unknown_deviations") or []
    if unknown:
        out.append("<p class='bad'>Deviation entries matching no check of the suite (typo?): "
                   + ", ".join(_e(u) for u in unknown) + "</p>")

    if devs:
        out.append(f"<h2 id='deviations'>Accepted deviations ({len(devs)})</h2><table><tr><th>check</th>"
                   "<th>reason</th><th>expires</th></tr>")
        for r in devs:
            d = r["deviation"]
            out.append(f"<tr class='dev'><td>{_e(r['full_id'])}</td><td>{_e(d['reason'])}</td>"
                       f"<td class='nowrap'>{_e(d['expires'] or 'never')}</td></tr>")
        out.append("</table>")

    if noted:
        out.append("<h2 id='notes'>Notes (docs vs. real server)</h2><table><tr><th>check</th><th>note</th></tr>")
        for r in noted:
            for n in r["notes"]:
                out.append(f"<tr><td>{_e(r['full_id'])}</td><td>{_e(n)}</td></tr>")
        out.append("</table>")

    if meta.get("target_notes") or meta.get("cleanup_errors"):
        out.append("<h2 id='cleanup'>Cleanup</h2>")
        if meta.get("target_notes"):
            out.append("<h4>Notes about the target (everything was removed)</h4>"
                       + _pre("\n".join(meta["target_notes"])))
        if meta.get("cleanup_errors"):
            out.append("<h4 class='bad'>Cleanup problems (objects of this run may be left on the target)</h4>"
                       + _pre("\n".join(meta["cleanup_errors"])))

    out.append(f"<h2 id='all'>All checks ({len(results)})</h2><details><summary>show every check with its "
               "outcome</summary><table><tr><th>check</th><th>level</th><th>area</th><th>outcome</th>"
               "<th>reference</th></tr>")
    for r in results:
        o = r.get("outcome") or "skipped"
        cls = {"passed": "pass", "failed": "fail", "error": "fail", "deviation": "dev"}.get(o, "skip")
        reason = f" <span class='muted'>({_e(r['skip_reason'])})</span>" if o == "skipped" and r.get("skip_reason") \
            else ""
        name = (f"<a href='#f-{_e(r['full_id'])}'>{_e(r['full_id'])}</a>" if o in _FAILED else _e(r["full_id"]))
        out.append(f"<tr class='{cls}'><td>{name}</td><td>{_e(r['level'])}</td><td>{_e(r['area'])}</td>"
                   f"<td>{_e(o)}{reason}</td><td>{_ref_html(r['ref'])}</td></tr>")
    out.append("</table></details>")
    out.append(_behaviour_appendix(results))
    out.append("</main></body></html>")
    return "\n".join(out)


def write_html(doc: dict[str, Any], path: str | Path) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_html(doc), encoding="utf-8")
