"""Running one ``manage.py``-style child process and measuring it on its own, or talking to one that
stays up (``Conversation``)."""

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


# The only directory a child sees on sys.path besides its venv: it holds bench_settings.py and nothing
# else, so an upstream venv never imports our oauth2_provider from the source tree.
CHILD_DIR = Path(__file__).resolve().parent / "child"

# Variables of the parent that would change what a child imports or how it configures Django.
# PYTHONDONTWRITEBYTECODE (set by tox) goes too: every contender should load cached bytecode, as the
# upstream venvs do since pip compiled them, instead of ours alone compiling its source on each run.
SCRUBBED = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONDONTWRITEBYTECODE",
    "DJANGO_SETTINGS_MODULE",
    "VIRTUAL_ENV",
)


@dataclass(frozen=True)
class ChildRun:
    """What one child cost: wall seconds, its own peak RSS in KiB, its exit code and its log file."""

    wall_s: float
    peak_rss_kib: int
    returncode: int
    log_path: Path


#: The checkout these benchmarks belong to: a child given it as ``source`` imports its oauth2_provider before
#: whatever the interpreter has installed (an editable install of another worktree, say).
SOURCE_TREE = Path(__file__).resolve().parent.parent


def child_environment(bench_vars, source=None):
    """Environment and working directory for a child configured by the ``BENCH_*`` variables given, with
    ``source`` (a directory holding ``oauth2_provider``) first on its path when given."""
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED}
    env.update(bench_vars)
    env["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    env["PYTHONPATH"] = os.pathsep.join([str(CHILD_DIR), *([str(source)] if source else [])])
    return env, CHILD_DIR


def run_child(python, args, bench_vars, log_path, source=None):
    """Run ``python args...`` to completion, with output to ``log_path``; return its measurements.

    ``os.wait4`` reaps exactly this child and returns its own resource usage, so ``ru_maxrss`` is the
    peak of this process alone (``RUSAGE_CHILDREN`` would be the maximum over every child so far).
    """
    env, cwd = child_environment(bench_vars, source)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen([python, *args], env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        wall_s = time.perf_counter() - started
    # Tell Popen the child is gone, so that it does not try to reap it again.
    process.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(wall_s, usage.ru_maxrss, process.returncode, log_path)


class ChildGone(Exception):
    """The child of a ``Conversation`` ended before it answered."""


class Conversation:
    """A child that stays up and answers each line it is sent with one JSON line.

    Its standard error goes to ``log_path``; the first line it prints (readiness) is ``greeting``.
    """

    def __init__(self, python, args, bench_vars, log_path):
        env, cwd = child_environment(bench_vars)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [python, *args],
                env=env,
                cwd=cwd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        self.greeting = self._answer()

    def ask(self, line):
        """Send ``line``; the child's answer, decoded."""
        try:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
        except BrokenPipeError as error:
            raise ChildGone(self._exit_note()) from error
        return self._answer()

    def _answer(self):
        line = self.process.stdout.readline()
        if not line:
            raise ChildGone(self._exit_note())
        return json.loads(line)

    def _exit_note(self):
        return f"exited with {self.process.wait()}"

    def close(self):
        """Tell the child to stop (``quit``) and wait for it; its exit code."""
        try:
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        return self.process.wait()


def migrate(python, target, bench_vars, log_path):
    """``python -m django migrate <target...>`` in a child: the command every contender is timed on."""
    return run_child(python, ["-m", "django", "migrate", *target, "--no-input"], bench_vars, log_path)


def log_tail(log_path, lines=20):
    """The last lines of a child's log, to show when it failed."""
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])
