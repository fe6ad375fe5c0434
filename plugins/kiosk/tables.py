"""The kiosk plugin's own tables (created by its migrations, see migrations/)."""

import os

from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint

from helpdesk_core import PluginStorage

metadata = MetaData()

# The counters of each ward's queue system. ward_id is the core's ward.id; no foreign
# key, so the plugin's tables never block a change of the core's.
counters = Table(
    "kiosk_counter", metadata,
    Column("id", Integer, primary_key=True),
    Column("ward_id", Integer, nullable=False, index=True),
    Column("number", Integer, nullable=False),
    Column("label", String(80), nullable=False, server_default=""),
    UniqueConstraint("ward_id", "number", name="uq_kiosk_counter_ward_number"),
)

STORAGE = PluginStorage(os.path.join(os.path.dirname(__file__), "migrations"), metadata)
