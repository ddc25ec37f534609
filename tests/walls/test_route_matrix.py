"""Every URL rule × every client × GET and each write method, against a table of exact outcomes.

The world (tests/world.py) has two units, A and B, inspections of each in every state, evidence,
signatures, audit events and checklists. Each case runs in a SAVEPOINT rolled back at its end, so
a write that succeeds changes nothing for the next case. Besides the status code, every case
checks: no 500; a unit user's (and an inspector's) 200 pages carry no other unit's codes, names,
systems, findings or notice numbers; anonymous clients are sent to the login page (or get a JSON
401 under /api/); a refused write leaves every table as it was; a write that changed anything
wrote an audit event; API errors have the {"error": {status, code, message}} shape; and HTML pages
load nothing from another site.
"""

from __future__ import annotations

import base64
import io
import re
import uuid
from datetime import timedelta
from urllib.parse import unquote

import pytest

from inspect_app.clock import local_today, utc_to_local
from inspect_app.models.base import utcnow

from ..conftest import TEST_PASSWORD
from ..directory.conftest import units_workbook
from ..inspections.helpers import mp4_bytes
from ..world import CLIENTS, MISSING_ID, UNITS, photo_bytes, signature_png

# THE TABLE. One line per (rule, method, target): the status each client must get, in the
# order of CLIENTS: anonymous, admin, coordinator, inspector on team A (its lead), inspector on
# no team, viewer, unit A's user, unit B's user. A cell may list alternatives as 200|302 where
# the outcome legitimately depends on state (none does today).
#
# Targets name rows of the world: inspections "A.planned" … "B.closed", attachments "A.photo",
# "A.photo_submitted", "A.signature_submitted" …, units/systems "A"/"B", users "member" (an
# inspector that is no client) and "admin", templates "used"/"unused", the round "R", events
# "A"/"B"/"hidden" (an answer change hidden from units); "missing" is an id that does not exist.
# Two path arguments are written "R/A.planned"; a query string follows "?" and may use
# {year} and {kind:name} (an id of the world). "-" means no argument.
#
# EVERY RULE IN app.url_map NEEDS LINES HERE, for GET and for every write method it accepts
# (test_every_rule_and_method_is_in_the_table fails otherwise): whoever adds a route adds its
# lines, with the real outcome for each client, and a request body in BODIES for its writes.
TABLE = """
# endpoint                      method  target                       anon admin coord insp out  view unitA unitB
main.index                      GET     -                            302  200  200  200  200  200  200  200
main.healthz                    GET     -                            200  200  200  200  200  200  200  200
main.readyz                     GET     -                            200  200  200  200  200  200  200  200
main.service_worker             GET     -                            200  200  200  200  200  200  200  200
public.items                    GET     -                            200  200  200  200  200  200  200  200
public.items                    GET     ?nature=enterprise_inspection  200  200  200  200  200  200  200  200
public.items                    GET     ?nature=nonsense             400  400  400  400  400  400  400  400
main.offline                    GET     -                            200  200  200  200  200  200  200  200
static                          GET     css/app.css                  200  200  200  200  200  200  200  200
static                          GET     css/pages.css                200  200  200  200  200  200  200  200
static                          GET     js/fill.js                   200  200  200  200  200  200  200  200
static                          GET     favicon.svg                  200  200  200  200  200  200  200  200
static                          GET     nothing-here.css             404  404  404  404  404  404  404  404

auth.login                      GET     -                            200  302  302  302  302  302  302  302
auth.login                      POST    -                            200  302  302  302  302  302  302  302
auth.logout                     GET     -                            405  405  405  405  405  405  405  405
auth.logout                     POST    -                            302  302  302  302  302  302  302  302
auth.change_password            GET     -                            302  200  200  200  200  200  200  200
auth.change_password            POST    -                            302  302  302  302  302  302  302  302
auth.language                   GET     -                            405  405  405  405  405  405  405  405
auth.language                   POST    -                            302  302  302  302  302  302  302  302
auth.login_code                 GET     -                            302  302  302  302  302  302  302  302
auth.login_code                 POST    -                            302  302  302  302  302  302  302  302
auth.mfa_enrol                  GET     -                            302  200  200  200  200  200  200  200
auth.mfa_start                  GET     -                            405  405  405  405  405  405  405  405
auth.mfa_start                  POST    -                            302  302  302  302  302  302  302  302
auth.mfa_confirm                GET     -                            405  405  405  405  405  405  405  405
auth.mfa_confirm                POST    -                            302  302  302  302  302  302  302  302
auth.recovery_codes             GET     -                            405  405  405  405  405  405  405  405
auth.recovery_codes             POST    -                            302  302  302  302  302  302  302  302
auth.end_other_sessions         GET     -                            405  405  405  405  405  405  405  405
auth.end_other_sessions         POST    -                            302  302  302  302  302  302  302  302

audit.index                     GET     -                            302  200  200  403  403  200  200  200
audit.index                     GET     ?object_type=Inspection      302  200  200  403  403  200  200  200
audit.index                     GET     ?actor=wall                  302  200  200  403  403  200  200  200
audit.show                      GET     A                            302  200  200  403  403  200  200  404
audit.show                      GET     B                            302  200  200  403  403  200  404  200
audit.show                      GET     hidden                       302  200  200  403  403  200  404  404
audit.show                      GET     missing                      302  404  404  403  403  404  404  404

checklists.index                GET     -                            302  200  200  200  200  200  403  403
checklists.show                 GET     used                         302  200  200  200  200  200  403  403
checklists.show                 GET     unused                       302  200  200  200  200  200  403  403
checklists.show                 GET     used?unit_id={unit:B}        302  200  200  200  200  200  403  403
checklists.show                 GET     missing                      302  404  404  404  404  404  403  403
checklists.download_xlsx        GET     used                         302  200  200  200  200  200  403  403
checklists.download_xlsx        GET     missing                      302  404  404  404  404  404  403  403
checklists.download_yaml        GET     used                         302  200  200  200  200  200  403  403
checklists.download_yaml        GET     missing                      302  404  404  404  404  404  403  403
checklists.diff                 GET     ?old={template:used}&new={template:unused}  302  200  200  200  200  200  403  403
checklists.diff                 GET     -                            302  404  404  404  404  404  403  403
checklists.upload               GET     -                            302  200  200  403  403  403  403  403
checklists.upload               POST    -                            302  302  302  403  403  403  403  403
checklists.delete               GET     unused                       405  405  405  405  405  405  405  405
checklists.delete               POST    unused                       302  302  302  403  403  403  403  403
checklists.delete               POST    used                         302  409  409  403  403  403  403  403
checklists.delete               POST    missing                      302  404  404  403  403  403  403  403

directory.departments           GET     -                            302  200  200  403  403  200  200  200
directory.department_new        GET     -                            302  200  200  403  403  403  403  403
directory.department_new        POST    -                            302  302  302  403  403  403  403  403
directory.department_edit       GET     dept                         302  200  200  403  403  403  403  403
directory.department_edit       GET     missing                      302  404  404  403  403  403  403  403
directory.department_edit       POST    dept                         302  302  302  403  403  403  403  403
directory.units                 GET     -                            302  200  200  403  403  200  200  200
directory.units                 GET     ?q=墙测                      302  200  200  403  403  200  200  200
directory.unit_show             GET     A                            302  200  200  403  403  200  200  404
directory.unit_show             GET     B                            302  200  200  403  403  200  404  200
directory.unit_show             GET     missing                      302  404  404  403  403  404  404  404
directory.my_unit               GET     -                            302  302  302  403  403  302  200  200
directory.unit_arrival_qr       GET     A                            302  200  200  403  403  200  200  404
directory.unit_arrival_qr       GET     B                            302  200  200  403  403  200  404  200
directory.unit_arrival_qr       GET     missing                      302  404  404  403  403  404  404  404
directory.unit_new              GET     -                            302  200  200  403  403  403  403  403
directory.unit_new              POST    -                            302  302  302  403  403  403  403  403
directory.unit_edit             GET     A                            302  200  200  403  403  403  403  403
directory.unit_edit             GET     B                            302  200  200  403  403  403  403  403
directory.unit_edit             GET     missing                      302  404  404  403  403  403  403  403
directory.unit_edit             POST    A                            302  302  302  403  403  403  403  403
directory.systems               GET     -                            302  200  200  403  403  200  200  200
directory.systems               GET     ?unit=UNIT-B-7732            302  200  200  403  403  200  200  200
directory.systems               GET     ?q=墙测                      302  200  200  403  403  200  200  200
directory.system_show           GET     A                            302  200  200  403  403  200  200  404
directory.system_show           GET     B                            302  200  200  403  403  200  404  200
directory.system_show           GET     missing                      302  404  404  403  403  404  404  404
directory.system_new            GET     -                            302  200  200  403  403  403  403  403
directory.system_new            POST    -                            302  302  302  403  403  403  403  403
directory.system_edit           GET     A                            302  200  200  403  403  403  403  403
directory.system_edit           GET     B                            302  200  200  403  403  403  403  403
directory.system_edit           GET     missing                      302  404  404  403  403  403  403  403
directory.system_edit           POST    A                            302  302  302  403  403  403  403  403
directory.import_template       GET     units                        302  200  200  403  403  403  403  403
directory.import_template       GET     systems                      302  200  200  403  403  403  403  403
directory.import_file           GET     units                        302  200  200  403  403  403  403  403
directory.import_file           GET     systems                      302  200  200  403  403  403  403  403
directory.import_file           POST    units                        302  302  302  403  403  403  403  403
directory.users                 GET     -                            302  200  200  403  403  403  403  403
directory.user_new              GET     -                            302  200  200  403  403  403  403  403
directory.user_new              POST    -                            302  302  302  403  403  403  403  403
directory.user_edit             GET     member                       302  200  200  403  403  403  403  403
directory.user_edit             GET     admin                        302  200  403  403  403  403  403  403
directory.user_edit             GET     missing                      302  404  404  403  403  403  403  403
directory.user_edit             POST    member                       302  302  302  403  403  403  403  403
directory.user_edit             POST    admin                        302  302  403  403  403  403  403  403
directory.user_password         GET     member                       302  200  200  403  403  403  403  403
directory.user_password         GET     admin                        302  200  403  403  403  403  403  403
directory.user_password         GET     missing                      302  404  404  403  403  403  403  403
directory.user_password         POST    member                       302  302  302  403  403  403  403  403
directory.user_password         POST    admin                        302  302  403  403  403  403  403  403
directory.user_sign_in          GET     member                       302  200  200  403  403  403  403  403
directory.user_sign_in          GET     admin                        302  200  403  403  403  403  403  403
directory.user_sign_in          GET     missing                      302  404  404  403  403  403  403  403
directory.user_sign_in          POST    member                       302  302  302  403  403  403  403  403
directory.user_sign_in          POST    admin                        302  302  403  403  403  403  403  403

rounds.index                    GET     -                            302  200  200  403  403  200  403  403
rounds.index                    GET     ?year={year}                 302  200  200  403  403  200  403  403
rounds.plan                     GET     -                            405  405  405  405  405  405  405  405
rounds.plan                     POST    -                            302  302  302  403  403  403  403  403
rounds.show                     GET     R                            302  200  200  403  403  200  403  403
rounds.show                     GET     missing                      302  404  404  403  403  404  403  403
rounds.visit                    GET     A.planned                    302  200  200  403  403  200  403  403
rounds.visit                    GET     B.submitted                  302  200  200  403  403  200  403  403
rounds.visit                    GET     missing                      302  404  404  403  403  404  403  403
rounds.approve_visit            GET     A.planned                    405  405  405  405  405  405  405  405
rounds.approve_visit            POST    A.planned                    302  400  400  403  403  403  403  403
rounds.approve_visit            POST    A.submitted                  302  409  409  403  403  403  403  403
rounds.approve_visit            POST    missing                      302  404  404  403  403  403  403  403
rounds.advance_notice           GET     A.planned                    302  404  404  403  403  404  403  403
rounds.advance_notice           GET     missing                      302  404  404  403  403  404  403  403
rounds.advance_served           GET     A.planned                    405  405  405  405  405  405  405  405
rounds.advance_served           POST    A.planned                    302  409  409  403  403  403  403  403
rounds.advance_served           POST    missing                      302  404  404  403  403  403  403  403
rounds.edit                     GET     R                            302  200  200  403  403  403  403  403
rounds.edit                     GET     missing                      302  404  404  403  403  403  403  403
rounds.edit                     POST    R                            302  302  302  403  403  403  403  403
rounds.close                    GET     R                            302  200  200  403  403  403  403  403
rounds.close                    GET     missing                      302  404  404  403  403  403  403  403
rounds.status                   GET     R                            405  405  405  405  405  405  405  405
rounds.status                   POST    R                            302  302  302  403  403  403  403  403
rounds.assign                   GET     R                            302  200  200  403  403  403  403  403
rounds.assign                   GET     missing                      302  404  404  403  403  403  403  403
rounds.assign                   POST    R                            302  302  302  403  403  403  403  403
rounds.inspection_edit          GET     R/A.planned                  302  200  200  403  403  403  403  403
rounds.inspection_edit          GET     R/A.in_progress              302  409  409  403  403  403  403  403
rounds.inspection_edit          GET     R/B.planned                  302  200  200  403  403  403  403  403
rounds.inspection_edit          GET     R/missing                    302  404  404  403  403  403  403  403
rounds.inspection_edit          GET     missing/A.planned            302  404  404  403  403  403  403  403
rounds.inspection_edit          POST    R/A.planned                  302  302  302  403  403  403  403  403
rounds.inspection_remove        GET     R/A.planned                  405  405  405  405  405  405  405  405
rounds.inspection_remove        POST    R/A.planned                  302  302  302  403  403  403  403  403
rounds.inspection_remove        POST    R/A.in_progress              302  409  409  403  403  403  403  403

dashboard.index                 GET     -                            302  200  200  403  403  200  403  403
dashboard.index                 GET     ?year={year}&round={round:R}&department=PSB&kind=party_gov  302  200  200  403  403  200  403  403
dashboard.index                 GET     ?year=1999                   302  400  400  403  403  400  403  403
dashboard.index                 GET     ?round=x                     302  400  400  403  403  400  403  403
dashboard.chart                 GET     severity?year={year}         302  200  200  403  403  200  403  403
dashboard.chart                 GET     departments                  302  200  200  403  403  200  403  403
dashboard.chart                 GET     categories                   302  200  200  403  403  200  403  403
dashboard.chart                 GET     status                       302  200  200  403  403  200  403  403
dashboard.chart                 GET     rounds?round={round:R}       302  200  200  403  403  200  403  403
dashboard.chart                 GET     nothing                      302  404  404  403  403  404  403  403
dashboard.chart                 GET     severity?kind=nothing        302  400  400  403  403  400  403  403
dashboard.annual                GET     -                            302  200  200  403  403  200  403  403
dashboard.annual                GET     ?year={year}                 302  200  200  403  403  200  403  403
dashboard.annual                GET     ?year=20260                  302  400  400  403  403  400  403  403

inspections.mine                GET     -                            302  200  200  200  200  403  403  403
inspections.mine                GET     ?year={year}                 302  200  200  200  200  403  403  403
inspections.fill                GET     A.planned                    302  200  200  200  404  200  404  404
inspections.fill                GET     A.in_progress                302  200  200  200  404  200  404  404
inspections.fill                GET     A.ready                      302  200  200  200  404  200  404  404
inspections.fill                GET     A.submitted                  302  200  200  200  404  200  200  404
inspections.fill                GET     A.closed                     302  200  200  200  404  200  200  404
inspections.fill                GET     B.planned                    302  200  200  404  404  200  404  404
inspections.fill                GET     B.in_progress                302  200  200  404  404  200  404  404
inspections.fill                GET     B.submitted                  302  200  200  404  404  200  404  200
inspections.fill                GET     B.closed                     302  200  200  404  404  200  404  200
inspections.fill                GET     missing                      302  404  404  404  404  404  404  404
inspections.guidance            GET     A.planned                    302  200  200  200  404  200  404  404
inspections.guidance            GET     A.submitted                  302  200  200  200  404  200  200  404
inspections.guidance            GET     A.submitted?format=json      302  200  200  200  404  200  200  404
inspections.guidance            GET     B.planned                    302  200  200  404  404  200  404  404
inspections.guidance            GET     B.submitted                  302  200  200  404  404  200  404  200
inspections.guidance            GET     B.submitted?format=json      302  200  200  404  404  200  404  200
inspections.guidance            GET     missing                      302  404  404  404  404  404  404  404
inspections.record              GET     A.planned                    302  200  200  200  404  200  404  404
inspections.record              GET     A.in_progress                302  200  200  200  404  200  404  404
inspections.record              GET     A.submitted                  302  200  200  200  404  200  200  404
inspections.record              GET     A.closed                     302  200  200  200  404  200  200  404
inspections.record              GET     B.planned                    302  200  200  404  404  200  404  404
inspections.record              GET     B.submitted                  302  200  200  404  404  200  404  200
inspections.record              GET     B.closed                     302  200  200  404  404  200  404  200
inspections.record              GET     missing                      302  404  404  404  404  404  404  404
inspections.notice              GET     A.planned                    302  404  404  404  404  404  404  404
inspections.notice              GET     A.in_progress                302  404  404  404  404  404  404  404
inspections.notice              GET     A.submitted                  302  200  200  200  404  200  200  404
inspections.notice              GET     A.closed                     302  200  200  200  404  200  200  404
inspections.notice              GET     B.in_progress                302  404  404  404  404  404  404  404
inspections.notice              GET     B.submitted                  302  200  200  404  404  200  404  200
inspections.notice              GET     B.closed                     302  200  200  404  404  200  404  200
inspections.notice              GET     missing                      302  404  404  404  404  404  404  404
inspections.submit              GET     A.planned                    302  200  200  200  404  403  404  404
inspections.submit              GET     A.ready                      302  200  200  200  404  403  404  404
inspections.submit              GET     A.submitted                  302  302  302  302  404  302  302  404
inspections.submit              GET     A.closed                     302  302  302  302  404  302  302  404
inspections.submit              GET     B.in_progress                302  200  200  404  404  403  404  404
inspections.submit              GET     B.submitted                  302  302  302  404  404  302  404  302
inspections.submit              GET     missing                      302  404  404  404  404  404  404  404
inspections.submit              POST    A.ready                      302  302  302  302  404  403  404  404
inspections.submit              POST    A.planned                    302  400  400  400  404  403  404  404
inspections.submit              POST    A.submitted                  302  302  302  302  404  302  302  404
inspections.submit              POST    B.in_progress                302  400  400  404  404  403  404  404
inspections.submit              POST    B.submitted                  302  302  302  404  404  302  404  302
inspections.submit              POST    missing                      302  404  404  404  404  404  404  404
inspections.start               GET     A.planned                    405  405  405  405  405  405  405  405
inspections.start               POST    A.planned                    302  302  302  302  404  403  404  404
inspections.start               POST    A.in_progress                302  302  302  302  404  403  404  404
inspections.start               POST    A.submitted                  302  409  409  409  404  403  403  404
inspections.start               POST    B.planned                    302  302  302  404  404  403  404  404
inspections.start               POST    B.submitted                  302  409  409  404  404  403  404  403
inspections.start               POST    missing                      302  404  404  404  404  404  404  404
inspections.save                GET     A.planned                    405  405  405  405  405  405  405  405
inspections.save                POST    A.planned                    302  302  302  302  404  403  404  404
inspections.save                POST    A.in_progress                302  302  302  302  404  403  404  404
inspections.save                POST    A.submitted                  302  409  409  409  404  403  403  404
inspections.save                POST    B.in_progress                302  302  302  404  404  403  404  404
inspections.save                POST    B.submitted                  302  409  409  404  404  403  404  403
inspections.save                POST    missing                      302  404  404  404  404  404  404  404
inspections.served              GET     A.submitted                  405  405  405  405  405  405  405  405
inspections.served              POST    A.submitted                  302  302  302  302  404  403  403  404
inspections.served              POST    A.in_progress                302  409  409  409  404  403  404  404
inspections.served              POST    B.submitted                  302  302  302  404  404  403  404  403
inspections.served              POST    missing                      302  404  404  404  404  404  404  404
inspections.arrive              GET     -                            302  200  200  200  200  403  403  403
inspections.arrive              POST    -                            302  409  409  409  409  403  403  403
inspections.self_assessment     GET     A.planned                    302  403  403  403  403  403  404  404
inspections.self_assessment     GET     missing                      302  403  403  403  403  403  404  404
inspections.self_assessment     POST    A.planned                    302  403  403  403  403  403  404  404
inspections.rate_visit          GET     A.submitted                  405  405  405  405  405  405  405  405
inspections.rate_visit          POST    A.submitted                  302  403  403  403  403  403  302  404
inspections.rate_visit          POST    A.planned                    302  403  403  403  403  403  404  404
inspections.rate_visit          POST    missing                      302  403  403  403  403  403  404  404
inspections.approve_notice      GET     A.submitted                  405  405  405  405  405  405  405  405
inspections.approve_notice      POST    A.submitted                  302  409  409  403  403  403  403  403
inspections.approve_notice      POST    A.in_progress                302  409  409  403  403  403  403  403
inspections.approve_notice      POST    missing                      302  404  404  403  403  403  403  403
inspections.update_record       GET     A.in_progress                405  405  405  405  405  405  405  405
inspections.update_record       POST    A.in_progress                302  302  302  302  404  403  404  404
inspections.update_record       POST    A.submitted                  302  409  409  409  404  403  403  404
inspections.update_record       POST    B.in_progress                302  302  302  404  404  403  404  404
inspections.update_record       POST    missing                      302  404  404  404  404  404  404  404
inspections.sign_record         GET     A.in_progress                405  405  405  405  405  405  405  405
inspections.sign_record         POST    A.in_progress                302  409  409  302  404  403  404  404
inspections.sign_record         POST    A.submitted                  302  409  409  409  404  403  403  404
inspections.sign_record         POST    B.in_progress                302  409  409  404  404  403  404  404
inspections.sign_record         POST    missing                      302  404  404  404  404  404  404  404
inspections.visit_file          GET     A.record_signature_submitted 302  200  200  200  404  200  200  404
inspections.visit_file          GET     B.record_signature_submitted 302  200  200  404  404  200  404  200
inspections.visit_file          GET     A.photo                      302  404  404  404  404  404  404  404
inspections.visit_file          GET     A.recording_submitted        302  404  404  404  404  404  404  404
inspections.visit_file          GET     missing                      302  404  404  404  404  404  404  404
inspections.reopen              GET     A.submitted                  405  405  405  405  405  405  405  405
inspections.reopen              POST    A.submitted                  302  302  302  403  403  403  403  403
inspections.reopen              POST    A.in_progress                302  409  409  403  403  403  403  403
inspections.reopen              POST    A.closed                     302  409  409  403  403  403  403  403
inspections.reopen              POST    B.submitted                  302  302  302  403  403  403  403  403
inspections.reopen              POST    missing                      302  404  404  403  403  403  403  403
inspections.evidence_file       GET     A.photo                      302  200  200  200  404  200  404  404
inspections.evidence_file       GET     A.photo?thumb=1              302  200  200  200  404  200  404  404
inspections.evidence_file       GET     A.photo_submitted            302  200  200  200  404  200  200  404
inspections.evidence_file       GET     A.photo_submitted?thumb=1    302  200  200  200  404  200  200  404
inspections.evidence_file       GET     A.signature_submitted        302  200  200  200  404  200  200  404
inspections.evidence_file       GET     A.photo_closed               302  200  200  200  404  200  200  404
inspections.evidence_file       GET     B.photo                      302  200  200  404  404  200  404  404
inspections.evidence_file       GET     B.photo_submitted            302  200  200  404  404  200  404  200
inspections.evidence_file       GET     B.photo_submitted?thumb=1    302  200  200  404  404  200  404  200
inspections.evidence_file       GET     B.signature_submitted        302  200  200  404  404  200  404  200
inspections.evidence_file       GET     missing                      302  404  404  404  404  404  404  404
inspections.recording_file      GET     A.recording                  302  200  200  200  404  200  404  404
inspections.recording_file      GET     A.recording_submitted        302  200  200  200  404  200  200  404
inspections.recording_file      GET     B.recording_submitted        302  200  200  404  404  200  404  200
inspections.recording_file      GET     A.photo                      302  404  404  404  404  404  404  404
inspections.recording_file      GET     missing                      302  404  404  404  404  404  404  404
inspections.remove_recording    GET     A.in_progress/A.recording    405  405  405  405  405  405  405  405
inspections.remove_recording    POST    A.in_progress/A.recording    302  302  302  302  404  403  404  404
inspections.remove_recording    POST    A.submitted/A.recording_submitted  302  409  409  409  404  403  403  404
inspections.remove_recording    POST    B.in_progress/B.recording    302  302  302  404  404  403  404  404
inspections.remove_recording    POST    A.in_progress/B.recording    302  404  404  404  404  403  404  404
inspections.remove_recording    POST    A.in_progress/A.photo        302  404  404  404  404  403  404  404
inspections.remove_recording    POST    A.in_progress/missing        302  404  404  404  404  403  404  404
inspections.upload_recording    GET     A.in_progress                405  405  405  405  405  405  405  405
inspections.upload_recording    POST    A.in_progress                302  302  302  302  404  403  404  404
inspections.upload_recording    POST    A.submitted                  302  409  409  409  404  403  403  404
inspections.upload_recording    POST    B.in_progress                302  302  302  404  404  403  404  404
inspections.upload_recording    POST    missing                      302  404  404  404  404  404  404  404

rectification.index             GET     -                            302  200  200  200  200  200  200  200
rectification.index             GET     ?status=overdue              302  200  200  200  200  200  200  200
rectification.index             GET     ?unit={unit:B}&repeat=1      302  200  200  200  200  200  200  200
rectification.index             GET     ?status=bogus                302  400  400  400  400  400  200  200
rectification.queue             GET     -                            302  200  200  200  200  403  403  403
rectification.bulk              GET     -                            405  405  405  405  405  405  405  405
rectification.bulk              POST    -                            302  302  302  302  400  403  403  403
rectification.show              GET     A.open                       302  200  200  200  404  200  200  404
rectification.show              GET     A.submitted                  302  200  200  200  404  200  200  404
rectification.show              GET     A.overdue                    302  200  200  200  404  200  200  404
rectification.show              GET     B.open                       302  200  200  404  404  200  404  200
rectification.show              GET     B.submitted                  302  200  200  404  404  200  404  200
rectification.show              GET     missing                      302  404  404  404  404  404  404  404
rectification.respond           GET     A.open                       405  405  405  405  405  405  405  405
rectification.respond           POST    A.open                       302  302  302  403  404  403  302  404
rectification.respond           POST    A.submitted                  302  409  409  403  404  403  409  404
rectification.respond           POST    B.open                       302  302  302  404  404  403  404  302
rectification.respond           POST    missing                      302  404  404  404  404  404  404  404
rectification.request_extension GET     A.open                       405  405  405  405  405  405  405  405
rectification.request_extension POST    A.open                       302  302  302  403  404  403  302  404
rectification.request_extension POST    A.overdue                    302  409  409  403  404  403  409  404
rectification.request_extension POST    B.open                       302  302  302  404  404  403  404  302
rectification.decide_extension  GET     A.overdue                    405  405  405  405  405  405  405  405
rectification.decide_extension  POST    A.overdue                    302  302  302  403  404  403  403  404
rectification.decide_extension  POST    A.open                       302  409  409  403  404  403  403  404
rectification.decide_extension  POST    B.overdue                    302  409  409  404  404  403  404  403
rectification.verify            GET     A.submitted                  405  405  405  405  405  405  405  405
rectification.verify            POST    A.submitted                  302  302  302  302  404  403  403  404
rectification.verify            POST    A.open                       302  409  409  409  404  403  403  404
rectification.verify            POST    B.submitted                  302  302  302  404  404  403  404  403
rectification.verify            POST    missing                      302  404  404  404  404  404  404  404
rectification.return_item       GET     A.submitted                  405  405  405  405  405  405  405  405
rectification.return_item       POST    A.submitted                  302  302  302  302  404  403  403  404
rectification.return_item       POST    A.open                       302  409  409  409  404  403  403  404
rectification.return_item       POST    B.submitted                  302  302  302  404  404  403  404  403
rectification.accept_risk       GET     A.open                       405  405  405  405  405  405  405  405
rectification.accept_risk       POST    A.open                       302  302  302  403  404  403  403  404
rectification.accept_risk       POST    A.submitted                  302  409  409  403  404  403  403  404
rectification.accept_risk       POST    B.open                       302  302  302  404  404  403  404  403
rectification.escalate          GET     A.overdue                    405  405  405  405  405  405  405  405
rectification.escalate          POST    A.overdue                    302  302  302  403  404  403  403  404
rectification.escalate          POST    B.overdue                    302  302  302  404  404  403  404  403
rectification.interview         GET     A.overdue                    405  405  405  405  405  405  405  405
rectification.interview         POST    A.overdue                    302  302  302  403  404  403  403  404
rectification.interview         POST    B.overdue                    302  302  302  404  404  403  404  403
rectification.notification      GET     A.overdue                    405  405  405  405  405  405  405  405
rectification.notification      POST    A.overdue                    302  302  302  403  404  403  403  404
rectification.notification      POST    B.overdue                    302  302  302  404  404  403  404  403
rectification.file              GET     A.rect_file                  302  200  200  200  404  200  200  404
rectification.file              GET     A.rect_file?thumb=1          302  200  200  200  404  200  200  404
rectification.file              GET     B.rect_file                  302  200  200  404  404  200  404  200
rectification.file              GET     A.photo_submitted            302  404  404  404  404  404  404  404
rectification.file              GET     missing                      302  404  404  404  404  404  404  404
rectification.document          GET     A.interview                  302  200  200  200  404  200  200  404
rectification.document          GET     A.notification               302  200  200  200  404  200  200  404
rectification.document          GET     B.interview                  302  200  200  404  404  200  404  200
rectification.document          GET     A.response                   302  404  404  404  404  404  404  404
rectification.document          GET     missing                      302  404  404  404  404  404  404  404
rectification.report            GET     A.submitted                  302  200  200  200  404  200  200  404
rectification.report            GET     A.closed                     302  200  200  200  404  200  200  404
rectification.report            GET     B.submitted                  302  200  200  404  404  200  404  200
rectification.report            GET     A.planned                    302  404  404  404  404  404  404  404
rectification.report            GET     missing                      302  404  404  404  404  404  404  404
exports.index                   GET     -                            302  200  200  403  403  200  403  403
exports.index                   GET     ?year={year}                 302  200  200  403  403  200  403  403
exports.index                   GET     ?year=1999                   302  400  400  403  403  400  403  403
exports.start                   GET     -                            405  405  405  405  405  405  405  405
exports.start                   POST    -                            302  302  302  403  403  302  403  403
exports.inspection              GET     A.planned                    302  200  200  200  404  200  404  404
exports.inspection              GET     A.submitted                  302  200  200  200  404  200  200  404
exports.inspection              GET     B.submitted                  302  200  200  404  404  200  404  200
exports.inspection              GET     B.closed                     302  200  200  404  404  200  404  200
exports.inspection              GET     missing                      302  404  404  404  404  404  404  404
exports.unit_ledger             GET     A                            302  200  200  404  404  200  200  404
exports.unit_ledger             GET     B                            302  200  200  404  404  200  404  200
exports.unit_ledger             GET     A?year=1999                  302  400  400  404  404  400  400  404
exports.unit_ledger             GET     missing                      302  404  404  404  404  404  404  404
jobs.index                      GET     -                            302  200  200  200  200  200  200  200
jobs.start                      GET     -                            405  405  405  405  405  405  405  405
jobs.start                      POST    -                            302  302  302  403  403  302  403  403
jobs.show                       GET     done                         302  200  200  404  404  404  404  404
jobs.show                       GET     expired                      302  200  200  404  404  404  404  404
jobs.show                       GET     missing                      302  404  404  404  404  404  404  404
jobs.status                     GET     done                         302  200  200  404  404  404  404  404
jobs.status                     GET     missing                      302  404  404  404  404  404  404  404
jobs.download                   GET     done                         302  200  200  404  404  404  404  404
jobs.download                   GET     expired                      302  410  410  404  404  404  404  404
jobs.download                   GET     missing                      302  404  404  404  404  404  404  404
jobs.again                      GET     done                         405  405  405  405  405  405  405  405
jobs.again                      POST    done                         302  302  302  404  404  404  404  404
jobs.again                      POST    missing                      302  404  404  404  404  404  404  404

api.list_items                  GET     -                            401  200  200  200  200  200  200  200
api.list_items                  GET     ?status=overdue              401  200  200  200  200  200  200  200
api.list_items                  GET     ?unit_id={unit:B}            401  200  200  200  200  200  200  200
api.get_item                    GET     A.open                       401  200  200  200  404  200  200  404
api.get_item                    GET     B.open                       401  200  200  404  404  200  404  200
api.get_item                    GET     missing                      401  404  404  404  404  404  404  404
api.respond                     GET     A.open                       405  405  405  405  405  405  405  405
api.respond                     POST    A.open                       401  403  403  403  404  403  200  404
api.respond                     POST    B.open                       401  403  403  404  404  403  404  200
api.respond                     POST    missing                      401  404  404  404  404  404  404  404
api.request_extension           GET     A.open                       405  405  405  405  405  405  405  405
api.request_extension           POST    A.open                       401  403  403  403  404  403  200  404
api.request_extension           POST    B.open                       401  403  403  404  404  403  404  200
api.decide_extension            GET     A.open                       405  405  405  405  405  405  405  405
api.decide_extension            POST    A.open                       401  409  409  403  404  403  403  404
api.verify                      GET     A.open                       405  405  405  405  405  405  405  405
api.verify                      POST    A.open                       401  409  409  409  404  403  403  404
api.verify                      POST    B.open                       401  409  409  404  404  403  404  403
api.return_item                 GET     A.open                       405  405  405  405  405  405  405  405
api.return_item                 POST    A.open                       401  409  409  409  404  403  403  404
api.return_item                 POST    B.open                       401  409  409  404  404  403  404  403
api.escalate                    GET     A.open                       405  405  405  405  405  405  405  405
api.escalate                    POST    A.open                       401  200  200  403  404  403  403  404
api.escalate                    POST    B.open                       401  200  200  404  404  403  404  403
api.bulk                        GET     -                            405  405  405  405  405  405  405  405
api.bulk                        POST    -                            401  200  200  400  400  400  400  400
notifications.index             GET     -                            302  200  200  200  200  200  200  200
notifications.index             GET     ?page=2                      302  200  200  200  200  200  200  200
notifications.open              GET     A                            405  405  405  405  405  405  405  405
notifications.open              POST    A                            302  404  404  404  404  404  302  404
notifications.open              POST    B                            302  404  404  404  404  404  404  302
notifications.open              POST    missing                      302  404  404  404  404  404  404  404
notifications.read_all          GET     -                            405  405  405  405  405  405  405  405
notifications.read_all          POST    -                            302  302  302  302  302  302  302  302

api.csrf_token                  GET     -                            200  200  200  200  200  200  200  200
api.openapi_document            GET     -                            200  200  200  200  200  200  200  200
api.me                          GET     -                            401  200  200  200  200  200  200  200
api.list_inspections            GET     -                            401  200  200  200  200  200  200  200
api.list_inspections            GET     ?year={year}                 401  200  200  200  200  200  200  200
api.list_inspections            GET     ?year=2001                   401  200  200  200  200  200  200  200
api.get_inspection              GET     A.planned                    401  200  200  200  404  200  404  404
api.get_inspection              GET     A.in_progress                401  200  200  200  404  200  404  404
api.get_inspection              GET     A.ready                      401  200  200  200  404  200  404  404
api.get_inspection              GET     A.submitted                  401  200  200  200  404  200  200  404
api.get_inspection              GET     A.closed                     401  200  200  200  404  200  200  404
api.get_inspection              GET     B.planned                    401  200  200  404  404  200  404  404
api.get_inspection              GET     B.in_progress                401  200  200  404  404  200  404  404
api.get_inspection              GET     B.submitted                  401  200  200  404  404  200  404  200
api.get_inspection              GET     B.closed                     401  200  200  404  404  200  404  200
api.get_inspection              GET     missing                      401  404  404  404  404  404  404  404
api.post_answers                GET     A.planned                    405  405  405  405  405  405  405  405
api.post_answers                POST    A.planned                    401  200  200  200  404  403  404  404
api.post_answers                POST    A.in_progress                401  200  200  200  404  403  404  404
api.post_answers                POST    A.submitted                  401  409  409  409  404  403  403  404
api.post_answers                POST    B.in_progress                401  200  200  404  404  403  404  404
api.post_answers                POST    B.submitted                  401  409  409  404  404  403  404  403
api.post_answers                POST    missing                      401  404  404  404  404  404  404  404
api.post_evidence               GET     A.in_progress                405  405  405  405  405  405  405  405
api.post_evidence               POST    A.in_progress                401  201  201  201  404  403  404  404
api.post_evidence               POST    A.submitted                  401  409  409  409  404  403  403  404
api.post_evidence               POST    B.in_progress                401  201  201  404  404  403  404  404
api.post_evidence               POST    B.submitted                  401  409  409  404  404  403  404  403
api.post_evidence               POST    missing                      401  404  404  404  404  404  404  404
api.submit                      GET     A.ready                      405  405  405  405  405  405  405  405
api.submit                      POST    A.ready                      401  200  200  200  404  403  404  404
api.submit                      POST    A.planned                    401  400  400  400  404  403  404  404
api.submit                      POST    A.submitted                  401  409  409  409  404  403  403  404
api.submit                      POST    B.in_progress                401  400  400  404  404  403  404  404
api.submit                      POST    B.submitted                  401  409  409  404  404  403  404  403
api.submit                      POST    missing                      401  404  404  404  404  404  404  404
api.delete_evidence             GET     A.photo                      405  405  405  405  405  405  405  405
api.delete_evidence             DELETE  A.photo                      401  204  204  204  404  403  404  404
api.delete_evidence             DELETE  A.photo_submitted            401  409  409  409  404  403  403  404
api.delete_evidence             DELETE  A.signature_submitted        401  409  409  409  404  403  403  404
api.delete_evidence             DELETE  B.photo                      401  204  204  404  404  403  404  404
api.delete_evidence             DELETE  B.photo_submitted            401  409  409  404  404  403  404  403
api.delete_evidence             DELETE  missing                      401  404  404  404  404  404  404  404
"""

