"""Building the pipeline: node graph, dot, declared vars and the build errors of the real server.

Expectations come from server/server_test.go, the real 1.5.9 transcript, tick/eval_test.go, the
wording of the real evaluator (tick/eval.go) and node validation (pipeline/*.go). Where a dot is not
given by a real test it is derived by hand from the real rules: node IDs are handed out in creation
order (a node joined to several parents is renumbered at each link), and the graph is printed in the
real topological order (depth-first from the last source, reversed).
"""

from __future__ import annotations

import itertools
import json

import pytest

from mockserver.tickscript import (
    TickscriptError,
    Var,
    build,
    declared_vars,
    decode_vars,
    dot,
    encode_vars,
    parse,
    task_type,
)


def graph(script: str, name: str = "testTaskID", **kw: object) -> str:
    prog = parse(script)
    return dot(build(prog), name, **kw)  # type: ignore[arg-type]


def build_error(script: str, overrides: dict[str, Var] | None = None, template: bool = False) -> str:
    with pytest.raises(TickscriptError) as exc:
        build(parse(script), overrides, template=template)
    return str(exc.value)


# -- dot ----------------------------------------------------------------------------------------------

def test_server_create_task_dot() -> None:
    assert graph("stream\n    |from()\n        .measurement('test')\n") == "digraph testTaskID {\nstream0 -> from1;\n}"


def test_server_quiet_property_dot() -> None:
    script = "stream\n    |from()\n        .measurement('test')\n        .quiet()\n"
    assert graph(script) == "digraph testTaskID {\nstream0 -> from1;\n}"


def test_server_batch_task_dot() -> None:
    script = "dbrp \"mydb\".\"myrp\"\n\nbatch\n    |query('SELECT * from mydb.myrp.mymeas')\n    |log()\n"
    assert graph(script) == "digraph testTaskID {\nquery1 -> log2;\n}"


def test_transcript_batch_query_only_dot_is_empty() -> None:
    script = "batch\n    |query('SELECT mean(usage_idle) FROM \"telegraf\".\"autogen\".cpu')\n        .period(5m)\n        .every(5m)\n"
    assert graph(script, "a4ba8c42") == "digraph a4ba8c42 {\n}"


def test_server_enabled_task_dot() -> None:
    script = "stream\n    |from()\n        .measurement('test')\n"
    assert graph(script, executing=True) == (
        'digraph testTaskID {\ngraph [throughput="0.00 points/s"];\n\n'
        'stream0 [avg_exec_time_ns="0s" errors="0" working_cardinality="0" ];\n'
        'stream0 -> from1 [processed="0"];\n\n'
        'from1 [avg_exec_time_ns="0s" errors="0" working_cardinality="0" ];\n}')


def test_enabled_task_dot_with_labels() -> None:
    script = "stream|from().measurement('cpu')"
    assert graph(script, "t1", executing=True, labels=True) == (
        'digraph t1 {\ngraph [label="Throughput: 0.00 points/s" forcelabels=true pad="0.8,0.5"];\n\n'
        'stream0 [xlabel="avg_exec_time_ns=0s\\rerrors=0\\rworking_cardinality=0"];\n'
        'stream0 -> from1 [label="processed=0"];\n\n'
        'from1 [xlabel="avg_exec_time_ns=0s\\rerrors=0\\rworking_cardinality=0"];\n}')


def test_enabled_batch_task_dot_counts_batches_and_skips_the_source() -> None:
    script = "batch|query('SELECT 1').period(1m).every(1m)|alert()"
    assert graph(script, "b", executing=True) == (
        'digraph b {\ngraph [throughput="0.00 batches/s"];\n\n'
        'query1 [avg_exec_time_ns="0s" batches_queried="0" errors="0" points_queried="0" '
        'working_cardinality="0" ];\nquery1 -> alert2 [processed="0"];\n\n'
        'alert2 [alerts_inhibited="0" alerts_triggered="0" avg_exec_time_ns="0s" crits_triggered="0" errors="0" '
        'infos_triggered="0" oks_triggered="0" warns_triggered="0" working_cardinality="0" ];\n}')


