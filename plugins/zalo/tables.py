"""The Zalo plugin's own tables (created by its migrations, see migrations/)."""

import os

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Text

from helpdesk_core import PluginStorage

metadata = MetaData()

# Who is reached on Zalo: the core's user id and the user's id for the ward's OA
# (each OA sees a person under its own id). No foreign key to the core's tables, so
# the plugin's tables never block a change of the core's; the row is the opt-in.
links = Table(
    "zalo_user", metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=False),
    Column("zalo_user_id", String(40), nullable=False, index=True),
    Column("linked_at", BigInteger, nullable=False),  # Unix seconds
    Column("linked_by", Integer, nullable=True),  # who typed it: the user or an admin
)

# The OA's current tokens. Zalo's refresh tokens are single-use: each refresh returns
# the next one, kept here (the settings keep the one an administrator pasted; ``seed``
# says which pasted token this chain grew from, so pasting a new one starts again).
tokens = Table(
    "zalo_token", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seed", String(64), nullable=False),
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=False),
    Column("expires_at", BigInteger, nullable=False),  # Unix seconds
)

STORAGE = PluginStorage(os.path.join(os.path.dirname(__file__), "migrations"), metadata)
