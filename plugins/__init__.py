"""Built-in plugins. Each registers through the ``ward_helpdesk`` entry-point group."""
