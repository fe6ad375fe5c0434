"""Built-in notification channels: e-mail over SMTP and signed webhooks for city systems.

Registered through ``helpdesk_register_channels`` like any third-party channel; the
outbox (helpdesk_core.services.outbox) decides who gets what and when, these only deliver.
"""

from helpdesk_core import Channel, hookimpl, translator

from .mail import EmailSettingsForm, addresses_of, send_email
from .webhook import send_webhook

HELPDESK_API = ">=1.3,<2"  # channels arrived in 1.3

_l = translator(__name__).lazy_gettext


@hookimpl
def helpdesk_register_channels():
    return [
        Channel("email", _l("E-mail"), send=send_email, addresses=addresses_of,
                settings_form=EmailSettingsForm, timeout=30.0),
        # Endpoints, their URLs and secrets are the administrators' (/admin/webhooks/):
        # the outbox passes an endpoint's URL and secret to send as its settings.
        Channel("webhook", _l("Webhook"), send=send_webhook, timeout=15.0),
    ]
