"""Email templates, checked when saved, and their preview for a catalogue artist."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import TemplateType
from core.errors import FieldProblem, InvalidInput
from core.template_runner import TemplateRunner
from core.templating import (
    TEMPLATE_FIELDS,
    ArtistFields,
    CampaignFields,
    ContactFields,
    SenderFields,
    TemplateContext,
    template_variables,
    validate_template,
)
from serve.dependencies import ActivityDep, CurrentPrincipal, Editor, ResourcesDep, SessionDep
from serve.reads import cached
from serve.schemas.common import DEFAULT_LIMIT, Cursor, Limit, Page, Problem, page_of
from serve.schemas.outreach import (
    EmailTemplateCreate,
    EmailTemplateRead,
    EmailTemplateUpdate,
    PreviewRead,
    PreviewRequest,
    TemplateVariableRead,
)
from serve.security import Principal
from storage.repositories.artists import ArtistRepository
from storage.repositories.campaigns import CampaignRepository
from storage.repositories.contacts import ArtistContactRepository
from storage.repositories.email_templates import EmailTemplateRepository
from storage.repositories.users import UserRepository

router = APIRouter(prefix="/email-templates", tags=["email templates"])

# Stands in for the per-recipient link that sending mints; ``.invalid`` never resolves.
PREVIEW_UNSUBSCRIBE_URL = "https://unsubscribe.invalid/preview"

# Rendering waits for a free renderer process, and says so when none frees up in time.
RENDER_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {"model": Problem, "description": "Every template renderer stayed busy; try again"}
}

TemplateSort = Annotated[
    str,
    Query(pattern=r"^-?(created_at|updated_at|name)$", description="Field, '-' for descending."),
]


@router.get("", response_model=Page[EmailTemplateRead])
async def list_templates(
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
    q: Annotated[str | None, Query(max_length=200, description="Text in the name.")] = None,
    type_: Annotated[TemplateType | None, Query(alias="type", description="Only these.")] = None,
    sort: TemplateSort = "-created_at",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """List the workspace's email templates, filtered and sorted, a page at a time."""

    async def load() -> dict[str, object]:
        page = await EmailTemplateRepository(session, principal.workspace_id).search(
            type=type_, q=q, sort=sort, limit=limit, cursor=cursor
        )
        return page_of(page, EmailTemplateRead)

    key = f"list:{type_}:{q}:{sort}:{limit}:{cursor}"
    return await cached(resources, principal, "email_template", key, load)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EmailTemplateRead,
    responses=RENDER_RESPONSES,
)
async def create_template(
    body: EmailTemplateCreate,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
    resources: ResourcesDep,
) -> EmailTemplateRead:
    """Create an email template; a part that does not render, or breaks a rendering bound, is a
    422 naming it."""
    await _check_parts(resources.templates, body.model_dump(include=set(TEMPLATE_FIELDS)))
    _require_a_body(body.body_html, body.body_text)
    template = await EmailTemplateRepository(session, principal.workspace_id).create(
        **body.model_dump()
    )
    await activity.record(
        "email_template.create", "email_template", template.id, {"name": template.name}
    )
    return EmailTemplateRead.model_validate(template)


@router.get("/variables", response_model=list[TemplateVariableRead])
async def list_template_variables(principal: CurrentPrincipal) -> list[TemplateVariableRead]:
    """The variables a template may use, such as ``artist.name``."""
    return [TemplateVariableRead.model_validate(v) for v in template_variables()]


@router.get("/{template_id}", response_model=EmailTemplateRead)
async def get_template(
    template_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
) -> Any:
    """One email template."""

    async def load() -> dict[str, object]:
        template = await EmailTemplateRepository(session, principal.workspace_id).get(template_id)
        return EmailTemplateRead.model_validate(template).model_dump(mode="json")

    return await cached(resources, principal, "email_template", f"one:{template_id}", load)


