"""Cells that staff open in a spreadsheet: no member-written text may become a formula.

A member can write anything into their name or a reason; Excel and LibreOffice evaluate a cell
that begins with = + - @ (and tab or carriage return, which some importers strip first), so one
`=HYPERLINK(...)` in a first name would run in the admin's CSV or XLSX report. Every export, the
import-export resources and the hand-written CSV/XLSX writers, passes its cells through
`formula_safe` (OWASP "CSV injection": prefix a single quote so the cell is read as text).
"""

from typing import Any

from import_export import resources

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: Any) -> Any:
    """The value, with a leading single quote when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class FormulaSafeResource(resources.Resource):
    """Base of every import-export resource of the project: each exported cell is formula-safe."""

    def export_field(self, field, instance, **kwargs):
        return formula_safe(super().export_field(field, instance, **kwargs))


class FormulaSafeModelResource(FormulaSafeResource, resources.ModelResource):
    pass
