"""What simple-history reads from a model instance when it writes the history row of a save.

A service that saves a model with `history = HistoricalRecords()` sets `_history_user` (who made the
change) and, when there is one, `_change_reason` on the instance first. simple-history ships no types,
so the models with history list `HistoryAttribution` among their bases to declare the two attributes.
"""

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connections
from django.db.models import Model
from django.db.models.sql import InsertQuery
from django.utils import timezone
from django.utils.functional import Promise
from simple_history.utils import get_change_reason_from_object


class HistoryAttribution:
    """Declares the attributes simple-history reads on save; it adds nothing at run time."""

    _history_user: AbstractBaseUser | None
    _change_reason: str | Promise | None


def insert_with_history(instance: Model, *, using: str = "default") -> None:
    """INSERT a new `instance` and its history row ("+") in one statement, as `save()` would write both.

    `save()` writes the history row from simple-history's `post_save` receiver: a second round trip,
    and ~1 ms of Python building and saving a historical instance. Here one data-modifying CTE inserts
    the row as Django's own INSERT compiler renders it (`pre_save`: auto dates and the like) and copies
    it, as written, into the history table with the date, user (`_history_user`, which must be set)
    and reason (`_change_reason`) simple-history would record. No `post_save` is sent (the models this
    is used for have no receiver but simple-history's, whose row is written here).
    """
    model = type(instance)
    if connections[using].vendor != "postgresql" or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        instance.save(using=using)  # SQLite (the laptop's run) has no data-modifying CTE; or no history at all
        return
    history_model = getattr(model, getattr(model._meta, "simple_history_manager_attribute", "history")).model
    tracked = {field.attname: field.column for field in history_model.tracked_fields}
    if model._meta.pk.attname not in tracked or not hasattr(instance, "_history_user"):
        raise ValueError(f"{model.__name__}: its primary key must be tracked and _history_user set")
    user = instance._history_user
    extra = {
        "history_date": getattr(instance, "_history_date", timezone.now()),
        "history_change_reason": get_change_reason_from_object(instance),
        "history_type": "+",
        "history_user_id": user.pk if user is not None else None,
    }
    query = InsertQuery(model)
    query.insert_values([f for f in model._meta.local_concrete_fields if not f.primary_key], [instance])
    compiler = query.get_compiler(using=using)
    [(insert_sql, insert_params)] = compiler.as_sql()
    quote = connections[using].ops.quote_name
    columns, selected, params = [], [], list(insert_params)
    for field in history_model._meta.concrete_fields:
        if field.attname in tracked:
            columns.append(quote(field.column))
            selected.append(f"s.{quote(tracked[field.attname])}")
        elif field.attname in extra:
            columns.append(quote(field.column))
            selected.append("%s")
            params.append(field.get_db_prep_save(extra[field.attname], connections[using]))
        elif field.attname != "history_id":
            raise ValueError(f"{history_model.__name__}.{field.attname}: a history column this does not write")
    # Names from the models' meta, quoted; every value is a parameter.
    sql = (
        f"WITH s AS ({insert_sql} RETURNING *) "  # noqa: S608
        f"INSERT INTO {quote(history_model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(selected)} FROM s RETURNING {quote(model._meta.pk.column)}"
    )
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        (pk,) = cursor.fetchone()
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = using
