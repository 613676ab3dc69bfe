"""CleanRL's PPO scripts, fetched at a pinned commit and adapted to this project's requirements, so that ours can be
measured beside them (benchmark/sps.py, benchmark/sweep.py --script cleanrl_ppo_atari.py, benchmark/experiments/).

    python benchmark/baselines/fetch.py                # downloads from GitHub
    python benchmark/baselines/fetch.py --from CLONE   # reads a clone of vwxyzjn/cleanrl instead (no network)

Takes cleanrl/ppo_continuous_action.py, cleanrl/ppo_atari.py, cleanrl_utils/atari_wrappers.py and LICENSE of
vwxyzjn/cleanrl at commit fe8d8a03, checks each against its pinned sha256, makes the edits listed in EDITS (each
an exact text that must occur once in the upstream file), checks each result against its own pinned sha256 and
writes, beside this file (git-ignored), cleanrl_ppo_continuous_action.py, cleanrl_ppo_atari.py,
cleanrl_atari_wrappers.py and CLEANRL_LICENSE. When all four are already there with the pinned content, nothing
is read. Any failure (a file that is not the pinned one, an edit whose text is missing, a directory that cannot be
written) is one line and exit code 2, and nothing is written; GitHub out of reach is one line and exit code 75
(EX_TEMPFAIL: try again later, or --from), which CI tells apart from a fetch that is broken. README.md beside this
file says what each edit is for.
"""

import argparse
import contextlib
import hashlib
import os
import stat
import sys
import tempfile
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = HERE  # where the adapted files go
REPO = "vwxyzjn/cleanrl"
COMMIT = "fe8d8a03c41a7ef5b523e2e354bd01c363e786bb"
URL = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"
UPSTREAM = {  # path in the repository: sha256 of the file at COMMIT
    "cleanrl/ppo_continuous_action.py": "326dd8678bf9cc51abec833eb551ef2409a3804d604b689e1f0a084eca41f655",
    "cleanrl/ppo_atari.py": "5fa8e1a1b609a6a5cc69ec7a4cddb957101f175e056a20471c7ac403182155b9",
    "cleanrl_utils/atari_wrappers.py": "7fbb7a5d6b9c020c99b6e1037f502657bbba4973f1e9c70c9629f66110c81f2d",
    "LICENSE": "c6c269472eecb009754856b5fe1029ee53b99b986f57bf22ad7c747b04799c69",
}

# gymnasium 1.x resets a finished sub-env on the step after the one that ended it (NEXT_STEP); the scripts were
# written for gymnasium 0.29, which resets it within the same step, and their rollout loop stores transitions
# that way. SAME_STEP restores it. Under SAME_STEP the finished episodes' infos come as one dict of arrays
# (the `_episode` mask says which sub-envs finished), not as a list of dicts.
FINAL_INFO_OLD = """\
            if "final_info" in infos:
                for info in infos["final_info"]:
                    if info and "episode" in info:
                        print(f"global_step={global_step}, episodic_return={info['episode']['r']}")
                        writer.add_scalar("charts/episodic_return", info["episode"]["r"], global_step)
                        writer.add_scalar("charts/episodic_length", info["episode"]["l"], global_step)
"""
FINAL_INFO_NEW = """\
            if "final_info" in infos and "episode" in infos["final_info"]:
                fi = infos["final_info"]
                for i in np.nonzero(fi["_episode"])[0]:
                    print(f"global_step={global_step}, episodic_return={fi['episode']['r'][i]}")
                    writer.add_scalar("charts/episodic_return", fi["episode"]["r"][i], global_step)
                    writer.add_scalar("charts/episodic_length", fi["episode"]["l"][i], global_step)
"""
AUTORESET = "        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,\n"
# The SPS line is what sps.py and sweep.py's logs read; flushed, it reaches a log file as the script prints it.
SPS_OLD = '        print("SPS:", int(global_step / (time.time() - start_time)))\n'
SPS_NEW = '        print("SPS:", int(global_step / (time.time() - start_time)), flush=True)\n'

EDITS = {  # file written here: (its upstream path, [(exact upstream text, its replacement)], sha256 of the result)
    "cleanrl_ppo_continuous_action.py": ("cleanrl/ppo_continuous_action.py", [
        # gymnasium 1.x's TransformObservation takes the new observation space as a required argument
        ("gym.wrappers.TransformObservation(env, lambda obs: np.clip(obs, -10, 10))",
         "gym.wrappers.TransformObservation(env, lambda obs: np.clip(obs, -10, 10), env.observation_space)"),
        ("for i in range(args.num_envs)]\n    )\n", "for i in range(args.num_envs)],\n" + AUTORESET + "    )\n"),
        (FINAL_INFO_OLD, FINAL_INFO_NEW),
        (SPS_OLD, SPS_NEW),
    ], "7419e44d4438f7cb623e109e545c6852032d9c6bdd07c02b8f9615a28f6e9fb9"),
    "cleanrl_ppo_atari.py": ("cleanrl/ppo_atari.py", [
        # ale-py 0.9 and later register the Atari ids with gymnasium only when asked to
        ("import gymnasium as gym\n", "import gymnasium as gym\nimport ale_py\ngym.register_envs(ale_py)\n"),
        # the wrappers are the file written beside this one, not the cleanrl_utils package
        ("from cleanrl_utils.atari_wrappers import (", "from cleanrl_atari_wrappers import ("),
        # gymnasium 1.0 renamed both wrappers
        ("gym.wrappers.GrayScaleObservation(env)", "gym.wrappers.GrayscaleObservation(env)"),
        ("gym.wrappers.FrameStack(env, 4)", "gym.wrappers.FrameStackObservation(env, 4)"),
        ("for i in range(args.num_envs)],\n    )\n", "for i in range(args.num_envs)],\n" + AUTORESET + "    )\n"),
        (FINAL_INFO_OLD, FINAL_INFO_NEW),
        (SPS_OLD, SPS_NEW),
    ], "e86602335deb55da8ae6381a44b716363610b7292881f8481a9109561bf599f7"),
    "cleanrl_atari_wrappers.py": ("cleanrl_utils/atari_wrappers.py", [],
                                  "7fbb7a5d6b9c020c99b6e1037f502657bbba4973f1e9c70c9629f66110c81f2d"),
    "CLEANRL_LICENSE": ("LICENSE", [], "c6c269472eecb009754856b5fe1029ee53b99b986f57bf22ad7c747b04799c69"),
}


