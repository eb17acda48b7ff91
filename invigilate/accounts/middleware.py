from django.utils.functional import SimpleLazyObject

from .selectors import candidate_session_get
from .services import session_touch

SESSION_ID_KEY = "candidate_session_id"


def _load(request):
    session = candidate_session_get(
        session_id=request.session.get(SESSION_ID_KEY), session_key=request.session.session_key
    )
    if session is not None:
        session_touch(session=session)
    return session


class CandidateSessionMiddleware:
    """Sets ``request.candidate_session``: the open CandidateSession of this browser, or None."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.candidate_session = SimpleLazyObject(lambda: _load(request))
        return self.get_response(request)
