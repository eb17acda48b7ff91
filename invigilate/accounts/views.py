from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from .forms import CandidateLoginForm, StaffLoginForm
from .middleware import SESSION_ID_KEY
from .models import CandidateSession, Role
from .selectors import exam_list_for_staff, room_list_for_invigilator
from .services import CandidateLoginRefused, candidate_login, session_end

# Each role's home page; later features register their own URL names here.
ROLE_HOMES = {
    Role.INVIGILATOR: "proctoring:home",
    Role.SUPERVISOR: "supervision:home",
    Role.TECHNICIAN: "helpdesk:home",
    Role.REVIEWER: "review:home",
    Role.EXAM_ADMIN: "admin:index",
}


def client_address(request) -> str | None:
    # Behind nginx, daphne is started with --proxy-headers, so REMOTE_ADDR is the client's.
    return request.META.get("REMOTE_ADDR")


def landing(request):
    if request.user.is_authenticated:
        return redirect("accounts:home")
    if request.candidate_session:
        return redirect("accounts:candidate_home")
    return redirect("accounts:candidate_login")


class StaffLoginView(auth_views.LoginView):
    template_name = "accounts/staff_login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True


@login_required
def staff_home(request):
    user = request.user
    if user.is_superuser and not user.role:
        return redirect("admin:index")
    try:
        target = reverse(ROLE_HOMES[user.role])
    except (KeyError, NoReverseMatch):
        target = None
    if target and target != request.path:
        return redirect(target)
    context = {
        "rooms": room_list_for_invigilator(user=user) if user.role == Role.INVIGILATOR else [],
        "exams": exam_list_for_staff(user=user),
    }
    return render(request, "accounts/staff_home.html", context)


def candidate_login_view(request):
    if request.candidate_session:
        return redirect("accounts:candidate_home")
    form = CandidateLoginForm(request.POST or None)
    refusal = None
    if request.method == "POST" and form.is_valid():
        if not request.session.session_key:
            request.session.save()
        else:
            request.session.cycle_key()  # new key on sign-in: no session fixation
        try:
            session = candidate_login(
                id_number=form.cleaned_data["id_number"],
                ticket_number=form.cleaned_data["ticket_number"],
                session_key=request.session.session_key,
                address=client_address(request),
                user_agent=request.headers.get("User-Agent", ""),
            )
        except CandidateLoginRefused as error:
            refusal = error
        else:
            request.session[SESSION_ID_KEY] = session.pk
            return redirect("accounts:candidate_home")
    status = 400 if refusal else 200
    return render(request, "accounts/candidate_login.html", {"form": form, "refusal": refusal}, status=status)


@require_POST
def candidate_logout(request):
    session = request.candidate_session
    if session:
        session_end(session=session, reason=CandidateSession.EndReason.LOGOUT)
    request.session.flush()
    return redirect("accounts:candidate_login")


def candidate_home(request):
    """The candidate's page; the candidate-journey feature replaces this with the exam flow."""
    if not request.candidate_session:
        return redirect("accounts:candidate_login")
    try:
        return redirect(reverse("exams:journey"))
    except NoReverseMatch:
        return render(request, "accounts/candidate_home.html", {"registration": request.candidate_session.registration})