# Cases the app gets wrong today: (endpoint, method, target, client) -> the exact cause. Each is
# a strict xfail, so it fails loudly once fixed: then delete its line here.
KNOWN_FAILURES: dict[tuple[str, str, str, str], str] = {}

# Which kind of world row each URL argument names.
ARG_KINDS = {
    "inspection_id": "inspection",
    "attachment_id": "attachment",
    "unit_id": "unit",
    "system_id": "system",
    "user_id": "user",
    "event_id": "event",
    "template_id": "template",
    "round_id": "round",
    "department_id": "department",
    "item_id": "item",
    "step_id": "step",
    "notification_id": "notification",
    "job_id": "job",
    "visit_id": "visit",
}
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", re.I)
# What each client must never see on a 200 page: the other unit's strings.
FORBIDDEN = {"unit_a": ("B",), "unit_b": ("A",), "insp": ("B",), "insp_out": ("A", "B")}


def _rows() -> list[tuple[str, str, str, dict[str, set[int]]]]:
    rows = []
    for line in TABLE.strip().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        endpoint, method, target, *codes = line.split()
        assert len(codes) == len(CLIENTS), line
        expected = {
            c: {int(x) for x in code.split("|")} for c, code in zip(CLIENTS, codes, strict=True)
        }
        rows.append((endpoint, method, target, expected))
    return rows


