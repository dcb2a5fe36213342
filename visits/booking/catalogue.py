"""The services citizens can book: the one lookup of an active service by its slug, which
the public pages, the API and the slot cache all use."""

from __future__ import annotations

from sqlalchemy import select

from visits.booking import combination
from visits.core import slugs
from visits.extensions import db
from visits.models import Service


def active_service(slug: str | None) -> Service | None:
    """The active service with this slug; None for an inactive or unknown one, and for
    anything that is not a slug at all (no query is made for it)."""
    if not slugs.is_slug(slug):
        return None
    return db.session.scalar(select(Service).where(Service.slug == slug, Service.active.is_(True)))


def combinable_with(service: Service) -> list[Service]:
    """The active services a citizen may add to ``service`` in one appointment: when the
    admin marked it combinable, the department's other combinable services that share a
    way to meet with it (on site, video, phone), by name."""
    if not service.combinable:
        return []
    found = list(
        db.session.scalars(
            select(Service)
            .where(
                Service.active.is_(True),
                Service.combinable.is_(True),
                Service.department_id == service.department_id,
                Service.id != service.id,
            )
            .order_by(Service.name_de, Service.id)
        )
    )
    return [other for other in found if combination.share_a_mode([service, other])]
