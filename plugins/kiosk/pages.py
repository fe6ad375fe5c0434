"""The kiosk plugin's page: the counters of the wards in the user's scope."""

from sqlalchemy import func, select

from helpdesk_core import PageRequest, Redirect, Render, translator

from . import forms
from .tables import counters as counter_table

_ = translator(__name__).gettext


def counters(request: PageRequest, **_values):
    """List the counters of the wards in scope; staff and up add one (POST)."""
    form = request.bind(forms.CounterForm)
    form.ward.choices = [(str(w.id), w.name) for w in request.wards]
    if request.method == "POST" and form.validate():
        ward_id = int(form.ward.data)  # one of the choices: a ward in scope
        taken = request.session.scalar(select(counter_table.c.id).where(
            counter_table.c.ward_id == ward_id, counter_table.c.number == form.number.data))
        listed = request.session.scalar(select(func.count()).select_from(counter_table).where(
            counter_table.c.ward_id == ward_id))
        if taken is None and listed >= request.settings["max_counters"]:
            form.number.errors = list(form.number.errors) + [
                _("This ward already has %(count)s counters.", count=listed)]
        elif taken is None:
            request.session.execute(counter_table.insert().values(
                ward_id=ward_id, number=form.number.data, label=(form.label.data or "").strip()))
            request.session.commit()
            return Redirect("counters")
        else:
            form.number.errors = list(form.number.errors) + [_("This counter is already listed.")]
    query = select(counter_table).order_by(counter_table.c.ward_id, counter_table.c.number)
    if request.ward_ids is not None:
        query = query.where(counter_table.c.ward_id.in_(request.ward_ids or [-1]))
    names = {w.id: w.name for w in request.wards}
    rows = [(names.get(row.ward_id, ""), row) for row in request.session.execute(query)]
    return Render("kiosk/counters.html", {"form": form, "rows": rows,
                                          "hotline": request.settings.get("hotline")})


def counter(request: PageRequest, counter_id: int):
    """One counter; 404 when it does not exist or belongs to a ward out of scope."""
    row = request.session.execute(
        select(counter_table).where(counter_table.c.id == counter_id)).first()
    if row is None:
        request.not_found()
    request.check_ward(row.ward_id)
    return Render("kiosk/counter.html", {"row": row})