ROWS = _rows()


def _params():
    for endpoint, method, target, expected in ROWS:
        for client in CLIENTS:
            key = (endpoint, method, target, client)
            marks = ()
            if key in KNOWN_FAILURES:
                marks = pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[key])
            yield pytest.param(
                endpoint,
                method,
                target,
                client,
                expected[client],
                id=f"{method} {endpoint} {target} {client}",
                marks=marks,
            )


# --- building requests ----------------------------------------------------------------------------


def _fill(text: str, world) -> str:
    def repl(match):
        name = match.group(1)
        if name == "year":
            return str(world.year)
        kind, _sep, key = name.partition(":")
        return str(world.id(kind, key))

    return re.sub(r"\{([^}]+)\}", repl, text)


def _url(app, world, endpoint: str, target: str) -> str:
    path_part, _sep, query = target.partition("?")
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    names = re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule.rule)
    if endpoint == "static":
        values = [path_part]
    else:
        values = path_part.split("/") if names and path_part not in ("", "-") else []
    assert len(values) == len(names), (endpoint, target)
    args = {}
    for name, value in zip(names, values, strict=True):
        kind = ARG_KINDS.get(name)
        args[name] = world.id(kind, value) if kind else value
    url = app.url_map.bind("localhost").build(endpoint, args)
    return url + ("?" + _fill(query, world) if query else "")


