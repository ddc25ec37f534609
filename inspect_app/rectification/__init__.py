"""Rectification (整改): findings become items the unit must fix by a due date, answer, and have
verified and closed (销号). The moves are in states.py, the rules in services.py."""

from .services import create_findings, restart_deadlines, withdraw_findings

__all__ = ["create_findings", "restart_deadlines", "withdraw_findings"]
