"""Email templates (subject and bodies, rendered later with artist fields)."""

from __future__ import annotations

from storage.models import EmailTemplate
from storage.repositories.base import ScopedRepository


class EmailTemplateRepository(ScopedRepository[EmailTemplate]):
    model = EmailTemplate
    noun = "email template"
    sortable = {"created_at": "created_at", "updated_at": "updated_at", "name": "name"}
    searchable = ("name",)