def _png_data_url() -> str:
    return "data:image/png;base64," + base64.b64encode(signature_png()).decode()


def _checklist_yaml() -> bytes:
    from ..checklists.conftest import UNIT_OK

    return UNIT_OK.read_bytes()


def _save_form(world, target):
    item = world.items["W-02"]
    version = world.versions.get(target, {}).get("W-02", 0)
    return {"versions": f"{item}:{version}", f"n{item}": "墙测备注"}


def _assign_form(world, target):
    users = world.ids["user"]
    lead, member = users["lead_b"], users["member_b"]
    return {
        "target": f"unit:{world.ids['unit']['C']}",
        "template_id": str(world.ids["template"]["used"]),
        "member": [str(lead), str(member)],
        "lead": str(lead),
        f"cert-{lead}": "证3",
        f"cert-{member}": "证4",
        "scheduled_on": f"{world.year}-06-01",
        "confirm_cap": "1",
    }


def _team_form(world, target):
    users = world.ids["user"]
    lead, member = users["lead_a"], users["member"]
    return {
        "member": [str(lead), str(member)],
        "lead": str(lead),
        f"cert-{lead}": "证1",
        f"cert-{member}": "证2",
        "scheduled_on": f"{world.year}-06-02",
    }


def _user_form(world, target):
    if target == "admin":
        return {"role": "admin", "display_name": "墙测管理员", "active": "y"}
    return {
        "role": "inspector",
        "display_name": "墙测队员",
        "department_code": "WALL-D",
        "certificate_no": "证2",
        "active": "y",
    }


