from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect


def role_required(*roles: str):
    """Staff view for users of one of ``roles`` (exam admins pass every check)."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not (request.user.is_exam_admin or request.user.role in roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def candidate_required(view):
    """Candidate view: needs an open CandidateSession, else back to the sign-in page."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.candidate_session:
            return redirect("accounts:candidate_login")
        return view(request, *args, **kwargs)

    return wrapped
