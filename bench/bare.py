"""The reference of the page benchmark: the framework's own ceiling on this machine.

One Flask route that renders a small page from a template string, served by the same
gunicorn settings and loaded by the same wrk as the app's pages, in the same run. Each
page of the app is reported as a share of this route's throughput (issue: "pages at a
quarter of the framework's ceiling").
"""

from __future__ import annotations

from flask import Flask, render_template_string

app = Flask(__name__)

PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>{{ title }}</title></head><body><h1>{{ title }}</h1><p>{{ text }}</p></body></html>"""


@app.get("/")
def home() -> str:
    return render_template_string(PAGE, title="Ward Helpdesk", text="Xin chào")


@app.get("/healthz/web")
def ready() -> str:
    return "ok"
