"""Interrupts: Ctrl-C (once or twice) and SIGTERM during XLA compilation end the command with
exit status 130 / 143, a line that tells the truth about what was kept, and no segmentation
fault (a normal interpreter shutdown under XLA's compiler threads ended in exit 139)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jaxsoftmax import cli
from jaxsoftmax.cli import reproduce

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--trials", "2", "--training.steps", "30", "--problem.n_test_per_class", "50"]


def _interrupt_during_compilation(
    tmp_path: Path, signals: list[int], command: tuple[str, ...] = ("reproduce", *SMALL)
) -> tuple[int, str]:
    """Starts ``python -m jaxsoftmax COMMAND`` with a fresh compilation cache, waits for
    "compiling", sends ``signals`` (0.2 s apart); returns the exit status and stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "jaxsoftmax", *command, "--no-plots"]
    cmd += ["--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
        text=True,  # (SIGINT inherited ignored is no matter: the command sets its handler)
    )
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:  # the line printed as compilation starts
        lines.append(line)
        if "compiling" in line:
            break
    time.sleep(0.3)  # inside XLA's compilation of the set-up program
    for s in signals:
        proc.send_signal(s)
        time.sleep(0.2)
    _, rest = proc.communicate(timeout=120)
    return proc.returncode, "".join(lines) + rest


@pytest.mark.parametrize(
    "signals, code",
    [
        ([signal.SIGINT], 130),
        ([signal.SIGINT, signal.SIGINT], 130),
        ([signal.SIGTERM], 143),
    ],
    ids=["ctrl-c", "ctrl-c-twice", "sigterm"],
)
def test_an_interrupt_during_compilation_exits_cleanly_and_says_nothing_was_kept(
    tmp_path, signals, code
):
    # Bug caught: KeyboardInterrupt left to the interpreter's shutdown while XLA compiles
    # (exit -11/139, "Segmentation fault"); SIGTERM killing with no message (exit -15); the
    # message "what was finished is kept" where nothing was; an empty --out folder left.
    rc, err = _interrupt_during_compilation(tmp_path, signals)
    assert rc == code, err
    assert "Segmentation fault" not in err and "Traceback" not in err, err
    name = signal.Signals(signals[0]).name
    assert f"interrupted ({name}): nothing was kept" in err, err
    assert not (tmp_path / "out").exists()  # the folder it had created is removed


def test_an_interrupted_reproduction_into_an_existing_folder_leaves_it_as_it_was(
    tmp_path, monkeypatch, capsys
):
    # Bug caught: the created-folder clean-up applied to a user's folder (deleting its files);
    # the interrupt reported as success (exit 0) or as a generic "kept" line.
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("the user's")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(reproduce, "compute", interrupted)
    assert cli.main(["reproduce", *SMALL, "--out", str(out), "--no-cache"]) == 130
    err = capsys.readouterr().err
    assert "interrupted (SIGINT): nothing was kept: reproduce writes its files only when" in err
    assert f"{out} is as it was" in err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    new = tmp_path / "new" / "run"  # both folders created by the run, both removed
    assert cli.main(["reproduce", *SMALL, "--out", str(new), "--no-cache"]) == 130
    assert f"the folder it had created ({new}) was removed" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_ctrl_c_twice_in_a_sweep_during_compilation_exits_130_and_keeps_what_was_finished(
    tmp_path,
):
    # Bug caught: the sweep's second Ctrl-C ("stop now") raised into the interpreter's
    # shutdown while XLA compiles (exit 139).
    desc = tmp_path / "sweep.json"
    base = {"trials": 2, "training": {"steps": 30}, "problem": {"n_test_per_class": 50}}
    desc.write_text(json.dumps({"name": "tiny", "base": base, "grid": {"seed": [0, 1]}}))
    rc, err = _interrupt_during_compilation(
        tmp_path, [signal.SIGINT, signal.SIGINT], ("sweep", str(desc))
    )
    assert rc == 130, err
    assert "Segmentation fault" not in err and "Traceback" not in err, err
    assert "kept" in err and "rerun the same command to resume" in err, err


def test_a_stop_lost_in_a_gc_callback_is_silent_and_raised_at_the_next_progress_update(capsys):
    # Bugs: the handler's exception, raised inside JAX's gc callback, printed as a traceback
    # and lost (the run went on to the end and exited 0); a second signal breaking the
    # clean-up once the command has taken the stop.
    import gc

    from jaxsoftmax import progress

    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    old_hook = sys.unraisablehook
    shown: list = []
    sys.unraisablehook = shown.append  # what Python would print
    progress.reset_stop()
    progress.handle_signals()

    def callback(phase, info):
        if phase == "start":
            gc.callbacks.remove(callback)
            progress._on_signal(signal.SIGTERM, None)  # as Python runs it: in the callback

    try:
        gc.callbacks.append(callback)
        gc.collect()  # the Interrupted is raised in the callback and ignored by gc
        assert shown == [] and capsys.readouterr().err == ""  # not printed
        with progress.Progress(10, "x", quiet=True) as bar:
            with pytest.raises(progress.Interrupted) as caught:
                bar.update_to(1)
            assert caught.value.signum == signal.SIGTERM
            assert progress.acknowledge() == signal.SIGTERM
            progress._on_signal(signal.SIGINT, None)  # taken: ignored while cleaning up
            bar.update_to(2)
    finally:
        progress.reset_stop()
        sys.unraisablehook = old_hook
        for s, h in old.items():
            signal.signal(s, h)
