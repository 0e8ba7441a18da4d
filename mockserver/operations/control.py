"""Mock-only control routes that put the whole state in a known place: `/mock/reset`, `/mock/seed`.

They serve tests that run the mock as a process (the in-process fixture in `mockserver.testing`
calls the same state methods directly). With `--auth` they need an administrator's credentials,
checked by the same code as every API request.
"""

from __future__ import annotations

from mockserver import auth
from mockserver.errors import BadRequest
from mockserver.operations.registry import Call, Reply, control
from mockserver.store import backup


def _admin_failure(call: Call) -> Reply | None:
    """401/403 in the API's auth-failure format unless an administrator (or auth is off) asks."""
    failure = auth.check_request(call.req, call.state, call.config, call.path)
    if failure is not None:
        return Reply(failure[0], raw=failure[1])
    user = auth.request_user(call.req, call.state, call.config)
    if not user.admin:
        message = f"user {user.name} is not an administrator: {call.path} changes the whole state"
        return Reply(403, raw=auth.failure_body(message, call.config.at_least_1_6))
    return None


@control("POST", "/mock/reset")
def reset_state(call: Call) -> Reply:
    """Empty every store (with --auth the bootstrap administrator is re-created); 204."""
    denied = _admin_failure(call)
    if denied is not None:
        return denied
    call.state.reset()
    return Reply(204)


@control("POST", "/mock/seed")
def seed_state(call: Call) -> Reply:
    """Replace the whole state with a backup (the body of `GET /kapacitor/v1/storage/backup`);
    the backup is checked object by object first, and a bad one changes nothing (400)."""
    denied = _admin_failure(call)
    if denied is not None:
        return denied
    try:
        snapshot = backup.loads(call.body())
    except backup.BackupError as exc:
        raise BadRequest(str(exc)) from None
    call.state.replace(snapshot)
    return Reply(204)
