from mahome.errors import DomainError


class ContributionError(DomainError):
    """A rule of the program refused the change; the message is for the member or the staff member."""
