"""Kapacitor HTTP API conformance suite: a pytest plugin plus the checks, runnable against any target.

Run it with `kapacitor-conformance --target http://host:9092`, or `pytest --pyargs conformance
--target ...`; without a target it checks the embedded reference mock.
"""

__version__ = "0.1.0"
