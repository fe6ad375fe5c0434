"""Zalo OA (Official Account): notifications as Zalo messages from the ward's OA to the
users who follow it and linked their Zalo id. client.py talks to Zalo, channel.py is
the channel, pages.py the opt-in page, tables.py the plugin's own tables."""

from helpdesk_core import Channel, Page, hookimpl, translator

from . import channel, client, pages, tables

HELPDESK_API = ">=1.4,<2"  # the plugin API versions this plugin works with

_l = translator(__name__).lazy_gettext


@hookimpl
def helpdesk_register_channels():
    return [Channel(channel.KEY, _l("Zalo (the ward's Official Account)"), send=channel.send,
                    addresses=channel.addresses,
                    addresses_many=channel.addresses_many, settings_form=channel.ZaloSettingsForm,
                    forget=channel.forget, timeout=3 * client.TIMEOUT + 5)]


@hookimpl
def helpdesk_register_storage():
    return tables.STORAGE


@hookimpl
def helpdesk_register_pages():
    return [Page("link", "/", pages.link, ("GET", "POST"), nav_label=_l("Zalo"))]
