"""The Salesforce Pub/Sub API wire contract: ``pubsub_api.proto`` and its generated modules.

Like HTTP for the REST API, this is shared ground: the sandbox serves it and salesync's
subscriber calls it. The modules are generated (``scripts/gen-pubsub-proto``), never edited.
"""
