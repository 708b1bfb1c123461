"""Cells that staff open in a spreadsheet: no member-written text may become a formula.

A member can write anything into their name or a reason; Excel and LibreOffice evaluate a cell
that begins with = + - @ (and tab or carriage return, which some importers strip first), so one
`=HYPERLINK(...)` in a first name would run in the admin's CSV or XLSX report. Every export, the
import-export resources and the hand-written CSV/XLSX writers, passes its cells through
`formula_safe` (OWASP "CSV injection": prefix a single quote so the cell is read as text).
"""

from typing import Any

from django.utils.translation import gettext as _
from import_export import resources

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: Any) -> Any:
    """The value, with a leading single quote when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def nul_cell_errors(row) -> dict[str, list[str]]:
    """An error per cell of an imported row that holds NUL (0x00), which PostgreSQL text cannot store.

    Forms refuse it already (Django's ProhibitNullCharactersValidator); a file's cell would otherwise
    reach the database and fail the whole import instead of being reported on its row.
    """
    return {
        str(column): [_("This cell contains an invisible NUL character (0x00); remove it and import again.")]
        for column, value in row.items()
        if isinstance(value, str) and "\x00" in value
    }


class FormulaSafeResource(resources.Resource):
    """Base of every import-export resource of the project: each exported cell is formula-safe."""

    def export_field(self, field, instance, **kwargs):
        return formula_safe(super().export_field(field, instance, **kwargs))


class FormulaSafeModelResource(FormulaSafeResource, resources.ModelResource):
    pass
