"""Every Channels group name comes from here, so who receives what is decided in one place."""


def room_group(room_id: int) -> str:
    """The invigilators of one room (and supervisors dropped into it)."""
    return f"room.{room_id}"


def exam_group(exam_id: int) -> str:
    """The supervisors of one exam."""
    return f"exam.{exam_id}"


def candidate_group(registration_id: int) -> str:
    """Every page of one candidate (PC and phone)."""
    return f"candidate.{registration_id}"


def helpdesk_group(exam_id: int) -> str:
    """The technicians of one exam."""
    return f"helpdesk.{exam_id}"


def user_group(user_id: int) -> str:
    """Every socket of one member of staff (closing them on logout or unassignment)."""
    return f"user.{user_id}"
