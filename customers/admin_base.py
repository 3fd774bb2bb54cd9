"""The Django admin as one more entry point: its saves and deletes call the services.

A ServiceModelAdmin names, for its model and for each inline model, three functions (create, update,
delete) that call the services; save_model, delete_model, delete_queryset (the "delete selected"
action) and save_formset (inlines) route every write through them, so the admin validates,
records the audit trail and marks metrics stale exactly like the pages and the API.

An update gets the row as stored (the form has already copied its values onto the instance it
edits, so a service comparing old and new would see no change) and only the fields the form changed.

The services' own rules (a survey's kind once invited, a customer referring themself, a dynamic
segment based on another...) become form errors: the form's clean() runs the write in a savepoint
that is always rolled back (with its audit rows and after-commit tasks) and shows its
ValidationError on the form, so a refused save is a page with the message, never a server error.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.forms import BaseModelFormSet, ModelForm
from django.http import HttpRequest

from customers.roles import users_with_a_role

# Foreign keys to users that staff set: only users with a role may be chosen.
ROLE_USER_FIELDS = frozenset({"owner", "staff", "assigned_to"})


@dataclass(frozen=True)
class Writes:
    """How the admin writes one model. `create(request, form, parent)` returns the saved row (parent:
    the inline's parent row, else None); `update(request, stored, changed_fields, form)` returns it too."""

    create: Callable[[HttpRequest, ModelForm, Model | None], Model]
    update: Callable[[HttpRequest, Model, dict[str, Any], ModelForm], Model]
    delete: Callable[[HttpRequest, Model], None]


def changed_fields(form: ModelForm, allowed: frozenset[str] | set[str] | None = None) -> dict[str, Any]:
    """The cleaned values of the fields the form changed (limited to `allowed` when given)."""
    return {
        name: form.cleaned_data[name]
        for name in form.changed_data
        if name in form.cleaned_data and (allowed is None or name in allowed)
    }


def form_values(form: ModelForm, names: frozenset[str] | set[str] | tuple[str, ...]) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in names if name in form.cleaned_data}


def _adopt(target: Model, saved: Model) -> None:
    """The admin keeps using the instance it built (messages, redirect, save_related): give it the saved row's state."""
    if saved is target:
        return
    target.__dict__.update({k: v for k, v in saved.__dict__.items() if k != "_state"})
    target._state.adding = False
    target._state.db = saved._state.db


class _DryRun(Exception):
    pass


def _show_errors(form: ModelForm, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def dry_run(form: ModelForm, write: Callable[[], Model]) -> None:
    """Run `write` and roll it back; its ValidationError (or PermissionError) becomes the form's errors."""
    try:
        with transaction.atomic():
            write()
            raise _DryRun
    except _DryRun:
        pass
    except ValidationError as error:
        _show_errors(form, error)


class ServiceWritesMixin:
    """Route the admin's writes through `writes` (the model) and `inline_writes` (inline models)."""

    writes: Writes
    inline_writes: dict[type[Model], Writes] = {}

    def get_form(self, request: HttpRequest, obj: Model | None = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        writes = self.writes

        class ServiceCheckedForm(form_class):  # type: ignore[misc, valid-type]
            def clean(self) -> dict[str, Any]:
                data = super().clean()
                if self.errors:
                    return data
                if self.instance.pk is not None:
                    stored = type(self.instance)._default_manager.get(pk=self.instance.pk)
                    dry_run(self, lambda: writes.update(request, stored, changed_fields(self), self))
                else:
                    dry_run(self, lambda: writes.create(request, self, None))
                return data

        return ServiceCheckedForm

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name in ROLE_USER_FIELDS:
            kwargs["queryset"] = users_with_a_role()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        if change:
            stored = type(obj)._default_manager.get(pk=obj.pk)
            saved = self.writes.update(request, stored, changed_fields(form), form)
        else:
            saved = self.writes.create(request, form, None)
        _adopt(obj, saved)

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: list, change: bool) -> None:
        # Many-to-many fields are the services' business too (tags, members): no form.save_m2m().
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        self.writes.delete(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            self.writes.delete(request, obj)

    def save_formset(self, request: HttpRequest, form: ModelForm, formset: BaseModelFormSet, change: bool) -> None:
        writes = self.inline_writes.get(formset.model)
        if writes is None:
            raise NotImplementedError(f"{type(self).__name__} has no service writes for {formset.model.__name__}")
        parent = form.instance
        deleted = set(map(id, formset.deleted_forms))
        # What the admin's change message reads (formset.save() would set these).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.deleted_forms:
            if inline_form.instance.pk is not None:
                stored = type(inline_form.instance)._default_manager.get(pk=inline_form.instance.pk)
                writes.delete(request, stored)
                formset.deleted_objects.append(stored)
        for inline_form in formset.forms:
            if id(inline_form) in deleted or not inline_form.has_changed():
                continue
            instance = inline_form.instance
            if instance.pk is not None:
                stored = type(instance)._default_manager.get(pk=instance.pk)
                saved = writes.update(request, stored, changed_fields(inline_form), inline_form)
                formset.changed_objects.append((saved, inline_form.changed_data))
            else:
                formset.new_objects.append(writes.create(request, inline_form, parent))


class ServiceModelAdmin(ServiceWritesMixin, admin.ModelAdmin):
    pass
