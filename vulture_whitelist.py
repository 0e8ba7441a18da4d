"""Names vulture reports as unused that are used, kept for vulture (`tox -e lint`).

Hooks, fixtures, responders and route handlers are found by their decorators or names (see
`[tool.vulture]` in pyproject.toml); what is left here is used in a way vulture cannot see:
by pytest, hypothesis, Falcon or waitress through attributes, by the project's tests only, or by
a signature that a caller fixes. Each line says which. Candidates for removal that live in code
another change is rewriting are listed at the end, so the gate stays green until they go.
"""

# ruff: noqa
# mypy: ignore-errors

from conformance import crashers, target
from conformance.areas import test_schema
from mockserver import auth, coverage, keepalive
from mockserver.store import config_sections, fluxtasks, lineprotocol
from spec import ids

# -- attributes set on objects of pytest, hypothesis, Falcon and waitress
_.shouldstop  # pytest.Session: stops the run at the next test
_.collectonly  # pytest config.option
_.global_force_seed  # hypothesis settings
_.strip_url_path_trailing_slash  # falcon.RequestOptions
_.keep_blank_qs_values  # falcon.RequestOptions
_.default_media_type  # falcon.ResponseOptions
keepalive.task_class  # waitress server attribute
_.iterencode  # json.JSONEncoder override, called by json.dumps
_.parse_string  # json.JSONDecoder attribute, read by json.scanner.py_make_scanner
_.scan_once  # json.JSONDecoder attribute, called by raw_decode

# -- parameters a caller fixes
nextitem  # pytest_runtest_protocol hook argument
test_schema.response  # schemathesis' validate_response signature

# -- read by the project's tests or documentation only, on purpose
crashers.KNOWN_CRASHERS  # the catalogue of inputs that crash a real server (tests/conformance/test_fuzz_safety.py)
crashers.Crasher.trigger  # a catalogue field, read by the test above
target.Client.post  # the client's verb methods are one set (get/post/put/patch/delete) for check writers
auth.make_token  # signs tokens for the auth tests
coverage.BEGIN  # README markers, read by tests/unit/test_coverage_table.py
coverage.END
lineprotocol.parse_points  # whole-body parse: the parser's test entry (the server path streams with iter_chunks)
ids.FORMATS  # format predicates the spec tests validate examples with
_.internal_errors  # a counter the mock's tests assert stays 0
_.written  # points accepted by the point store, asserted by tests/mock/test_write.py
fluxtasks.FluxTask.latest_scheduled  # serialized by field name (store/backup_schema.py)
fluxtasks.FluxTask.latest_failure
config_sections.Option.untagged  # records that the Go field has no `override` tag (data, not logic)

# -- candidates for removal, left to the change that is rewriting their module
_.Unauthorized  # mockserver/errors.py: no code raises a 401 through it
_.Unprocessable  # mockserver/errors.py: nothing answers 422
_.log_level  # mockserver/operations/system.py: set by setLogLevel, never read (the API cannot read it back)
