"""What this tool is: its version, the spec it checks against (version and hash), the Kapacitor
versions it has expectations for. Recorded in every report so two runs can be compared honestly."""

from __future__ import annotations

import functools
import hashlib
import re
from typing import Any

from conformance import __version__

#: Kapacitor releases whose behaviour the suite knows. Older targets get the 1.5 expectations,
#: unknown ones (e.g. `testServer`) the newest; the gates are in conformance/context.py.
KAPACITOR_VERSIONS = ("1.5", "1.6", "1.6.2", "1.8")
#: The releases the suite was run against for real (see conformance/README.md).
VERIFIED_AGAINST = ("1.5.7",)


@functools.cache
def spec_info() -> dict[str, str]:
    """`info.version` and a SHA-256 of `spec/kapacitor-v1.yaml`, read without parsing the whole YAML."""
    import spec

    data = spec.SPEC_PATH.read_bytes()
    match = re.search(rb"^info:\s*\n(?:[ \t]+.*\n)*?[ \t]+version:\s*['\"]?([^'\"\s]+)", data, re.MULTILINE)
    return {"spec_version": match.group(1).decode() if match else "unknown",
            "spec_sha256": hashlib.sha256(data).hexdigest()}


def tool_info() -> dict[str, Any]:
    return {"tool": "kapacitor-conformance", "tool_version": __version__, **spec_info(),
            "kapacitor_versions": list(KAPACITOR_VERSIONS)}


def version_text() -> str:
    s = spec_info()
    return (f"kapacitor-conformance {__version__}\n"
            f"spec: Kapacitor HTTP API v1, info.version {s['spec_version']} (sha256 {s['spec_sha256'][:16]})\n"
            f"Kapacitor versions known: {', '.join(KAPACITOR_VERSIONS)} (checked against a real "
            f"{', '.join(VERIFIED_AGAINST)}; older targets get 1.5 expectations, unknown versions the newest)")
