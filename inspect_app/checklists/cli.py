"""`flask checklists ...`: validate, load, export-xlsx, import-xlsx."""

from flask.cli import AppGroup

checklists_cli = AppGroup("checklists", help="Checklist template commands.")