def test_linear_chain_ids_ignore_indentation() -> None:
    # TestServer_StreamTemplateTask_AllTypes (its indentation suggests branches; the chain is linear)
    script = ALL_TYPES
    vars = decode_vars(json.loads(ALL_TYPES_VARS))
    pipeline = build(parse(script), vars)
    names = ["stream0", "from1", "log2", "window3", "log4", "count5", "log6", "groupby7", "sum8", "log9",
             "where10", "log11", "eval12", "http_out13"]
    expected = "".join(f"{a} -> {b};\n" for a, b in itertools.pairwise(names))
    assert dot(pipeline, "testStreamTask") == "digraph testStreamTask {\n" + expected + "}"


def test_join_renumbers_the_joined_node_and_walks_topologically() -> None:
    script = ("var a = stream|from().measurement('a')\nvar b = stream|from().measurement('b')\n"
              "a|join(b).as('a', 'b')|log()\n")
    assert graph(script) == ("digraph testTaskID {\nstream0 -> from1;\nstream0 -> from2;\n"
                             "from2 -> join4;\nfrom1 -> join4;\njoin4 -> log5;\n}")


def test_union_links_the_other_parents_first() -> None:
    script = "var a = stream|from()\nvar b = stream|from()\nvar c = stream|from()\na|union(b, c)|log()\n"
    # union: linked from b (id 4), c (id 5), then a (id 6)
    assert graph(script) == ("digraph testTaskID {\nstream0 -> from1;\nstream0 -> from2;\nstream0 -> from3;\n"
                             "from3 -> union6;\nfrom2 -> union6;\nfrom1 -> union6;\nunion6 -> log7;\n}")


def test_deadman_adds_a_stats_source() -> None:
    script = "stream|from().measurement('m')|deadman(100.0, 10s)"
    assert graph(script) == ("digraph testTaskID {\nstream0 -> from1;\nfrom1 -> noop3;\n"
                             "stats2 -> derivative4;\nderivative4 -> alert5;\n}")


def test_node_descriptions() -> None:
    script = ("stream|from()|groupBy('a')|window().period(1m).every(1m)|mean('v')|eval(lambda: \"mean\" * 2)"
              ".as('x')|stateCount(lambda: TRUE)|stateDuration(lambda: TRUE)|httpOut('x')|influxDBOut()")
    assert graph(script) == (
        "digraph testTaskID {\nstream0 -> from1;\nfrom1 -> groupby2;\ngroupby2 -> window3;\nwindow3 -> mean4;\n"
        "mean4 -> eval5;\neval5 -> state_count6;\nstate_count6 -> state_duration7;\n"
        "state_duration7 -> http_out8;\nhttp_out8 -> influxdb_out9;\n}")


def test_alert_handlers_keep_building_on_the_alert_node() -> None:
    script = ("stream|from()|alert().crit(lambda: \"v\" > 1).slack().channel('#a').email('x@y')"
              ".to('z@y')|log()")
    assert graph(script) == "digraph testTaskID {\nstream0 -> from1;\nfrom1 -> alert2;\nalert2 -> log3;\n}"