NEW_PASSWORD = "walls-new-password-42"
UNIT_A, SYSTEM_A = UNITS["A"]["code"], UNITS["A"]["system"][0]

# Form fields (or {"json": ...}) for each write; the CSRF token is added to every request.
BODIES = {
    "auth.login": lambda w, t: {"username": "wall_admin", "password": "not-the-password"},
    "auth.logout": lambda w, t: {},
    "auth.change_password": lambda w, t: {
        "current": TEST_PASSWORD,
        "new": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    },
    "auth.language": lambda w, t: {"lang": "en"},
    "api.respond": lambda w, t: {
        "json": {
            "cause": "制度缺失",
            "measures": "已印发制度",
            "completed_on": local_today().isoformat(),  # after the inspection, not ahead
            "responsible_person": "赵六",
        }
    },
    "api.request_extension": lambda w, t: {
        "json": {
            "reason": "需采购设备",
            "proposed_date": f"{w.year + 1}-03-01",
            "interim_measures": "临时关闭外网访问",
        }
    },
    "api.decide_extension": lambda w, t: {"json": {"grant": True}},
    "api.verify": lambda w, t: {"json": {"note": "同意销号"}},
    "api.return_item": lambda w, t: {"json": {"reason": "不足", "due_date": f"{w.year + 1}-01-31"}},
    "api.escalate": lambda w, t: {
        "json": {"to": "police", "body": "市公安局网安支队", "reason": "逾期未改"}
    },
    "api.bulk": lambda w, t: {
        "json": {
            "action": "extend",
            "items": [{"id": w.ids["item"]["A.open"]}],
            "due_date": f"{w.year + 1}-02-28",
        }
    },
    "auth.login_code": lambda w, t: {"code": "000000"},
    "auth.mfa_start": lambda w, t: {},
    "auth.mfa_confirm": lambda w, t: {"code": "000000"},
    "auth.recovery_codes": lambda w, t: {"code": "000000"},
    "auth.end_other_sessions": lambda w, t: {},
    "directory.user_sign_in": lambda w, t: {"action": "unlock"},
    "exports.start": lambda w, t: {"kind": "export.round", "year": str(w.year), "seq": "3"},
    "checklists.upload": lambda w, t: {
        "file": (io.BytesIO(_checklist_yaml()), "walls.yaml"),
        "action": "load",
    },
    "checklists.delete": lambda w, t: {},
    "directory.department_new": lambda w, t: {"code": "WALL-D2", "name": "墙测新部门"},
    "directory.department_edit": lambda w, t: {"code": "WALL-D", "name": "墙测网信改"},
    "directory.unit_new": lambda w, t: {
        "code": "UNIT-N-7733",
        "name": "新建墙测单位",
        "kind": "party_gov",
        "active": "y",
    },
    "directory.unit_edit": lambda w, t: {
        "code": UNIT_A,
        "name": UNITS["A"]["name"],
        "kind": "party_gov",
        "contact_name": "赵六",
        "active": "y",
    },
    "directory.system_new": lambda w, t: {
        "code": "SYS-N-7733",
        "name": "新墙测系统",
        "unit_code": UNIT_A,
        "mlps_level": "3",
        "active": "y",
    },
    "directory.system_edit": lambda w, t: {
        "code": SYSTEM_A,
        "name": UNITS["A"]["system"][1],
        "unit_code": UNIT_A,
        "mlps_level": "2",
        "active": "y",
    },
    "directory.import_file": lambda w, t: {
        "file": (
            io.BytesIO(
                units_workbook(
                    [{"code": "UNIT-I-7734", "name": "导入墙测单位", "kind": "事业单位"}]
                )
            ),
            "units.xlsx",
        )
    },
    "directory.user_new": lambda w, t: {
        "username": "wall_new_user",
        "role": "inspector",
        "department_code": "WALL-D",
        "certificate_no": "证9",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    },
    "directory.user_edit": _user_form,
    "directory.user_password": lambda w, t: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    "rounds.plan": lambda w, t: {"year": "2031"},
    "rounds.edit": lambda w, t: {
        "title": "墙测轮次",
        "theme": "key_units",
        "nature": "enterprise_inspection",
        "start_date": f"{w.year}-01-01",
        "end_date": f"{w.year}-12-31",
        "departments": [str(w.ids["department"]["dept"])],
    },
    "rounds.status": lambda w, t: {"to": "closed", "confirm": "1"},
    "rounds.assign": _assign_form,
    "rounds.inspection_edit": _team_form,
    "rounds.inspection_remove": lambda w, t: {},
    "inspections.start": lambda w, t: {},
    "inspections.save": _save_form,
    "inspections.submit": lambda w, t: {
        "signatory_name": "王五",
        "signature": _png_data_url(),
        "confirm": "y",
    },
    "inspections.served": lambda w, t: {
        "served_on": local_today().isoformat(),
        "method": "electronic",
        "place": "单位电子邮箱",
        "server_a": str(w.ids["user"]["lead_a"]),
    },
    "inspections.approve_notice": lambda w, t: {},
    "inspections.self_assessment": lambda w, t: {},
    "inspections.rate_visit": lambda w, t: {"rating": "4", "comment": "墙测评价"},
    "rounds.approve_visit": lambda w, t: {"preparation": "请准备网络安全责任制文件"},
    "rounds.advance_served": lambda w, t: {"served_on": local_today().isoformat()},
    "inspections.arrive": lambda w, t: {"code": w.ids["arrival_code"]["A"]},
    "inspections.update_record": lambda w, t: {
        # this minute: 09:00 today was in the future before 09:00 (the start is checked)
        "started_at": utc_to_local(utcnow()).strftime("%Y-%m-%dT%H:%M"),
        "method": "onsite",
        "place": "墙测机房",
    },
    "inspections.sign_record": lambda w, t: {"signature": _png_data_url()},
    "inspections.reopen": lambda w, t: {"reason": "墙测重开"},
    "api.post_answers": lambda w, t: {
        "json": {
            "changes": [
                {
                    "change_id": str(uuid.uuid4()),
                    "item_id": w.items["W-02"],
                    "base_version": w.versions.get(t, {}).get("W-02", 0),
                    "note": "墙测",
                }
            ]
        }
    },
    "api.post_evidence": lambda w, t: {
        "file": (io.BytesIO(photo_bytes((200, 40, 40))), "墙测.jpg")
    },
    "api.submit": lambda w, t: {"json": {"signatory_name": "王五", "signature": _png_data_url()}},
    "api.delete_evidence": lambda w, t: {},
    "inspections.remove_recording": lambda w, t: {},
    "inspections.upload_recording": lambda w, t: {
        "file": (io.BytesIO(mp4_bytes(pad=99)), "记录.mp4")
    },
    "rectification.bulk": lambda w, t: {
        "item": f"{w.id('item', 'A.submitted')}:{w.item_versions['A.submitted']}",
        "action": "verify",
        "note": "墙测批量验收",
    },
    "rectification.respond": lambda w, t: _step_form(
        w,
        t,
        "respond",
        cause="墙测原因",
        measures="墙测措施",
        completed_on=local_today().isoformat(),
        responsible_person="墙测人",
        source="墙测纸质报告",
    ),
    "rectification.request_extension": lambda w, t: _step_form(
        w,
        t,
        "extension",
        reason="墙测延期",
        proposed_date=(local_today() + timedelta(days=60)).isoformat(),
        interim_measures="墙测临时措施",
        source="墙测纸质申请",
    ),
    "rectification.decide_extension": lambda w, t: _step_form(w, t, "decide", decision="grant"),
    "rectification.verify": lambda w, t: _step_form(w, t, "verify", note="墙测验收"),
    "rectification.return_item": lambda w, t: _step_form(
        w,
        t,
        "return",
        reason="墙测退回",
        due_date=(local_today() + timedelta(days=10)).isoformat(),
    ),
    "rectification.accept_risk": lambda w, t: _step_form(
        w,
        t,
        "risk",
        reason="墙测接受风险",
        until=(local_today() + timedelta(days=30)).isoformat(),
    ),
    "rectification.escalate": lambda w, t: _step_form(
        w, t, "escalate", to="police", body="墙测公安", reason="墙测移送"
    ),
    "rectification.interview": lambda w, t: _step_form(
        w,
        t,
        "interview",
        held_on=local_today().isoformat(),
        place="墙测地点",
        office_people="墙测甲",
        unit_people="墙测乙",
        content="墙测约谈",
    ),
    "rectification.notification": lambda w, t: _step_form(
        w, t, "notification", to_body="墙测主管部门", content="墙测通报"
    ),
    "notifications.open": lambda w, t: {},
    "notifications.read_all": lambda w, t: {},
    "jobs.start": lambda w, t: {"kind": "test.count", "rows": "3"},
    "jobs.again": lambda w, t: {},
}

