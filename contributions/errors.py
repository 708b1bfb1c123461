class ContributionError(Exception):
    """A rule of the program refused the change; the message is for the member or the staff member."""
