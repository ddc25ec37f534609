"""Append-only, keyed hash chain of audit events: record() in every service, verify/anchor in CLI."""

from .services import may_change_figures, record, set_client_address, verify_chain

__all__ = ["may_change_figures", "record", "set_client_address", "verify_chain"]
