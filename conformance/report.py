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
    if meta.get("cleanup_errors"):
        lines.append(f"cleanup problems: {len(meta['cleanup_errors'])}: " + "; ".join(meta["cleanup_errors"][:5]))
    verdict = "PASS" if summary["passed"] else f"FAIL ({summary['must_failed']} MUST check(s) failed)"
    lines.append(f"result: {verdict}")
    return lines


# -- HTML -----------------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em;color:#1d1d1f;background:#fafafa}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:1em 0;background:#fff}
th,td{border:1px solid #ddd;padding:.35em .7em;text-align:left;vertical-align:top;font-size:.92em}
th{background:#f0f0f3}.ok{color:#0a7d27}.bad{color:#b00020;font-weight:600}.muted{color:#777}
.pass{background:#e6f6ea}.fail{background:#fde8eb}.dev{background:#fff6d6}
pre{background:#f4f4f6;padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:.85em}
details{margin:.6em 0;background:#fff;border:1px solid #e3e3e3;padding:.4em .8em}
summary{cursor:pointer;font-weight:600}.kv td:first-child{font-weight:600;width:9em}
.badge{display:inline-block;padding:.1em .5em;border-radius:.6em;font-size:.8em;background:#eee;margin-left:.4em}
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
        return '<td class="muted">-</td>'
    cls = "pass" if bucket["failed"] == 0 else "fail"
    return f'<td class="{cls}">{bucket["passed"]}/{run} ({100.0 * bucket["passed"] / run:.1f}%)</td>'


def _exchange_html(ex: dict[str, Any] | None) -> str:
    if not ex:
        return "<p class='muted'>no HTTP exchange recorded</p>"
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
    return (f"<h4>Request</h4>{_pre(req_text)}<h4>Response</h4>{_pre(resp_text)}"
            f"<h4>Reproduce</h4>{_pre(ex['curl'])}")


def render_html(doc: dict[str, Any]) -> str:
    meta, summary, results = doc["run"], doc["summary"], doc["results"]
    verdict = ("<span class='ok'>PASS</span>" if summary["passed"]
               else f"<span class='bad'>FAIL: {summary['must_failed']} MUST check(s) failed</span>")
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Kapacitor conformance report</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Kapacitor conformance report</h1><p>{verdict}</p>",
        "<table class='kv'>",
    ]
    for key in ("target", "version", "profile", "seed", "prefix", "quick", "read_only", "allow_writes",
                "allow_config_writes", "areas", "requests", "duration"):
        out.append(f"<tr><td>{_e(key)}</td><td>{_e(meta.get(key))}</td></tr>")
    out.append(f"<tr><td>generated</td><td>{_e(doc['generated'])}</td></tr></table>")
    out.append("<h2>Scores per area</h2><table><tr><th>area</th>")
    out.extend(f"<th>{lv}</th>" for lv in LEVELS)
    out.append("<th>deviations</th><th>skipped</th></tr>")
    rows = [*list(summary["areas"].items()), ("TOTAL", summary["totals"])]
    for area, buckets in rows:
        out.append(f"<tr><td>{_e(area)}</td>")
        out.extend(_score_cell(lv, buckets[lv]) for lv in LEVELS)
        out.append(f"<td>{sum(buckets[lv]['deviation'] for lv in LEVELS)}</td>"
                   f"<td>{sum(buckets[lv]['skipped'] for lv in LEVELS)}</td></tr>")
    out.append("</table>")

    failed = [r for r in results if r.get("outcome") in _FAILED]
    out.append(f"<h2>Failures ({len(failed)})</h2>")
    if not failed:
        out.append("<p class='ok'>none</p>")
    for r in failed:
        f = r.get("failure") or {}
        out.append(f"<details open><summary>{_e(r['full_id'])}<span class='badge'>{_e(r['level'])}</span>"
                   f"<span class='badge'>{_e(r['area'])}</span> {_e(f.get('what') or '')}</summary>")
        out.append("<table class='kv'>")
        out.append(f"<tr><td>check</td><td>{_e(r['title'])}</td></tr>")
        if f:
            out.append(f"<tr><td>expected</td><td>{_pre(f.get('expected'))}</td></tr>")
            out.append(f"<tr><td>actual</td><td>{_pre(f.get('actual'))}</td></tr>")
            if f.get("hint"):
                out.append(f"<tr><td>note</td><td>{_e(f['hint'])}</td></tr>")
        out.append(f"<tr><td>reference</td><td>{_e((f.get('ref') if f else '') or r['ref'])}"
                   f"{'' if not f or f.get('ref') == r['ref'] else ' (check: ' + _e(r['ref']) + ')'}</td></tr>")
        if r.get("deviation"):
            d = r["deviation"]
            out.append(f"<tr><td>deviation</td><td>expired on {_e(d['expires'])}: {_e(d['reason'])}</td></tr>")
        out.append(f"<tr><td>test</td><td><code>{_e(r['nodeid'])}</code></td></tr></table>")
        out.append(_exchange_html(r.get("exchange")))
        if not f and r.get("message"):
            out.append(f"<h4>Message</h4>{_pre(r['message'])}")
        out.append("</details>")

    devs = [r for r in results if r.get("outcome") == "deviation"]
    if devs:
        out.append(f"<h2>Accepted deviations ({len(devs)})</h2><table><tr><th>check</th><th>reason</th>"
                   "<th>expires</th></tr>")
        for r in devs:
            d = r["deviation"]
            out.append(f"<tr class='dev'><td>{_e(r['full_id'])}</td><td>{_e(d['reason'])}</td>"
                       f"<td>{_e(d['expires'] or '')}</td></tr>")
        out.append("</table>")

    noted = [r for r in results if r.get("notes")]
    if noted:
        out.append("<h2>Notes (docs vs. real server)</h2><table><tr><th>check</th><th>note</th></tr>")
        for r in noted:
            for n in r["notes"]:
                out.append(f"<tr><td>{_e(r['full_id'])}</td><td>{_e(n)}</td></tr>")
        out.append("</table>")

    out.append("<h2>All checks</h2><table><tr><th>check</th><th>level</th><th>area</th><th>outcome</th>"
               "<th>reference</th></tr>")
    for r in results:
        o = r.get("outcome") or "skipped"
        cls = {"passed": "pass", "failed": "fail", "error": "fail", "deviation": "dev"}.get(o, "")
        reason = f" ({_e(r['skip_reason'])})" if o == "skipped" and r.get("skip_reason") else ""
        out.append(f"<tr class='{cls}'><td>{_e(r['full_id'])}</td><td>{_e(r['level'])}</td><td>{_e(r['area'])}</td>"
                   f"<td>{_e(o)}{reason}</td><td>{_e(r['ref'])}</td></tr>")
    out.append("</table>")
    if meta.get("cleanup_errors"):
        out.append("<h2>Cleanup problems</h2>" + _pre("\n".join(meta["cleanup_errors"])))
    out.append("</body></html>")
    return "\n".join(out)


def write_html(doc: dict[str, Any], path: str | Path) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_html(doc), encoding="utf-8")
