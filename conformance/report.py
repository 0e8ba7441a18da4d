"""Scores and reports: terminal summary, JSON result file, self-contained HTML.

Score = passed / (passed + failed) per area and level; skipped checks and accepted deviations are
counted separately and never lower the score. The run passes only when no MUST check failed.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

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
             deviations: list[Deviation]) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": "kapacitor-conformance",
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "run": meta,
        "summary": summary,
        "deviations_declared": [d.to_dict() for d in deviations],
        "results": results,
    }


def write_json(doc: dict[str, Any], path: str | Path) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str), encoding="utf-8")


# -- terminal -------------------------------------------------------------------------------------
def terminal_lines(meta: dict[str, Any], summary: dict[str, Any], results: list[dict[str, Any]]) -> list[str]:
    lines = ["", "=" * 30 + " Kapacitor conformance " + "=" * 30]
    lines.append(f"target {meta['target']}  version {meta['version'] or 'unknown'}  profile {meta['profile']}"
                 f"  seed {meta['seed']}  prefix {meta['prefix']}  requests {meta['requests']}")
    width = max([len(a) for a in summary["areas"]] + [8])
    for area, buckets in summary["areas"].items():
        cells = "   ".join(f"{fmt_score(lv, buckets[lv]):<24}" for lv in LEVELS)
        extra = []
        for kind in ("deviation", "skipped"):
            n = sum(buckets[lv][kind] for lv in LEVELS)
            if n:
                extra.append(f"{n} {kind}")
        lines.append(f"  {area:<{width}}  {cells}{'  ' + ', '.join(extra) if extra else ''}")
    t = summary["totals"]
    lines.append(f"  {'TOTAL':<{width}}  " + "   ".join(f"{fmt_score(lv, t[lv]):<24}" for lv in LEVELS))
    failed = [r for r in results if r.get("outcome") in _FAILED]
    if failed:
        lines.append("failures:")
        for r in failed:
            what = (r.get("failure") or {}).get("what") or (r.get("message") or "").splitlines()[0:1]
            if isinstance(what, list):
                what = what[0] if what else ""
            ref = (r.get("failure") or {}).get("ref") or r["ref"]
            lines.append(f"  {r['level']:<6} {r['full_id']}: {what}  [{ref}]")
    devs = [r for r in results if r.get("outcome") == "deviation"]
    if devs:
        lines.append("accepted deviations:")
        grouped: dict[tuple[str, str], int] = {}
        for r in devs:
            key = (r["deviation"]["check"], r["deviation"]["reason"])
            grouped[key] = grouped.get(key, 0) + 1
        for (chk, reason), n in grouped.items():
            lines.append(f"  {chk} ({n}x): {reason[:160]}")
    if summary.get("notes"):
        lines.append(f"notes: {summary['notes']} (docs vs. real-server differences; see the JSON/HTML report)")
    if meta.get("target_notes"):
        lines.append(f"notes about the target from cleanup: {len(meta['target_notes'])}: "
                     + "; ".join(meta["target_notes"][:2]) + ("; ..." if len(meta["target_notes"]) > 2 else ""))
    if meta.get("cleanup_errors"):
        lines.append(f"cleanup problems: {len(meta['cleanup_errors'])}: " + "; ".join(meta["cleanup_errors"][:5]))
    verdict = "PASS" if summary["passed"] else f"FAIL ({summary['must_failed']} MUST check(s) failed)"
    lines.append(f"result: {verdict}")
    return lines


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


def _yes(value: Any) -> str:
    return "yes" if value is True else "no" if value is False else _e(value)


def _failure_html(r: dict[str, Any]) -> str:
    f = r.get("failure") or {}
    out = [f"<details open class='failure {'should' if r['level'] != MUST else 'must'}' id='f-{_e(r['full_id'])}'>"
           f"<summary>{_e(r['full_id'])}<span class='badge {_e(r['level'])}'>{_e(r['level'])}</span>"
           f"<span class='badge'>{_e(r['area'])}</span> <span class='what'>{_e(f.get('what') or '')}</span>"
           "</summary>", "<table class='kv'>", f"<tr><td>check</td><td>{_e(r['title'])}</td></tr>"]
    if f:
        if f.get("difference"):
            out.append(f"<tr><td>difference</td><td><div class='diff'>{_e(f['difference'])}</div></td></tr>")
        out.append(f"<tr><td>expected</td><td>{_pre(f.get('expected'))}</td></tr>")
        out.append(f"<tr><td>actual</td><td>{_pre(f.get('actual'))}</td></tr>")
        if f.get("hint"):
            out.append(f"<tr><td>note</td><td>{_e(f['hint'])}</td></tr>")
    ref = (f.get("ref") if f else "") or r["ref"]
    also = "" if ref == r["ref"] else f" <span class='muted'>(check: {_e(r['ref'])})</span>"
    out.append(f"<tr><td>reference</td><td>{_e(ref)}{also}</td></tr>")
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


def render_html(doc: dict[str, Any]) -> str:
    meta, summary, results = doc["run"], doc["summary"], doc["results"]
    t = summary["totals"]
    verdict = ("<span class='verdict ok'>PASS: every MUST check passed</span>" if summary["passed"]
               else f"<span class='verdict bad'>FAIL: {summary['must_failed']} MUST check(s) failed</span>")
    failed = [r for r in results if r.get("outcome") in _FAILED]
    failed.sort(key=lambda r: (r["level"] != MUST, AREAS.index(r["area"]) if r["area"] in AREAS else 99))
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
        out.append(f"<div class='card'><span>{level} passed</span><b>{b['passed']}/{run}</b><span>{pct}</span></div>")
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
    ]
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

    out.append(f"<h2 id='failures'>Failures ({len(failed)})</h2>")
    if not failed:
        out.append("<p class='ok'>none</p>")
    out.extend(_failure_html(r) for r in failed)

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
                   f"<td>{_e(o)}{reason}</td><td>{_e(r['ref'])}</td></tr>")
    out.append("</table></details></main></body></html>")
    return "\n".join(out)


def write_html(doc: dict[str, Any], path: str | Path) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_html(doc), encoding="utf-8")
