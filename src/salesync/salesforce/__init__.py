"""Salesforce REST edge: OAuth, the typed client, errors, limits and org discovery."""