class Failure(Exception):
    """What stopped the fetch, as the one line printed."""


class Unreachable(Failure):
    """GitHub could not be reached: exit code UNREACHABLE."""


UNREACHABLE = 75  # EX_TEMPFAIL
MAX_BYTES = 1 << 20  # each upstream file is under 20 kB: a file read from a clone is cut here (and then fails its pin)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def read_upstream(path, source):
    """The bytes of one upstream file, from GitHub at COMMIT or from the clone `source`, checked against UPSTREAM."""
    if source is not None:
        where = os.path.join(source, path)
        try:  # a regular file of bounded size: a pipe or /dev/zero in a handed clone must not hang the fetch
            with open(where, "rb", opener=lambda p, flags: os.open(p, flags | os.O_NONBLOCK)) as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    raise Failure(f"--from {source}: {path} is not a regular file: pass a clone of {REPO}")
                data = f.read(MAX_BYTES + 1)
        except OSError as e:
            raise Failure(f"--from {source}: cannot read {path} ({e.strerror}): pass a clone of {REPO}") from None
    else:
        where = URL.format(repo=REPO, commit=COMMIT, path=path)
        try:
            with urllib.request.urlopen(where, timeout=60) as response:
                data = response.read()
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", None) or e
            raise Unreachable(f"cannot download {where} ({reason}): check the network, or clone {REPO} and pass "
                              f"--from CLONE") from None
    if sha256(data) != UPSTREAM[path]:
        raise Failure(f"{where} is not {path} of {REPO} at commit {COMMIT[:8]} (sha256 {sha256(data)[:12]}..., "
                      f"expected {UPSTREAM[path][:12]}...): in a clone, run git checkout {COMMIT[:8]}")
    return data


def adapt(name, text, edits, digest):
    """text with each (old, new) of edits made; an old text that does not occur exactly once, or a result other
    than the pinned one (sha256 digest), stops the fetch."""
    for old, new in edits:
        if text.count(old) != 1:
            first = old.strip().splitlines()[0]
            raise Failure(f"{name}: the upstream text {first!r} occurs {text.count(old)} times, not once: the "
                          f"edit does not fit this version of the file")
        text = text.replace(old, new)
    if sha256(text.encode("utf-8")) != digest:
        raise Failure(f"{name}: the edits give sha256 {sha256(text.encode('utf-8'))[:12]}..., not the pinned "
                      f"{digest[:12]}...: EDITS in fetch.py and the pin disagree")
    return text


def in_place():
    """Whether every file is already written, as a regular file (not a link), with the content the pinned files and
    the edits give."""
    for name, (_, _, digest) in EDITS.items():
        path = os.path.join(OUT, name)
        if os.path.islink(path) or not os.path.isfile(path):
            return False
        with open(path, "rb") as f:
            if sha256(f.read()) != digest:
                return False
    return True


def fetch(source):
    if in_place():
        print(f"CleanRL's scripts are already in {os.path.relpath(OUT)}")
        return
    upstream = {path: read_upstream(path, source) for path in UPSTREAM}  # every file checked before any is written
    adapted = {name: adapt(name, upstream[path].decode("utf-8"), edits, digest)
               for name, (path, edits, digest) in EDITS.items()}
    for name in adapted:  # a directory in a file's place: refused before anything is written
        if os.path.isdir(os.path.join(OUT, name)) and not os.path.islink(os.path.join(OUT, name)):
            raise Failure(f"{os.path.join(os.path.relpath(OUT), name)} is a directory: move it away")
    for name, text in adapted.items():
        path = os.path.join(OUT, name)
        part = None
        try:  # a new file of a fresh name, renamed over the old one (a link there is replaced, never followed); a
            # fetch stopped midway leaves no half-written file
            with tempfile.NamedTemporaryFile("w", dir=OUT, prefix=f".{name}.", delete=False, encoding="utf-8",
                                             newline="") as f:  # fmt: skip
                part = f.name
                f.write(text)
            os.chmod(part, 0o644)
            os.replace(part, path)
        except OSError as e:
            if part:
                with contextlib.suppress(OSError):
                    os.remove(part)
            raise Failure(f"cannot write {path} ({e.strerror}): make {os.path.relpath(OUT)} writable") from None
        upstream_path, edits, _ = EDITS[name]
        made = f"{len(edits)} edits" if edits else "as it is"
        print(f"wrote {os.path.relpath(path)}: {REPO} {upstream_path} at {COMMIT[:8]}, {made}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", metavar="CLONE", default=None,
                        help=f"a clone of {REPO} (at commit {COMMIT[:8]}) to read the files from, in place of GitHub")
    args = parser.parse_args(argv)
    try:
        fetch(args.source)
    except Failure as e:
        print(f"fetch.py: error: {e}", file=sys.stderr)
        sys.exit(UNREACHABLE if isinstance(e, Unreachable) else 2)


if __name__ == "__main__":
    main()
