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


def phone_group(registration_id: int) -> str:
    """The paired phone's evidence page of one candidate (its own socket, not the PC's)."""
    return f"phone.{registration_id}"


def device_group(registration_id: int, source: str) -> str:
    """The pages of one of a candidate's devices: ``source`` is "pc" or "phone"."""
    return phone_group(registration_id) if source == "phone" else candidate_group(registration_id)


def helpdesk_group(exam_id: int) -> str:
    """The technicians of one exam."""
    return f"helpdesk.{exam_id}"


def user_group(user_id: int) -> str:
    """Every socket of one member of staff (closing them on logout or unassignment)."""
    return f"user.{user_id}"
