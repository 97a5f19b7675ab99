"""salesync: keeps a sales team's emails, calls and reminder tasks in step with Salesforce."""

__version__ = "0.1.0"