# -- errors ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("script", "error"), [
    # real 1.5.9 server (transcript)
    ("stream\n    |fromm()\n", 'line 2 char 6: no method or property "fromm" on *pipeline.StreamNode'),
    # §3.5: only a source node
    ('dbrp "db"."rp"\nvar s = stream\n', "task does nothing"),
    ("stream\n", "task does nothing"),
    # TestServer_StreamTemplateTask_MissingVar
    ("\nvar field string\nstream\n    |from()\n        .measurement('test')\n    |window()\n        .period(10s)\n"
     "        .every(10s)\n    |count(field)\n    |httpOut('count')\n", 'missing value for var "field".'),
    # tick/eval_test.go
    ("var x = 3m\nvar x = 2m\nstream|from()\n", "attempted to redefine x, vars are immutable"),
    ('stream|from()\nf("asdf")\n', 'line 2 char 1: no global function "f" defined'),
    ("stream|from().measurement(\"cpu\")\n",
     "line 1 char 15: cannot assign *ast.ReferenceNode to type string, did you use double quotes instead of "
     "single quotes?"),
    # eval.go wording for operator misuse
    ("stream|from()|measurement('cpu')\n",
     "line 1 char 15: no chaining method \"measurement\" on *pipeline.FromNode, but property does exist. "
     "Use '.' operator instead: 'node.measurement(..)'."),
    ("stream|from().window()\n",
     "line 1 char 15: no property method \"window\" on *pipeline.FromNode, but chaining method does exist. "
     "Use '|' operator instead: 'node|window(..)'."),
    ("stream|from()@window()\n",
     "line 1 char 15: no dynamic method \"window\" on *pipeline.FromNode, but chaining method does exist. "
     "Use '|' operator instead: 'node|window(..)'."),
    ("stream|from()@measurement('m')\n",
     "line 1 char 15: no dynamic method \"measurement\" on *pipeline.FromNode, but property does exist. "
     "Use '.' operator instead: 'node.measurement(..)'."),
    ("stream|window()\n", 'line 1 char 8: no method or property "window" on *pipeline.StreamNode'),
    ("stream|from()|influxDBOut()|log()\n",
     'line 1 char 29: no method or property "log" on *pipeline.InfluxDBOutNode'),
    # reflective calls: argument checks panic and are reported with the function and object
    ("stream|from()|window().period(10)\n",
     'line 1 char 24: error calling func "period" on obj *pipeline.WindowNode: reflect.Set: value of type '
     "int64 is not assignable to type time.Duration"),
    ("stream|from()|window().period(1m, 2m)\n",
     "line 1 char 24: too many arguments to set property Period on *pipeline.WindowNode"),
    ("stream|from()|derivative()\n",
     'line 1 char 15: error calling func "derivative" on obj *pipeline.FromNode: reflect: Call with too few '
     "input arguments"),
    ("stream|from()|derivative('a', 'b')\n",
     'line 1 char 15: error calling func "derivative" on obj *pipeline.FromNode: reflect: Call with too many '
     "input arguments"),
    ("stream|from()|shift(5)\n",
     'line 1 char 15: error calling func "shift" on obj *pipeline.FromNode: reflect: Call using int64 as type '
     "time.Duration"),
    ("stream|from()|eval('x')\n",
     'line 1 char 15: error calling func "eval" on obj *pipeline.FromNode: reflect: cannot use string as type '
     "*ast.LambdaNode in Call"),
    ("stream|from()|deadman(100, 10s)\n",
     'line 1 char 15: error calling func "deadman" on obj *pipeline.FromNode: reflect: Call using int64 as type '
     "float64"),
    ("batch|query('q')|window()\n",
     'line 1 char 18: error calling func "window" on obj *pipeline.QueryNode: cannot Window batch edge'),
    ("stream|from()|trickle()\n",
     'line 1 char 15: error calling func "trickle" on obj *pipeline.FromNode: cannot Trickle stream edge'),
    ("stream|from()|sample('x')\n",
     'line 1 char 15: error calling func "sample" on obj *pipeline.FromNode: must pass int64 or duration to new '
     "sample node"),
    ("var x = 5\nx|from()\n", "line 2 char 3: cannot get properties of non pointer value"),
    ("stream|from().where(lambda: \"a\" > y)\n", 'name "y" is undefined. Names in scope: time,stream'),
    ("var x = foo\nstream|from()\n", 'name "foo" is undefined. Names in scope: time,stream'),
    ("var t bool\nstream|from()\n", 'missing value for var "t".'),
    ("var t thing\nstream|from()\n", 'invalid var type "thing"'),
    # node validation (pipeline.Validate)
    ("var a = stream|from()\nvar b = stream|from()\na|join(b)|log()\n",
     "a call to join.as() is required to specify the output stream prefixes."),
    ("var a = stream|from()\nvar b = stream|from()\na|join(b).as('a')|log()\n",
     "number of prefixes specified by join.as() must match the number of joined streams"),
    ("var a = stream|from()\nvar b = stream|from()\na|join(b).as('a', 'a')|log()\n",
     "cannot use the same prefix name see .as() property method"),
    ("stream|from()|eval(lambda: 1, lambda: 2).as('a')\n",
     "must specify same number of expressions and .as() names: got 1 as names, and 2 expressions."),
    ("stream|from()|eval(lambda: 1).as('a').tags('b')\n", 'invalid tag name "b", name is not present is .as() names'),
    ("stream|from()|groupBy(*, 'a')\n", "cannot group by both '*' and named dimensions."),
    ("stream|from()|groupBy('a').exclude('b')\n", "exclude requires '*'"),
    ("stream|from().groupBy('')\n", "dimensions cannot not be the empty string"),
    ("stream|from()|window().periodCount(10)\n", "everyCount must be greater than zero"),
    ("stream|from()|barrier()\n", "idle must be greater than zero"),
    ("stream|from()|barrier().idle(1s).period(1s)\n", "cannot specify both idle and period"),
    ("stream|from()|httpPost()\n", "must provide url or endpoint"),
    ("stream|from()|kapacitorLoopback()\n", "must specify a database"),
    ("stream|from()|k8sAutoscale()\n", "must specify exactly one of ResourceName or ResourceNameTag"),
])
def test_build_errors(script: str, error: str) -> None:
    assert build_error(script) == error