# Writes that change rows without an audit event, and why.
UNAUDITED = {
    # Marking read records what one person has seen in their own inbox, not a change to a
    # record of the inspection or its rectification (see notifications/services.py).
    "notifications.open",
    "notifications.read_all",
}


def _step_form(world, target, prefix, **fields):
    """An item-page form: its prefixed fields and the version the world left the item at."""
    version = world.item_versions.get(target, 0)
    return {f"{prefix}-version": str(version), **{f"{prefix}-{k}": v for k, v in fields.items()}}


def _request(world_db, endpoint, method, target, client):
    app, world = world_db.app, world_db.world
    url = _url(app, world, endpoint, target)
    kw = {"headers": {"X-CSRFToken": world_db.token(client)}}
    if method in WRITE_METHODS:
        body = dict(BODIES[endpoint](world, target))
        if "json" in body:
            kw["json"] = body["json"]
        else:
            body["csrf_token"] = world_db.token(client)
            kw["data"] = body
    response = world_db.client(client).open(url, method=method, **kw)
    body = response.get_data()
    response.close()
    return url, response, body


# --- the tests ------------------------------------------------------------------------------------


def test_every_rule_and_method_is_in_the_table(app):
    """A route without lines in TABLE (or lines for a route that is gone) fails here."""
    have = {(endpoint, method) for endpoint, method, _t, _e in ROWS}
    need = set()
    for rule in app.url_map.iter_rules():
        need.add((rule.endpoint, "GET"))
        need |= {(rule.endpoint, m) for m in rule.methods if m in WRITE_METHODS}
    assert not need - have, f"add these to TABLE in {__file__}: {sorted(need - have)}"
    assert not have - need, f"TABLE names rules or methods that do not exist: {sorted(have - need)}"
    missing_bodies = {e for e, m in need if m in WRITE_METHODS} - set(BODIES)
    assert not missing_bodies, f"add request bodies to BODIES: {sorted(missing_bodies)}"


