"""The mock inside your own tests: a pytest fixture and a context manager / decorator.

    from mockserver.testing import mock_kapacitor

    with mock_kapacitor(version="1.5.9") as k:      # a real HTTP server on a free loopback port
        client = MyKapacitorClient(k.url)          # http://127.0.0.1:<port>
        ...
        k.reset()                                  # empty again
        k.seed("backup.db")                        # a backup from GET /kapacitor/v1/storage/backup
        assert "cpu" in k.state.tasks.tasks        # look at the state directly

    @mock_kapacitor()                              # KAPACITOR_URL points at the mock inside
    def test_something(): ...

With pytest the plugin (registered as `mockserver.testing` through the `pytest11` entry point, or
by `pytest_plugins = ["mockserver.testing"]` in a root conftest.py — the same name, so both never
clash) provides the `kapacitor_mock` fixture: a fresh mock per
test, configured by `@pytest.mark.kapacitor_mock(version="1.6.2", auth=True)`. The plugin does
nothing else and imports the server only when the fixture is used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ContextDecorator
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:  # the context manager works without pytest; the fixture needs it
    import pytest
except ImportError:  # pragma: no cover
    pytest = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from mockserver.app import MockApp
    from mockserver.config import MockConfig
    from mockserver.server import ServerHandle
    from mockserver.store import MockState

#: Environment variable the decorator form sets for the code under test (the suite reads it too).
URL_VARIABLE = "KAPACITOR_URL"


class MockKapacitor(ContextDecorator):
    """One mock server in a background thread; a context manager, a decorator, or start()/stop()."""

    def __init__(
        self,
        version: str | None = None,
        *,
        auth: bool = False,
        flux_tasks: bool = False,
        seed: bytes | str | os.PathLike[str] | None = None,
        threads: int = 4,
        **options: Any,
    ) -> None:
        from mockserver.config import DEFAULT_VERSION, MockConfig

        self.config: MockConfig = MockConfig(
            kapacitor_version=version or DEFAULT_VERSION, auth=auth, flux_tasks=flux_tasks, **options
        )
        self._seed = seed
        self._threads = threads
        self._handle: ServerHandle | None = None
        self._app: MockApp | None = None
        self._saved_url: str | None = None

    # ---- life cycle -----------------------------------------------------------------------------

    def start(self) -> MockKapacitor:
        from mockserver.app import create_app
        from mockserver.server import serve_in_thread

        if self._handle is not None:
            raise RuntimeError("this mock is already running")
        self._app = create_app(self.config)
        if self._seed is not None:
            self.seed(self._seed)
        self._handle = serve_in_thread(self._app, threads=self._threads)
        return self

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.stop()
            self._handle = None

    def __enter__(self) -> MockKapacitor:
        self.start()
        self._saved_url = os.environ.get(URL_VARIABLE)
        os.environ[URL_VARIABLE] = self.url
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved_url is None:
            os.environ.pop(URL_VARIABLE, None)
        else:
            os.environ[URL_VARIABLE] = self._saved_url
        self.stop()

    # ---- what a test uses -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`; the API is under `/kapacitor/v1`."""
        if self._handle is None:
            raise RuntimeError("the mock is not running")
        return self._handle.url

    @property
    def state(self) -> MockState:
        """The live state (stores by family) for assertions; change it through HTTP, not here."""
        if self._app is None:
            raise RuntimeError("the mock is not running")
        return self._app.mock_state

    def reset(self) -> None:
        """Forget everything (with auth the bootstrap administrator is back), like `POST /mock/reset`."""
        self.state.reset()

    def seed(self, backup: bytes | str | os.PathLike[str]) -> None:
        """Replace the state with a backup (bytes, or a file path) taken from `GET .../storage/backup`
        of a mock; it is checked object by object first (BackupError, state unchanged)."""
        from mockserver.store.backup import load_file, loads

        snapshot = loads(backup) if isinstance(backup, bytes) else load_file(os.fspath(backup))
        self.state.replace(snapshot)

    def backup(self) -> bytes:
        """The current state as a backup file's bytes (what `seed()` takes back)."""
        from mockserver.store.backup import dumps

        return dumps(self.state.snapshot(), kapacitor_version=self.config.kapacitor_version)

    def save(self, path: str | os.PathLike[str]) -> Path:
        out = Path(path)
        out.write_bytes(self.backup())
        return out


def mock_kapacitor(version: str | None = None, **options: Any) -> MockKapacitor:
    """`with mock_kapacitor(version="1.5.9", auth=False) as k:` or `@mock_kapacitor()` (moto style)."""
    return MockKapacitor(version, **options)


# ---- the pytest plugin -----------------------------------------------------------------------------


if pytest is not None:

    def pytest_configure(config: pytest.Config) -> None:
        config.addinivalue_line(
            "markers",
            "kapacitor_mock(version=None, auth=False, flux_tasks=False, seed=None, ...): options of the "
            "kapacitor_mock fixture's server",
        )

    @pytest.fixture
    def kapacitor_mock(request: pytest.FixtureRequest) -> Iterator[MockKapacitor]:
        """A fresh mock Kapacitor on a free loopback port for one test (see the module docstring)."""
        marker = request.node.get_closest_marker("kapacitor_mock")
        options = dict(marker.kwargs) if marker else {}
        with mock_kapacitor(**options) as mock:
            yield mock
