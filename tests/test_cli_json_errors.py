"""``--json`` commands report an error as a JSON object on stdout too (issue 20, defect 16).

A program that asked for JSON reads stdout; on an error it used to get nothing there (only
``error:`` / ``hint:`` on stderr). Now stdout holds ``{"error": {"type", "message", "hint",
"exit_code"}}`` and stderr keeps the human lines; the exit code is the error's.
"""

from __future__ import annotations

import json


def test_json_error_object_on_stdout(cli, tmp_path):
    r = cli("lock", "--json", cwd=tmp_path)  # no localmodels.toml here or above
    assert r.returncode == 2, r.stdout + r.stderr
    err = json.loads(r.stdout)["error"]
    assert err["type"] == "ManifestError" and err["exit_code"] == 2
    assert "localmodels.toml" in err["message"] and err["hint"]
    assert "error:" in r.stderr and "Traceback" not in r.stderr

    r = cli("info", "acme/never-pulled", "--json", env={"HF_HUB_OFFLINE": "1"})
    assert r.returncode != 0
    err = json.loads(r.stdout)["error"]
    assert err["type"] == "NotInStoreError" and err["exit_code"] == r.returncode


def test_without_json_stdout_stays_empty_on_error(cli, tmp_path):
    r = cli("lock", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == "" and "error:" in r.stderr


def test_json_after_a_double_dash_is_an_argument_not_the_flag(cli, tmp_path):
    r = cli("info", "--", "--json", env={"HF_HUB_OFFLINE": "1"})
    assert r.returncode != 0 and not r.stdout.strip().startswith("{"), r.stdout


def test_error_text_in_brackets_is_printed_as_written(cli):
    """A message or hint holding ``[...]`` (a ref, ``pip install 'localmodels[static]'``) is text, not
    rich markup: ``x[static]y`` used to print as ``xy`` (and ``localmodels[distill]`` as ``localmodels``)."""
    r = cli("info", "x[static]y", env={"HF_HUB_OFFLINE": "1"})
    assert r.returncode != 0
    assert "'x[static]y'" in r.stderr, r.stderr
