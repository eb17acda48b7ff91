"""Where live alerts listen to other apps: refused second logins, lost assignments, sign-out."""

from django.contrib.auth.signals import user_logged_out

from invigilate.accounts import services as account_services
from invigilate.exams import services as exam_services
from invigilate.realtime.events import event_build
from invigilate.realtime.groups import user_group
from invigilate.realtime.publish import group_send_now, publish_on_commit


def second_login_refused(refusal) -> None:
    """Called inside the refusing transaction: the alert commits (or not) with it."""
    from .services import signal_record

    signal_record(registration=refusal.registration, kind="second_login", source="server")


def assignment_removed(*, user_id: int, room_id: int | None, exam_id: int) -> None:
    # Each of the user's dashboards re-checks whether it may still watch its room.
    publish_on_commit(user_group(user_id), "assignment.removed", room_id=room_id, exam_id=exam_id)


def staff_signed_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        group_send_now(user_group(user.pk), event_build("session.revoked", reason="logout"))


def connect() -> None:
    if second_login_refused not in account_services.second_login_listeners:
        account_services.second_login_listeners.append(second_login_refused)
    if assignment_removed not in exam_services.assignment_removed_listeners:
        exam_services.assignment_removed_listeners.append(assignment_removed)
    user_logged_out.connect(staff_signed_out, dispatch_uid="proctoring.staff_signed_out")
