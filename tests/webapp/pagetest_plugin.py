"""A plugin with pages and settings for the web tests, installed through a real entry
point (tests/webapp/test_plugin_pages.py). Its templates are in templates/pagetest/."""

from __future__ import annotations

from wtforms import BooleanField, Form, IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from helpdesk_core import Page, Redirect, Render, hookimpl, plugin_settings

HELPDESK_API = ">=1.2,<2"


class NoteForm(Form):
    note = StringField("Note", validators=[DataRequired(), Length(max=40)])


class PagetestSettings(Form):
    greeting = StringField("Greeting", default="Xin chào",
                           validators=[DataRequired(), Length(max=30)])
    per_page = IntegerField("Per page", default=10, validators=[DataRequired(),
                                                                 NumberRange(1, 100)])
    loud = BooleanField("Loud", default=False)
    api_key = PasswordField("API key", validators=[Optional(), Length(max=64)])


def home(request):
    return Render("pagetest/home.html", {
        "user_login": request.user.login, "wards": [w.code for w in request.wards],
        "everywhere": request.ward_ids is None, "greeting": request.settings["greeting"],
        "elsewhere": plugin_settings("pagetest")["per_page"]})


def ward(request, ward_id):
    request.check_ward(ward_id)
    return Render("pagetest/home.html", {"user_login": request.user.login,
                                         "wards": [ward_id], "greeting": "ward"})


def notes(request):
    form = request.bind(NoteForm)
    if request.method == "POST" and form.validate():
        return Redirect("home")
    return Render("pagetest/notes.html", {"form": form}, status=200 if
                  request.method == "GET" else 422)


def boom(request):
    raise RuntimeError("the plugin's page broke")


def garbage(request):
    return {"not": "a response"}


def outside(request):
    return Render("base.html")  # not one of the plugin's templates


def away(request):
    return Redirect(request.args.get("to", "home"))


def admins(request):
    return Render("pagetest/home.html", {"user_login": request.user.login,
                                         "greeting": "admins"})


@hookimpl
def helpdesk_register_pages():
    return [Page("home", "/", home, nav_label="Pagetest"),
            Page("ward", "/wards/<int:ward_id>", ward),
            Page("notes", "/notes", notes, ("GET", "POST")),
            Page("boom", "/boom", boom),
            Page("garbage", "/garbage", garbage),
            Page("outside", "/outside", outside),
            Page("away", "/away", away),
            Page("admins", "/admins", admins, roles=("admin",), nav_label="Pagetest admin")]


@hookimpl
def helpdesk_register_settings():
    return PagetestSettings
