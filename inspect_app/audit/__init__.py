"""Append-only, hash-chained audit log: record() in every state-changing service, verify() in CLI."""

from .services import record, verify_chain

__all__ = ["record", "verify_chain"]
