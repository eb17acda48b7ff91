"""Who is on the other end of a websocket, from the Django session in its scope."""

from channels.db import database_sync_to_async

from invigilate.accounts.middleware import SESSION_ID_KEY
from invigilate.accounts.selectors import candidate_session_get


@database_sync_to_async
def candidate_session_from_scope(scope):
    session = scope.get("session")
    if session is None:
        return None
    return candidate_session_get(session_id=session.get(SESSION_ID_KEY), session_key=session.session_key)


def staff_user_from_scope(scope):
    user = scope.get("user")
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return user