def test_template_builds_tolerate_missing_values_and_empty_pipelines() -> None:
    prog = parse("var field string\nvar period duration\nstream|from()|window().period(period)|count(field)")
    build(prog, template=True)
    build(parse("dbrp \"a\".\"b\"\nvar s = stream"), template=True)


# -- vars -----------------------------------------------------------------------------------------------

def test_server_template_vars() -> None:
    # TestServer_CreateTemplate
    prog = parse("var x = 5\n\nstream\n    |from()\n        .measurement('test')\n")
    assert encode_vars(declared_vars(prog)) == {"x": {"type": "int", "value": 5, "description": ""}}


def test_server_template_var_description_from_comment() -> None:
    # TestServer_CreateTaskFromTemplate
    prog = parse("// Configurable measurement\nvar measurement = 'test'\n\nstream\n    |from()\n"
                 "        .measurement(measurement)\n")
    assert encode_vars(declared_vars(prog)) == {
        "measurement": {"type": "string", "value": "test", "description": "Configurable measurement"}}


def test_multi_line_and_blank_separated_descriptions() -> None:
    prog = parse("// one\n//   two\n\n// three\nvar x = 1\nstream|from()")
    assert declared_vars(prog)["x"].description == "one\n  two\n\n\nthree"


ALL_TYPES = """
var bool bool
var count_threshold int
var value_threshold float
var window duration
var field string
var tagMatch regex
var match lambda
var eval lambda
var groups list
var secondGroup list
stream
    |from()
        .measurement('test')
        .where(lambda: match AND "tag" =~ tagMatch AND bool AND "value" >= value_threshold)
        .groupBy(groups)
        |log().prefix('FROM')
    |window()
        .period(window)
        .every(window)
        |log().prefix('WINDOW')
    |count(field)
        |log().prefix('COUNT')
    |groupBy(secondGroup)
    |sum('count')
        .as('count')
        |log().prefix('SUM')
    |where(lambda: "count" >= count_threshold)
        |log().prefix('WHERE')
    |eval(eval)
        .as('count')
    |httpOut('count')
"""
# The vars of TestServer_StreamTemplateTask_AllTypes as the Go client encodes them.
ALL_TYPES_VARS = """{
 "bool": {"type": "bool", "value": true, "description": ""},
 "count_threshold": {"type": "int", "value": 1, "description": ""},
 "value_threshold": {"type": "float", "value": 1, "description": ""},
 "window": {"type": "duration", "value": 10000000000, "description": ""},
 "field": {"type": "string", "value": "value", "description": ""},
 "tagMatch": {"type": "regex", "value": "^a.*", "description": ""},
 "match": {"type": "lambda", "value": "\\"value\\" == 1.0", "description": ""},
 "eval": {"type": "lambda", "value": "\\"count\\" * 2", "description": ""},
 "groups": {"type": "list", "value": [{"type": "star", "value": null, "description": ""}], "description": ""},
 "secondGroup": {"type": "list", "value": [{"type": "string", "value": "tag", "description": ""}],
                 "description": ""}
}"""


def test_all_types_template() -> None:
    prog = parse(ALL_TYPES)
    assert task_type(prog) == "stream"
    assert build_error(ALL_TYPES) == 'missing value for var "bool".'
    declared = encode_vars(declared_vars(prog))
    assert declared == {name: {"type": t, "value": None, "description": ""} for name, t in [
        ("bool", "bool"), ("count_threshold", "int"), ("value_threshold", "float"), ("window", "duration"),
        ("field", "string"), ("tagMatch", "regex"), ("match", "lambda"), ("eval", "lambda"), ("groups", "list"),
        ("secondGroup", "list")]}
    build(prog, decode_vars(json.loads(ALL_TYPES_VARS)))


