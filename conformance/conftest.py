"""Loads the plugin when the suite runs from a checkout without `-p conformance.plugin`.

When the plugin is already active (CLI, `-p`, or the installed `pytest11` entry point) this module
defines nothing, so no hook runs twice.
"""

import sys

if "conformance.plugin" not in sys.modules:  # pragma: no cover - depends on how pytest was started
    from conformance.plugin import *  # noqa: F403
    from conformance.plugin import kap, kapacitor, pools, world  # noqa: F401
