"""The service layer: the rules of the helpdesk, shared by web, scheduler, CLI and plugins.

Services are plain functions. A SQLAlchemy ``Session``, the
:class:`~helpdesk_core.plugins.PluginRegistry` and primitives go in; models come out.
Rule violations raise :mod:`helpdesk_core.errors`. Time comes in as ``now`` so tests
control the clock. Services flush but the caller commits, except where a docstring
says the service commits itself (claiming and numbering, which must be atomic).
"""
