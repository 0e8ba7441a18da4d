"""Mock-only control routes that put the whole state in a known place: `/mock/reset`, `/mock/seed`.

They serve tests that run the mock as a process (the in-process fixture in `mockserver.testing`
calls the same state methods directly). With `--auth` they need an administrator's credentials,
checked by the same code as every API request.
"""

from __future__ import annotations

from mockserver import auth
from mockserver.errors import AuthFailure, BadRequest
from mockserver.operations.registry import Call, Reply, control
from mockserver.store import backup


def _require_admin(call: Call) -> None:
    """AuthFailure (401/403) unless an administrator (or anyone, with auth off) asks."""
    auth.verify_request(call.req, call.state, call.config, call.path)
    user = auth.request_user(call.req, call.state, call.config)
    if not user.admin:
        raise AuthFailure(403, f"user {user.name} is not an administrator: {call.path} changes the whole state")


@control("POST", "/mock/reset")
def reset_state(call: Call) -> Reply:
    """Empty every store (with --auth the bootstrap administrator is re-created); 204."""
    _require_admin(call)
    call.state.reset()
    return Reply(204)


@control("POST", "/mock/seed")
def seed_state(call: Call) -> Reply:
    """Replace the whole state with a backup (the body of `GET /kapacitor/v1/storage/backup`);
    the backup is checked object by object first, and a bad one changes nothing (400)."""
    _require_admin(call)
    try:
        snapshot = backup.loads(call.body())
    except backup.BackupError as exc:
        raise BadRequest(str(exc)) from None
    call.state.replace(snapshot)
    return Reply(204)
