"""Use cases called by the web app and the CLI; each owns its transaction."""