@pytest.mark.parametrize(("endpoint", "method", "target", "client", "expected"), list(_params()))
def test_route_matrix(world_db, endpoint, method, target, client, expected):
    writes = method in WRITE_METHODS
    if writes:
        # Every case starts from the world as built (its SAVEPOINT rolls back to it).
        before, events_before = world_db.baseline
    url, response, body = _request(world_db, endpoint, method, target, client)
    status = response.status_code
    where = f"{method} {url} as {client}"
    assert status != 500, f"{where}: 500"
    assert status in expected, f"{where}: got {status}, the table says {sorted(expected)}"

    if status == 200 and client in FORBIDDEN:
        text = body.decode("utf-8", errors="ignore")
        for unit in FORBIDDEN[client]:
            # A value the client typed itself (a filter echoed in its field) is no leak.
            typed = unquote(url)
            leaked = [m for m in world_db.world.markers[unit] if m in text and m not in typed]
            assert not leaked, f"{where}: unit {unit}'s rows leak: {leaked}"
    if client == "anon" and status == 302:
        assert "/auth/login" in response.headers.get("Location", ""), where
    if status == 401:
        assert url.startswith("/api/"), where
    if url.startswith("/api/") and status >= 400:
        error = response.get_json()["error"]
        assert error["status"] == status and error["code"] and error["message"], where
    if status == 200 and response.mimetype == "text/html":
        assert not EXTERNAL.search(body.decode("utf-8", errors="ignore")), where

    if writes:
        after = world_db.fingerprint()
        refused = status >= 400 or (client == "anon" and endpoint != "auth.login")
        if refused:
            assert after == before, f"{where}: refused with {status} but the database changed"
        elif after != before and endpoint not in UNAUDITED:
            assert world_db.audit_count() > events_before, (
                f"{where}: changed without an audit event"
            )


