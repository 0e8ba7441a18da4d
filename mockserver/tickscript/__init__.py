"""The TICKscript engine of the mock: parsing, analysis, pipeline building, dot and formatting.

Everything the task and template endpoints derive from a script goes through here, so that the
mock answers like the real server for any script rather than for known examples only. No HTTP.
"""

from __future__ import annotations

from . import ast
from .analysis import dbrps, task_type
from .dot import dot
from .formatter import format_program
from .parser import ParseError
from .parser import parse as _parse
from .pipeline import Pipeline, evaluate
from .typecheck import StartupError, check_pipeline
from .values import TickscriptError
from .vars import Var, VarDecodeError, VarError, decode_vars, encode_vars, from_tick, to_tick

Program = ast.Program

__all__ = [
    "Pipeline",
    "Program",
    "StartupError",
    "TickscriptError",
    "Var",
    "VarDecodeError",
    "VarError",
    "build",
    "check_pipeline",
    "dbrps",
    "declared_vars",
    "decode_vars",
    "dot",
    "encode_vars",
    "format_program",
    "format_script",
    "parse",
    "stream_measurements",
    "task_type",
    "vars_of",
]


def parse(script: str) -> Program:
    """Parse a script; raises TickscriptError with the real parser's message (`parser: ...`)."""
    try:
        return _parse(script)
    except ParseError as e:
        raise TickscriptError(str(e)) from None


def build(program: Program, overrides: dict[str, Var] | None = None, *, kind: str | None = None,
          template: bool = False) -> Pipeline:
    """Evaluate the program into its pipeline, as creating/updating a task (or template) does.

    `overrides` are the task's vars. A template build tolerates vars without value and a pipeline
    that does nothing. The returned pipeline's `vars` are the declared vars in API form.
    """
    if kind is None:
        kind = task_type(program)
        if kind == "invalid":
            kind = "stream"
    predefined = None
    if overrides:
        predefined = {name: to_tick(name, v) for name, v in overrides.items()}
    pipeline, _declared = evaluate(program, kind, predefined, ignore_missing=template)
    if not template and len(pipeline) <= 1:
        raise TickscriptError("task does nothing")
    return pipeline


def declared_vars(program: Program) -> dict[str, Var]:
    """The vars a template declares, with default values (or None) and `//` descriptions.

    Raises TickscriptError if the script does not build as a template, or — after a successful build —
    if a default cannot be reported (e.g. a list holding a list): the real server fails only when it
    renders the template, after storing it (500 with that message).
    """
    return vars_of(build(program, template=True))


def vars_of(pipeline: Pipeline) -> dict[str, Var]:
    """The declared vars of a built pipeline in API form (see `declared_vars`)."""
    return {name: from_tick(name, t, v, d) for name, (t, v, d) in pipeline.declared.items()}


def stream_measurements(pipeline: Pipeline) -> frozenset[str]:
    """The measurements the pipeline's `from()` nodes select ("" = all), as `Task.Measurements()`:
    a stream recording of the task keeps only points of these measurements."""
    return frozenset(
        str(node.fields.get("Measurement", "") or "") for node in pipeline.sorted() if node.gotype == "FromNode"
    )


def format_script(script: str) -> str:
    """The canonical form of a script (`tick.Format`); the input unchanged if it does not parse."""
    try:
        return format_program(_parse(script))
    except ParseError:
        return script
