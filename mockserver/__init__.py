"""Reference mock of the Kapacitor HTTP API.

Layers, outermost first: `app`/`routing` (Falcon, bound to the spec's operationIds) →
`operations` (parse a request, call the store, render) → `store` (framework-free state) →
`tickscript` (the TICKscript engine).
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