# The rules anyone may open without logging in (folded in from the old tests/test_routes.py).
PUBLIC = {
    "static",
    "auth.login",
    "main.healthz",
    "main.readyz",  # health probes: no data, only whether the database answers
    "main.service_worker",
    "public.items",  # the published 检查事项清单 (公示, 54号文)
    "main.offline",
    "api.csrf_token",
    "api.openapi_document",
}


def test_only_the_public_rules_answer_anonymous_clients():
    """Making a page public takes two edits: its TABLE line and PUBLIC."""
    open_to_anon = {e for e, m, _t, expected in ROWS if m == "GET" and expected["anon"] & {200}}
    assert open_to_anon == PUBLIC
    for endpoint, method, _target, expected in ROWS:
        if endpoint not in PUBLIC and method == "GET":
            assert expected["anon"] <= {302, 401, 405}, endpoint


def test_the_world_has_what_the_table_names(world_db):
    """Guards the table against a world that silently lost a row (every name resolves)."""
    world = world_db.world
    for _endpoint, _method, target, _expected in ROWS:
        for name in re.findall(r"\{([a-z]+):([^}]+)\}", target):
            assert world.id(*name) != MISSING_ID
    assert set(world.ids["inspection"]) >= {"A.planned", "A.ready", "B.closed"}
    assert all(world.markers[k] for k in ("A", "B"))


def test_the_leak_check_can_see_what_it_looks_for(world_db):
    """The markers a unit user must not see of the other unit are on that unit's own pages, so
    their absence in the matrix means something (codes, names, findings, notice numbers)."""
    world = world_db.world
    pages = {
        "unit": f"/directory/units/{world.id('unit', 'B')}",
        "systems": "/directory/systems",
        "record": f"/inspections/{world.id('inspection', 'B.submitted')}/record",
        "notice": f"/inspections/{world.id('inspection', 'B.submitted')}/notice",
        "closed notice": f"/inspections/{world.id('inspection', 'B.closed')}/notice",
    }
    seen = ""
    for url in pages.values():
        response = world_db.client("unit_b").get(url)
        assert response.status_code == 200, url
        seen += response.get_data(as_text=True)
    unseen = [m for m in world.markers["B"][:-3] if m not in seen]  # usernames aside
    assert not unseen
