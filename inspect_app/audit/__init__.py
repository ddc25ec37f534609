"""Append-only, keyed hash chain of audit events: record() in every service, verify/anchor in CLI."""

from .services import (
    Rider,
    may_change_figures,
    record,
    ride_on_commit,
    set_client_address,
    verify_chain,
)

__all__ = [
    "Rider",
    "may_change_figures",
    "record",
    "ride_on_commit",
    "set_client_address",
    "verify_chain",
]
