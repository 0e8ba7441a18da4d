"""The run's verdict: one of seven outcomes, each with its own exit code, decided from the results.

A verdict is a promise to the person (or CI job) who gates on it, so PASS needs more than "no MUST
check failed": the applicable MUST checks must really have produced a result. "Applicable" excludes
only what is genuinely optional (see `excluded_because`); everything else that was skipped or
errored counts as "did not run", and too much of that makes the run INCOMPLETE.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: A run is INCOMPLETE when fewer than this share of its applicable MUST checks produced a result.
MIN_RESULT_SHARE = 0.9

#: Areas whose checks may legitimately all be skipped (the target does not offer the service or
#: the user did not opt in). Every other area is *core*: zero MUST results there is INCOMPLETE.
OPTIONAL_AREAS = ("users", "flux")


class Outcome(enum.IntEnum):
    """The verdict and its exit code (documented in `--help` and conformance/README.md)."""

    PASS = 0
    FAIL = 1
    INTERRUPTED = 2
    TARGET_UNUSABLE = 3
    USAGE_ERROR = 4
    INCOMPLETE = 5
    INTERNAL_ERROR = 6

    @property
    def label(self) -> str:
        return "SUITE INTERNAL ERROR" if self is Outcome.INTERNAL_ERROR else self.name.replace("_", " ")


#: One line per exit code, in the words of the help text and the README table.
EXIT_CODES: dict[Outcome, str] = {
    Outcome.PASS: "every applicable MUST check ran and passed",
    Outcome.FAIL: "a MUST check failed (with --fail-on should: also a SHOULD check)",
    Outcome.INTERRUPTED: "interrupted by SIGINT/SIGTERM; cleanup ran; scores are partial",
    Outcome.TARGET_UNUSABLE: "target unusable: unreachable, not a Kapacitor API, TLS mismatch, rejects credentials",
    Outcome.USAGE_ERROR: "usage error: bad option, --check/--areas selecting nothing, bad deviations file",
    Outcome.INCOMPLETE: "incomplete: the applicable MUST checks did not really run (the summary says why)",
    Outcome.INTERNAL_ERROR: "suite internal error: a bug in the suite (INTERNALERROR, a crash in a fixture)",
}


class TargetUnusable(Exception):
    """Raised before any check (preflight, first ping) when running the checks would be pointless.

    The plugin turns it into verdict TARGET UNUSABLE, exit 3, with `message` as the one line said.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- applicability --------------------------------------------------------------------------------
#: Skip reasons that mean "not applicable here", matched as substrings, with the category reported.
_EXCLUSIONS: tuple[tuple[str, str], ...] = (
    ("--read-only", "--read-only"),
    ("opt-in", "opt-in not given"),
    ("exists only from Kapacitor", "not in this Kapacitor version"),
    ("follows the docs' variant", "docs variant (profile)"),
    ("is not fuzzed", "not fuzzed by design"),
    ("has nothing to generate", "nothing to generate"),
    ("cannot generate", "nothing to generate"),
)


def excluded_because(rec: dict[str, Any]) -> str | None:
    """Why a skipped check does not count as applicable, or None when its skip is a missing result.

    Only genuinely optional things are excluded: the optional services (users without auth, Flux
    tasks below 1.6 or when not served), opt-in writes not given, `--read-only`, version gates, and
    spec operations the fuzzer never sends. A core family the target does not serve is NOT excluded.
    """
    if rec.get("outcome") != "skipped":
        return None
    reason = rec.get("skip_reason") or ""
    for needle, category in _EXCLUSIONS:
        if needle in reason:
            return category
    if rec.get("area") in OPTIONAL_AREAS:
        return f"optional service ({rec['area']}) not offered"
    served = _NOT_SERVED.search(reason)
    if served and _optional_operation(served.group(1)):
        return "optional service not offered"
    return None


_NOT_SERVED = re.compile(r"does not serve (\w+)")


def _optional_operation(op_id: str) -> bool:
    """Operations the spec marks as needing an optional service (`x-kapacitor-availability.requires`)."""
    try:
        import spec

        return bool(spec.operation(op_id).availability.get("requires"))
    except (KeyError, ImportError):
        return False


def produced_result(rec: dict[str, Any]) -> bool:
    return rec.get("outcome") in ("passed", "failed", "deviation")


def suite_error(rec: dict[str, Any]) -> bool:
    """An `error` outcome the target did not cause (a crash in the suite's own code or fixtures)."""
    return rec.get("outcome") == "error" and rec.get("error_kind") == "suite"


# -- the decision ---------------------------------------------------------------------------------
@dataclass
class Completeness:
    applicable: int = 0
    ran: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)  # reason -> count of applicable, no result
    empty_core_areas: list[str] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        return None if self.applicable == 0 else self.ran / self.applicable

    def to_dict(self) -> dict[str, Any]:
        return {"applicable_must": self.applicable, "must_with_result": self.ran,
                "share": None if self.share is None else round(self.share, 4),
                "min_share": MIN_RESULT_SHARE, "excluded": dict(self.excluded),
                "missing": dict(sorted(self.missing.items(), key=lambda kv: -kv[1])[:10]),
                "empty_core_areas": list(self.empty_core_areas)}


