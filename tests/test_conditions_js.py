"""The browser's condition evaluator (static/js/conditions.js) agrees with the server's."""

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from inspect_app.checklists.conditions import _evaluate

NODE = shutil.which("node")
MODULE = Path(__file__).resolve().parent.parent / "inspect_app" / "static" / "js" / "conditions.js"
VALUES = [None, "compliant", "noncompliant", "not_applicable", "a", "b", 0, 1, 2, 2.5, True, False]
FIELDS = ["A", "B", "C"]


def _operand(rng, op):
    if op in ("in", "not_in"):
        return rng.sample([v for v in VALUES if v is not None], rng.randint(1, 3))
    if op in ("gt", "gte", "lt", "lte"):
        return rng.choice([0, 1, 2, 2.5])
    return rng.choice([v for v in VALUES if v is not None])


def _condition(rng, depth=0):
    roll = rng.random()
    if depth < 3 and roll < 0.15:
        return {
            rng.choice(["all", "any"]): [
                _condition(rng, depth + 1) for _ in range(rng.randint(1, 3))
            ]
        }
    if depth < 3 and roll < 0.25:
        return {"not": _condition(rng, depth + 1)}
    field = rng.choice(FIELDS)
    if rng.random() < 0.3:
        return {field: _operand(rng, "eq")}
    op = rng.choice(["eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in"])
    return {field: {op: _operand(rng, op)}}


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_browser_and_server_evaluate_3000_random_conditions_alike():
    rng = random.Random(20261128)
    cases = []
    for _ in range(3000):
        answers = {f: rng.choice(VALUES) for f in FIELDS}
        cases.append(
            {
                "cond": _condition(rng),
                "answers": {k: v for k, v in answers.items() if v is not None},
            }
        )
    script = (
        f"import {{ evaluate }} from {json.dumps(MODULE.as_uri())};\n"
        "let data = ''; process.stdin.on('data', (c) => (data += c));\n"
        "process.stdin.on('end', () => { const cases = JSON.parse(data);\n"
        "  console.log(JSON.stringify(cases.map((c) => evaluate(c.cond, (k) => c.answers[k])))); });\n"
    )
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
    )
    browser = json.loads(done.stdout)
    server = [_evaluate(c["cond"], lambda k, c=c: c["answers"].get(k)) for c in cases]
    mismatches = [(c, b, s) for c, b, s in zip(cases, browser, server, strict=True) if b != s]
    assert not mismatches, mismatches[:3]
    assert 0.2 < sum(server) / len(server) < 0.8  # the cases exercise both outcomes
