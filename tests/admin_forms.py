"""Post an admin change form as staff would: what the admin rendered, with a few fields typed in."""


def admin_form_data(client, url: str, **changes) -> dict[str, str]:
    """The form at `url` as rendered (inline formsets posted empty, so existing rows stay) + `changes`."""
    context = client.get(url).context
    form = context["adminform"].form
    data: dict[str, str] = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)  # on an add page, the model field's default
        value = value() if callable(value) else value
        if value is None or value is False:
            continue
        if hasattr(value, "hour"):  # the admin's split date / time widget
            data[f"{name}_0"] = value.strftime("%Y-%m-%d")
            data[f"{name}_1"] = value.strftime("%H:%M:%S")
        elif hasattr(value, "strftime"):
            data[name] = value.strftime("%Y-%m-%d")
        elif hasattr(field, "queryset"):
            data[name] = str(getattr(value, "pk", value))
        else:
            data[name] = str(value)
    for inline in context.get("inline_admin_formsets", []):
        prefix = inline.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update({k: str(v) for k, v in changes.items()})
    data["_save"] = "Save"
    return data
