"""Web Push (thông báo đẩy): notifications on the phones of students and staff, through
their browsers' push services, for the installable web app (PWA). See channel.py."""

from helpdesk_core import Channel, hookimpl, translator

from . import channel

HELPDESK_API = ">=1.4,<2"  # the plugin API versions this plugin works with

_l = translator(__name__).lazy_gettext


@hookimpl
def helpdesk_register_channels():
    return [Channel(channel.KEY, _l("Notifications on this phone (Web Push)"),
                    send=channel.send, addresses=channel.addresses,
                    addresses_many=channel.addresses_many,
                    settings_form=channel.WebPushSettingsForm, forget=channel.forget,
                    timeout=channel.TIMEOUT + 5)]
