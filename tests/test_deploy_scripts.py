"""deploy/: the two-host drill is a script, not a test (it starts nginx, gunicorn and a database);
here only its syntax and the nginx configuration it writes are checked."""

import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def test_the_cluster_script_is_valid_bash():
    subprocess.run(["bash", "-n", str(DEPLOY / "local-cluster.sh")], check=True)


def _render(work: Path) -> Path:
    text = (DEPLOY / "nginx-cluster.conf.template").read_text()
    for name, value in {
        "@WORK@": str(work),
        "@PORT@": "8180",
        "@HOST_A@": "127.0.0.1:8181",
        "@HOST_B@": "127.0.0.1:8182",
        "@USER_LINE@": "",
    }.items():
        text = text.replace(name, value)
    conf = work / "nginx.conf"
    conf.write_text(text)
    return conf


def test_the_nginx_template_fills_every_placeholder_and_nginx_accepts_it(tmp_path):
    conf = _render(tmp_path)
    assert "@" not in conf.read_text().replace("$", "")
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if nginx is None:
        pytest.skip("nginx is not installed (deploy/local-cluster.sh installs it)")
    checked = subprocess.run(
        [nginx, "-t", "-q", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
