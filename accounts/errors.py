from mahome.errors import DomainError


class AccountError(DomainError):
    """A rule of the program refused the change to an account; the message is for the person who asked."""
