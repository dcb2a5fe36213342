"""API keys for the portals that book through the API: the list, a new one (its secret
shown once), revoking one."""

from __future__ import annotations

from flask_babel import gettext

from visits.admin import api_keys
from visits.core import clock
from visits.models import ApiKey
from visits.web.admin import bp, forms
from visits.web.admin.access import admin_required
from visits.web.admin.pages import done, me, pressed, with_buttons


@bp.route("/api-keys", methods=["GET", "POST"])
@admin_required
def api_key_list():
    form = forms.ApiKeyForm()
    plain = None
    if form.validate_on_submit():
        _key, plain = api_keys.create(form.name.data, me(), now=clock.now())
        form = forms.ApiKeyForm(formdata=None)
    page = with_buttons("admin/api_keys.html", form=form, keys=api_keys.all_keys(), plain=plain)
    return page, (422 if form.errors else 200)


@bp.route("/api-keys/<int:key_id>/revoke", methods=["POST"])
@admin_required
def api_key_revoke(key_id: int):
    key = pressed(ApiKey, key_id)
    if key.active:
        api_keys.revoke(key, me(), now=clock.now())
    return done(gettext("The key “%(name)s” is revoked.", name=key.name), "admin.api_key_list")
