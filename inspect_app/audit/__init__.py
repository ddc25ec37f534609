"""Append-only, keyed hash chain of audit events: record() in every service, verify/anchor in CLI."""

from .services import record, verify_chain

__all__ = ["record", "verify_chain"]