def completeness(results: Iterable[dict[str, Any]], levels: tuple[str, ...] = ("MUST",)) -> Completeness:
    c = Completeness()
    area_applicable: dict[str, int] = {}
    area_ran: dict[str, int] = {}
    for rec in results:
        if rec.get("level") not in levels:
            continue
        why = excluded_because(rec)
        if why is not None:
            c.excluded[why] = c.excluded.get(why, 0) + 1
            continue
        area = str(rec.get("area"))
        c.applicable += 1
        area_applicable[area] = area_applicable.get(area, 0) + 1
        if produced_result(rec):
            c.ran += 1
            area_ran[area] = area_ran.get(area, 0) + 1
        else:
            key = _missing_key(rec)
            c.missing[key] = c.missing.get(key, 0) + 1
    c.empty_core_areas = [a for a, n in area_applicable.items()
                          if n and not area_ran.get(a) and a not in OPTIONAL_AREAS]
    return c


def _missing_key(rec: dict[str, Any]) -> str:
    if rec.get("outcome") == "error":
        return "errored before a result"
    reason = (rec.get("skip_reason") or "skipped").splitlines()[0]
    # "target does not serve listTasks (...)" and the like: group by the words, not the operation.
    return reason if len(reason) <= 120 else reason[:117] + "..."


@dataclass
class Verdict:
    outcome: Outcome
    reasons: list[str] = field(default_factory=list)
    partial: bool = False
    completeness: Completeness | None = None

    @property
    def code(self) -> int:
        return int(self.outcome)

    def line(self) -> str:
        """The one verdict line, printed last."""
        why = f": {'; '.join(self.reasons)}" if self.reasons else ""
        return f"kapacitor-conformance result: {self.outcome.label} (exit {self.code}){why}"

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome.label, "exit_code": self.code, "reasons": list(self.reasons),
                "partial": self.partial,
                "completeness": self.completeness.to_dict() if self.completeness else None}


def decide(summary: dict[str, Any], results: list[dict[str, Any]], *, interrupted: bool = False,
           unusable: str | None = None, usage_error: str | None = None, internal_error: str | None = None,
           fail_on_should: bool = False, strict_deviations: list[str] | None = None,
           baseline_regressions: int | None = None, stopped_early: str | None = None) -> Verdict:
    """The single decision. Precedence: usage, unusable, interrupted, internal error, fail, incomplete.

    `baseline_regressions` (with `--baseline`) replaces "any MUST failed" by "any check that passed
    in the baseline fails now": old, known failures no longer fail the run. `stopped_early` (the
    run stopped before all checks, e.g. `--max-time`) makes a run without failures INCOMPLETE.
    """
    if usage_error:
        return Verdict(Outcome.USAGE_ERROR, [usage_error])
    if unusable:
        return Verdict(Outcome.TARGET_UNUSABLE, [unusable])
    comp = completeness(results)
    kind = "MUST"
    if comp.applicable == 0 and not comp.excluded:  # a selection of SHOULD checks only: judge those
        comp, kind = completeness(results, ("MUST", "SHOULD")), "selected"
    totals = summary.get("totals", {})
    must = totals.get("MUST", {})
    should = totals.get("SHOULD", {})
    if interrupted:
        return Verdict(Outcome.INTERRUPTED, [f"interrupted after {comp.ran} of {comp.applicable} applicable MUST "
                                             "checks; scores are partial"], partial=True, completeness=comp)
    crashed = [r["full_id"] for r in results if suite_error(r)]
    if internal_error or crashed:
        why = [internal_error] if internal_error else []
        if crashed:
            why.append(f"{len(crashed)} check(s) crashed in the suite's own code (first: {crashed[0]})")
        return Verdict(Outcome.INTERNAL_ERROR, why, completeness=comp)
    if strict_deviations:
        return Verdict(Outcome.USAGE_ERROR, [f"--strict-deviations: {len(strict_deviations)} deviation entr"
                                             f"{'y' if len(strict_deviations) == 1 else 'ies'} matched no check: "
                                             + ", ".join(strict_deviations[:5])], completeness=comp)
    fails: list[str] = []
    if baseline_regressions is not None:
        if baseline_regressions:
            fails.append(f"{baseline_regressions} check(s) passed in the baseline and fail now")
    else:
        if must.get("failed"):
            fails.append(f"{must['failed']} MUST check(s) failed")
        if fail_on_should and should.get("failed"):
            fails.append(f"{should['failed']} SHOULD check(s) failed (--fail-on should)")
    if fails:
        return Verdict(Outcome.FAIL, fails, completeness=comp)
    short: list[str] = [stopped_early] if stopped_early else []
    if comp.applicable == 0:
        short.append(f"no applicable {kind} check ran")
    else:
        if comp.share is not None and comp.share < MIN_RESULT_SHARE:
            short.append(f"only {comp.ran} of {comp.applicable} applicable {kind} checks produced a result "
                         f"({100 * comp.share:.0f}% < {100 * MIN_RESULT_SHARE:.0f}%)")
        if comp.empty_core_areas:
            short.append(f"no {kind} result in core area(s) " + ", ".join(comp.empty_core_areas))
        if short and comp.missing:
            top = sorted(comp.missing.items(), key=lambda kv: -kv[1])[:3]
            short.append("most common: " + "; ".join(f"{n}x {why}" for why, n in top))
    if short:
        return Verdict(Outcome.INCOMPLETE, short, completeness=comp)
    passed = must.get("passed", 0)
    return Verdict(Outcome.PASS, [f"MUST {passed}/{passed + must.get('failed', 0)}, {comp.ran} of {comp.applicable} "
                                  f"applicable {kind} checks ran"], completeness=comp)
