"""Domain exceptions, translated to HTTP statuses or dead-letter reasons at the edges."""


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class InvalidTransition(DomainError):
    """An alert was asked to move to a state its lifecycle does not allow."""


class InvalidFrame(DomainError):
    """A payload is not a valid contract frame or robot state; ``reason`` is a short stable code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
