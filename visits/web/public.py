"""Pages for citizens: the service catalogue (the booking journey is built on it)."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from ..extensions import db
from ..models import Service

bp = Blueprint("public", __name__)


@bp.get("/")
def index():
    services = db.session.scalars(
        select(Service).where(Service.active.is_(True)).order_by(Service.name_de)
    ).all()
    return render_template("public/index.html", services=services)
