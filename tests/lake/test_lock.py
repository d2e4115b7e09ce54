"""The lake lock: one writer at a time, a clear refusal naming the holder, stale locks recovered."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys

import pytest

from sf_spark import cli, pipeline
from sf_spark.lake.lock import LOCK_NAME, LakeLockedError, lake_lock


def test_a_second_holder_is_refused_with_the_first_ones_name(tmp_path):
    with lake_lock(str(tmp_path), "score") as holder:
        assert json.loads((tmp_path / LOCK_NAME).read_text()) == holder
        with (
            pytest.raises(LakeLockedError, match=r"locked by score by .*\(pid \d+\) since"),
            lake_lock(str(tmp_path), "ingest"),
        ):
            pass
    assert not (tmp_path / LOCK_NAME).exists()


def test_the_lock_is_released_when_the_step_fails(tmp_path):
    with pytest.raises(RuntimeError), lake_lock(str(tmp_path), "train"):
        raise RuntimeError("boom")
    with lake_lock(str(tmp_path), "train"):
        pass


def test_a_lock_whose_process_is_gone_is_taken_over(tmp_path, capsys):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = {
        "step": "score",
        "user": "x",
        "host": socket.gethostname(),
        "pid": int(gone.stdout),
        "since": dt.datetime.now(dt.UTC).isoformat(),
    }
    (tmp_path / LOCK_NAME).write_text(json.dumps(stale))
    with lake_lock(str(tmp_path), "ingest") as holder:
        assert holder["pid"] == os.getpid()
    assert "taking over a stale lake lock" in capsys.readouterr().out


def test_an_old_lock_of_another_host_is_taken_over_a_recent_one_is_not(tmp_path):
    old = {
        "step": "score",
        "host": "elsewhere",
        "pid": 1,
        "since": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=13)).isoformat(),
    }
    (tmp_path / LOCK_NAME).write_text(json.dumps(old))
    with lake_lock(str(tmp_path), "ingest", stale_after_hours=12):
        pass
    recent = {**old, "since": dt.datetime.now(dt.UTC).isoformat()}
    (tmp_path / LOCK_NAME).write_text(json.dumps(recent))
    with pytest.raises(LakeLockedError, match="elsewhere"), lake_lock(str(tmp_path), "ingest", stale_after_hours=12):
        pass


@pytest.mark.parametrize(
    "command",
    [["ingest", "--raw", "RAW"], ["score", "--period", "2024-01"], ["run", "--raw", "RAW"], ["features"], ["train"]],
)
def test_a_command_on_a_locked_lake_exits_4_and_touches_nothing(tmp_path, capsys, command):
    lake = tmp_path / "lake"
    (tmp_path / "RAW").mkdir()
    argv = [a.replace("RAW", str(tmp_path / "RAW")) for a in command]
    with lake_lock(str(lake), "score"):
        status = cli.main([*argv, "--lake", str(lake)])
    assert status == pipeline.LOCKED == 4
    assert "is locked by score" in capsys.readouterr().err
    assert sorted(p.name for p in lake.iterdir()) == []  # the lock is gone, nothing was written


def test_exit_statuses_tell_clean_problems_and_stopped_apart(monkeypatch, capsys):
    summaries = {
        "clean": {"ingest": {"problems": []}, "score": {"problems": []}},
        "problems": {"ingest": {"problems": []}, "score": {"problems": ["drift: 2 features"]}},
        "stopped": {"ingest": {"problems": ["rejected f.csv: x"]}, "stopped": "ingest rejected input"},
    }
    for name, expected in [("clean", 0), ("problems", 3), ("stopped", 5)]:
        monkeypatch.setattr(pipeline, "run_command", lambda *a, s=summaries[name], **k: s)
        assert cli.main(["run", "--raw", "x", "--json"]) == expected
        out = json.loads(capsys.readouterr().out)
        assert out["exit_status"] == expected and out["problems"] == pipeline.problems(summaries[name])
