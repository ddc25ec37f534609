"""Notifications: the bell in the top bar, a list, and e-mail when a mail server is set.

services.py stores them (in the transaction of the command that causes them); what each kind
says is in messages.py, in the reader's language.
"""
