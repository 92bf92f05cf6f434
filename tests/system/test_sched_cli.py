"""berth sched simulate and berth sched replay, run as a user runs them.

The scheduler's logic is tested exhaustively in tests/unit (test-sched-*); these tests check the
commands: files in and out, the summary, the journal on disk, what a cut journal and a damaged
one do, and that bad input gives one line, exit 1, and no half-written output.
"""

import json
import os
import random
import subprocess

import pytest

from conftest import BUILD_DIR, REPO

BERTH = os.path.join(BUILD_DIR, "berth")
EXAMPLES = os.path.join(REPO, "examples")


def berth(*args, check=True):
    p = subprocess.run([BERTH, *args], capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError("berth %s: exit %d\n%s" % (" ".join(args), p.returncode, p.stderr))
    return p


def simulate(tmp, *extra, cluster="cluster.json", jobs="jobs.jsonl"):
    decisions = os.path.join(tmp, "decisions.jsonl")
    journal = os.path.join(tmp, "journal.jsonl")
    p = berth("sched", "simulate", "--cluster", os.path.join(EXAMPLES, cluster) if "/" not in cluster else cluster,
              "--jobs", os.path.join(EXAMPLES, jobs) if "/" not in jobs else jobs,
              "--decisions", decisions, "--journal", journal, *extra)
    with open(decisions) as f:
        return p, f.read(), journal


def test_simulate_examples(ctx):
    p, decisions, _ = simulate(ctx.dir)
    lines = [json.loads(l) for l in decisions.splitlines()]
    # every line is a decision numbered 1, 2, ...; every job of the example is placed
    assert [d["seq"] for d in lines] == list(range(1, len(lines) + 1))
    with open(os.path.join(EXAMPLES, "jobs.jsonl")) as f:
        jobs = [json.loads(l) for l in f if l.strip() and "id" in json.loads(l)]
    placed = {d["job"] for d in lines if "node" in d and "requeued" not in d and "preempted_by" not in d}
    assert placed == {j["id"] for j in jobs}
    # the node_down in the example requeues what ran on l4-a1
    assert any(d.get("requeued") == "node_down" and d["node"] == "l4-a1" for d in lines)
    assert p.stdout.startswith("policy binpack, 4 nodes, %d jobs: %d placed, 0 pending" % (len(jobs), len(jobs)))
    assert "decisions/s" in p.stdout


def test_summary_json(ctx):
    p, _, _ = simulate(ctx.dir, "--summary-json", "--policy", "spread")
    s = json.loads(p.stdout)
    assert s["policy"] == "spread" and s["nodes"] == 4
    assert s["placed"] == s["jobs"] and s["pending"] == 0
    assert len(s["util_ppm"]) == 3 and all(0 <= v <= 1000000 for v in s["util_ppm"])


def test_same_input_same_bytes_and_yaml_shuffled(ctx):
    """Twice the same bytes; the YAML cluster (the same nodes, listed in another order) too."""
    _, first, _ = simulate(ctx.dir)
    _, second, _ = simulate(ctx.dir)
    _, from_yaml, _ = simulate(ctx.dir, cluster="cluster.yaml")
    assert first == second == from_yaml


def test_replay_identical_then_cut(ctx):
    _, decisions, journal = simulate(ctx.dir)
    n = len(decisions.splitlines())
    p = berth("sched", "replay", journal)
    assert p.stdout == "identical, %d decisions\n" % n

    # a crash mid-write: cut the journal inside a record
    with open(journal, "rb") as f:
        data = f.read()
    cut = data.rindex(b"\n", 0, len(data) // 2) + 10
    with open(journal, "wb") as f:
        f.write(data[:cut])
    p = berth("sched", "replay", journal)
    kept = data[:cut].rsplit(b"\n", 1)[0]
    kept_decisions = sum(1 for l in kept.split(b"\n") if l.startswith(b'{"seq"'))
    assert p.stdout == "identical, %d decisions\n" % kept_decisions
    assert p.stderr == "journal: cut a torn record at byte %d (%d bytes)\n" % (len(kept) + 1, cut - len(kept) - 1)


def test_replay_finds_an_edited_record(ctx):
    _, _, journal = simulate(ctx.dir)
    with open(journal) as f:
        lines = f.read().splitlines(True)
    i = next(k for k, l in enumerate(lines) if '"node":"cpu-a1"' in l and k < len(lines) - 3)
    lines[i] = lines[i].replace('"node":"cpu-a1"', '"node":"cpu-b1"')
    with open(journal, "w") as f:
        f.writelines(lines)
    p = berth("sched", "replay", journal, check=False)
    assert p.returncode == 1
    assert p.stdout == ""
    assert p.stderr.startswith("berth: %s: record %d at byte %d: sha256 mismatch" %
                               (journal, i + 2, sum(len(l) for l in lines[:i + 1])))


@pytest.mark.parametrize("line, message", [
    ('{"id":"a","submit":0,"duration":1,"priority":0,"cpu":"1x","memory":1,"gpus":0}',
     'line 2: cpu: "1x": unknown suffix "x"'),
    ('{"id":"a","submit":0,"duration":1,"priority":0,"cpu":1,"memory":1,"gpus":0,"colour":1}',
     "line 2: colour: unknown field"),
    ('{"event":"node_down","node":"nope","at":3}', 'line 2: node: no node "nope" in the cluster'),
    ('{"id":"a","submit":0,"duration":1,"priority":0,"cpu":1,"memory":1,"gpus":0,"cpu":2}',
     "line 2: cpu: duplicate key"),
    ('{"id":"ok","submit":0,"duration":1,"priority":0,"cpu":1,"memory":1,"gpus":0}',
     'line 2: id: duplicate job id "ok" (first on line 1)'),
])
def test_bad_input_one_line_and_nothing_left(ctx, line, message):
    jobs = os.path.join(ctx.dir, "jobs.jsonl")
    with open(jobs, "w") as f:
        f.write('{"id":"ok","submit":0,"duration":1,"priority":0,"cpu":1,"memory":1,"gpus":0}\n' + line + "\n")
    out = os.path.join(ctx.dir, "out")
    os.mkdir(out)
    p = berth("sched", "simulate", "--cluster", os.path.join(EXAMPLES, "cluster.json"), "--jobs", jobs,
              "--decisions", os.path.join(out, "d.jsonl"), "--journal", os.path.join(out, "j.jsonl"), check=False)
    assert p.returncode == 1
    assert p.stdout == ""
    assert len(p.stderr.splitlines()) == 1 and message in p.stderr, p.stderr
    assert os.listdir(out) == []


def test_bad_options(ctx):
    for args, message in [
        (["--cluster", "x"], "--cluster and --jobs are required"),
        (["--cluster", "x", "--jobs", "y", "--policy", "best"], 'unknown policy "best"'),
        (["--cluster", "x", "--jobs", "y", "--until", "-1"], '--until: "-1" is not a whole number of seconds'),
        (["--cluster", os.path.join(ctx.dir, "missing.json"), "--jobs", "y"], "missing.json: No such file"),
    ]:
        p = berth("sched", "simulate", *args, check=False)
        assert p.returncode == 1 and message in p.stderr and len(p.stderr.splitlines()) == 1, (args, p.stderr)
    p = berth("sched", "replay", os.path.join(ctx.dir, "none.jsonl"), check=False)
    assert p.returncode == 1 and "none.jsonl" in p.stderr


def test_random_streams_replay(ctx):
    """A few generated clusters and streams with every feature: simulate, replay identical."""
    rng = random.Random(5)
    for case in range(5):
        nodes = []
        for i in range(rng.randint(2, 6)):
            node = {"name": "n%d" % i, "cpu": rng.choice([2, 4, 8]), "memory": rng.choice(["4Gi", "8Gi"])}
            if rng.random() < 0.5:
                node["gpus"] = [{"uuid": "G-%d-%d" % (i, g), "model": rng.choice(["A", "B"]), "memory": "40Gi",
                                 "nvlink": g // 2} for g in range(rng.choice([2, 4]))]
            nodes.append(node)
        rng.shuffle(nodes)
        lines = []
        for k in range(40):
            job = {"id": "j%d" % k, "submit": rng.randint(0, 30), "duration": rng.randint(1, 20),
                   "priority": rng.choice([0, 0, 5]), "cpu": rng.choice(["500m", 1, 2, 3]),
                   "memory": rng.choice(["1Gi", "2Gi"]), "gpus": rng.choice([0, 0, 1, 2])}
            if rng.random() < 0.2:
                job["preemptible"] = True
            if k % 13 == 1:
                job["gang"] = "g%d" % (k // 26)
                job["priority"] = 0
            lines.append(json.dumps(job))
        lines.insert(20, json.dumps({"event": "node_down", "node": nodes[0]["name"], "at": 10}))
        lines.insert(30, json.dumps({"event": "node_up", "node": nodes[0]["name"], "at": 25}))
        cluster = os.path.join(ctx.dir, "c%d.json" % case)
        jobs = os.path.join(ctx.dir, "j%d.jsonl" % case)
        with open(cluster, "w") as f:
            json.dump({"nodes": nodes}, f)
        with open(jobs, "w") as f:
            f.write("\n".join(lines) + "\n")
        _, decisions, journal = simulate(ctx.dir, "--starve-after", "5", cluster=cluster, jobs=jobs)
        p = berth("sched", "replay", journal)
        assert p.stdout == "identical, %d decisions\n" % len(decisions.splitlines())


def test_unwritable_journal_leaves_no_decisions_file(ctx):
    decisions = os.path.join(ctx.dir, "decisions.jsonl")
    p = berth("sched", "simulate", "--cluster", os.path.join(EXAMPLES, "cluster.json"),
              "--jobs", os.path.join(EXAMPLES, "jobs.jsonl"), "--decisions", decisions,
              "--journal", os.path.join(ctx.dir, "missing", "j.jsonl"), check=False)
    assert p.returncode == 1
    assert p.stderr.startswith("berth: sched simulate: create ") and "No such file or directory" in p.stderr
    assert len(p.stderr.splitlines()) == 1
    assert not os.path.exists(decisions)
