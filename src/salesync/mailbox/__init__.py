"""The IMAP edge: read a rep's mailbox (folders, UID cursors, headers and text) and nothing more.

``client.MailboxConnector`` is the seam; ``imap.ImapConnector`` speaks IMAP4rev1 through the
standard library, ``fake.FakeMailServer`` keeps folders in memory for tests of the sync logic.
"""
