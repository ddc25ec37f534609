"""The app a `flask jobs worker` subprocess of the tests runs: the real one, plus test kinds.

flask --app tests.jobs.worker_app:make_app jobs worker
"""

from inspect_app import create_app

from .kinds import register_test_kinds


def make_app():
    register_test_kinds()
    return create_app()
