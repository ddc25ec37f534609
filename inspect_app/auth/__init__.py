"""Accounts: login and login sessions, passwords, two-step login, and permissions.py."""