def test_eval_all_types_defaults() -> None:
    # tick/eval_test.go TestEvaluate_Vars_AllTypes (a subset), as the API reports them
    prog = parse("""
var str = 'this is a string'
var strA = str + ' concat'
var strZero string
var strList = [ 'string list', str, strA, *]
var star = *
var integer = 42
var intergerMath = (integer * 2) - ( 6 * 9 ) + (36 / 3)
var float = 3.14
var intFloat = int(sqrt(float)) * 3
var duration = 5m
var later = duration + 1m
var regex = /.*/
var boolean = TRUE
var f = boolean AND FALSE
var lambda = lambda: "value" > 0
var l = lambda: lambda OR "value" < -100
stream|from()
""")
    got = {k: (v.type, v.value) for k, v in declared_vars(prog).items()}
    assert got == {
        "str": ("string", "this is a string"),
        "strA": ("string", "this is a string concat"),
        "strZero": ("string", None),
        "strList": ("list", [Var("string", "string list"), Var("string", "this is a string"),
                             Var("string", "this is a string concat"), Var("star", {"typeOf": "star"})]),
        "star": ("star", {"typeOf": "star"}),
        "integer": ("int", 42),
        "intergerMath": ("int", 42),
        "float": ("float", 3.14),
        "intFloat": ("int", 3),
        "duration": ("duration", 300_000_000_000),
        "later": ("duration", 360_000_000_000),
        "regex": ("regex", ".*"),
        "boolean": ("bool", True),
        "f": ("bool", False),
        "lambda": ("lambda", '"value" > 0'),
        "l": ("lambda", 'lambda: "value" > 0 OR "value" < -100'),
    }


def test_eval_type_conversions() -> None:
    # tick/eval_test.go TestEvaluate_Vars_TypeConversion
    prog = parse("""
var d = 5m
var messageDuration = '{{ .ID }} has crossed threshold: ' + string(d)
var x = 5
var messageInt = '{{ .ID }} has crossed threshold: ' + string(x)
var y = 1.0 / 3.0
var messageFloat = '{{ .ID }} has crossed threshold: ' + string(y)
var z = FALSE
var messageBool = '{{ .ID }} is: ' + string(z)
stream|from()
""")
    got = {k: v.value for k, v in declared_vars(prog).items()}
    assert got["messageDuration"] == "{{ .ID }} has crossed threshold: 5m"
    assert got["messageInt"] == "{{ .ID }} has crossed threshold: 5"
    assert got["messageFloat"] == "{{ .ID }} has crossed threshold: 0.3333333333333333"
    assert got["messageBool"] == "{{ .ID }} is: false"


def test_lambda_defaults_resolve_other_vars() -> None:
    prog = parse("var t = 42\nvar p = 1m\nvar c = lambda: \"value\" > t AND \"d\" < p\nstream|from()")
    assert declared_vars(prog)["c"].value == '"value" > 42 AND "d" < 1m'


@pytest.mark.parametrize(("overrides", "error"), [
    ({"x": Var("string", "a")}, "invalid type supplied for x, got string exp int"),
    ({"x": Var("bool", True)}, "invalid type supplied for x, got boolean exp int"),
    ({"r": Var("regex", "(")}, "invalid var r: invalid regex pattern: error parsing regexp: missing closing ): `(`"),
    ({"l": Var("lambda", '"a" >')},
     'invalid var l: invalid lambda expression: parser: unexpected EOF line 1 char 6 in ""a" >". expected: '
     '"number","string","duration","identifier","TRUE","FALSE","==","(","-","!"'),
])
def test_override_errors(overrides: dict[str, Var], error: str) -> None:
    assert build_error("var x = 5\nvar f float\nstream|from()", overrides) == error


def test_overrides_replace_defaults_and_extra_vars_are_ignored() -> None:
    prog = parse("var x = 5\nvar f float\nstream|from()|where(lambda: \"v\" > x AND \"w\" < f)")
    build(prog, {"x": Var("int", 7), "f": Var("float", 1.5), "unused": Var("string", "z")})