@router.patch("/{template_id}", response_model=EmailTemplateRead, responses=RENDER_RESPONSES)
async def update_template(
    template_id: uuid.UUID,
    body: EmailTemplateUpdate,
    principal: Editor,
    session: SessionDep,
    activity: ActivityDep,
    resources: ResourcesDep,
) -> EmailTemplateRead:
    """Change some fields of an email template; changed parts are checked as on create."""
    changes = body.model_dump(exclude_unset=True)
    await _check_parts(
        resources.templates, {k: v for k, v in changes.items() if k in TEMPLATE_FIELDS}
    )
    repo = EmailTemplateRepository(session, principal.workspace_id)
    if changes.keys() & {"body_html", "body_text"}:
        current = await repo.get(template_id)
        _require_a_body(
            changes.get("body_html", current.body_html), changes.get("body_text", current.body_text)
        )
    template = await repo.update(template_id, changes)
    await activity.record(
        "email_template.update", "email_template", template_id, {"fields": sorted(changes)}
    )
    return EmailTemplateRead.model_validate(template)


@router.delete("/{template_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_template(
    template_id: uuid.UUID, principal: Editor, session: SessionDep, activity: ActivityDep
) -> Response:
    """Delete an email template; one used by an outreach campaign is a 409."""
    await EmailTemplateRepository(session, principal.workspace_id).delete(template_id)
    await activity.record("email_template.delete", "email_template", template_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{template_id}/preview", response_model=PreviewRead, responses=RENDER_RESPONSES)
async def preview_template(
    template_id: uuid.UUID,
    body: PreviewRequest,
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
) -> PreviewRead:
    """Render a template's subject and bodies for a catalogue artist, as sending would; parts
    given in the request (an unsaved draft) are rendered in place of the saved ones."""
    template = await EmailTemplateRepository(session, principal.workspace_id).get(template_id)
    draft = {
        part: source for part in TEMPLATE_FIELDS if (source := getattr(body, part)) is not None
    }
    if draft:
        _require_a_body(
            draft.get("body_html", template.body_html), draft.get("body_text", template.body_text)
        )
        validate_template(draft)
    context = await _preview_context(session, principal, body)
    # User-written code: rendered in a child process, bounded in time, memory and size.
    rendered = await resources.templates.render(template, context, overrides=draft)
    return PreviewRead(subject=rendered.subject, html=rendered.html, text=rendered.text)


async def _preview_context(
    session: AsyncSession, principal: Principal, body: PreviewRequest
) -> TemplateContext:
    artist = await ArtistRepository(session).get(body.artist_id)
    campaign_name = None
    if body.campaign_id is not None:
        campaign = await CampaignRepository(session, principal.workspace_id).get(body.campaign_id)
        campaign_name = campaign.name
    contact_email = body.contact_email
    if contact_email is None:
        contacts = await ArtistContactRepository(session, principal.workspace_id).for_artist(
            artist.id, limit=1
        )
        contact_email = contacts.items[0].email if contacts.items else None
    # The caller stands in for the sender an outreach campaign names.
    user = await UserRepository(session).get(principal.user_id)
    return TemplateContext(
        artist=ArtistFields.of(artist),
        contact=ContactFields(email=contact_email),
        campaign=CampaignFields(name=campaign_name),
        sender=SenderFields(name=user.display_name, email=user.email),
        unsubscribe_url=PREVIEW_UNSUBSCRIBE_URL,
    )


async def _check_parts(templates: TemplateRunner, parts: dict[str, str]) -> None:
    """The static checks first (fast, every problem at once), then a trial render, so that a
    template that breaks a bound is refused now rather than when it is previewed or sent."""
    validate_template(parts)
    await templates.check(parts)


def _require_a_body(body_html: str, body_text: str) -> None:
    if body_html.strip() or body_text.strip():
        return
    message = "a template needs body_html, body_text or both"
    raise InvalidInput(
        message, [FieldProblem("body_html", message), FieldProblem("body_text", message)]
    )
