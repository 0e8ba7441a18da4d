"""The check modules: one or more `test_<area>.py` per area of `conformance.checks.AREAS`.

Everything else in `conformance` is the library the checks are written with (the pytest plugin,
the HTTP client, reports); nothing outside this package imports a check module, except the
project's own tests of the suite.
"""
