def candidate(request):
    session = getattr(request, "candidate_session", None)
    return {"candidate_session": session if session else None}
