"""webapp/widgets.py: QuickSelect writes exactly what wtforms' Select writes."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired
from wtforms.widgets import Select

from webapp.widgets import QuickSelect

CHOICES = [SelectChoice("", "All wards"), SelectChoice("1", 'Phường "Bến" <Nghé> & Co'),
           SelectChoice("2", "Phường 02", render_kw={"data-x": "y"}), SelectChoice("3", ""),
           SelectChoice(4, "Four")]


def _pair(selected: str | None):
    class Stock(Form):
        ward = SelectField("Ward", choices=CHOICES, validators=[InputRequired()])

    class Quick(Form):
        ward = SelectField("Ward", choices=CHOICES, validators=[InputRequired()],
                           widget=QuickSelect())

    data = MultiDict({"ward": selected} if selected is not None else {})
    return Stock(data).ward, Quick(data).ward


@pytest.mark.parametrize("selected", [None, "", "1", "2", "3", "4"])
def test_quick_select_writes_the_stock_html(selected):
    stock, quick = _pair(selected)
    assert isinstance(stock.widget, Select) and type(stock.widget) is Select
    assert quick() == stock()
    assert quick(class_="wide", **{"aria-invalid": "true"}) == stock(
        class_="wide", **{"aria-invalid": "true"})


def test_quick_select_escapes_values_and_labels():
    _, quick = _pair("1")
    html = str(quick())
    assert '<option selected value="1">Phường &#34;Bến&#34; &lt;Nghé&gt; &amp; Co</option>' in html
    assert '<option data-x="y" value="2">Phường 02</option>' in html
