"""Multi-process jobs from Python (docs/cluster.md): the job keywords win over the launcher's
environment, reach the JSON summary's context.job, and two trackers of one job on one node count
the node-wide CPU once (the node election)."""
import json

import pytest

import epochwatt

SIM_CPU = dict(sim_cpu="c", sim_cpu_tdp=100.0, console=False, offline=True, intensity_g_per_kwh=100.0)


def job_of(summary_path):
    with open(summary_path) as f:
        return json.load(f)["context"]


def test_keywords_name_the_process_in_its_job(tmp_path):
    t = epochwatt.Tracker(epochs=1, json_path=str(tmp_path / "s.json"), rank=1, local_rank=1, world_size=2,
                          local_world_size=2, job_id="j1", step_id="3", node="n7",
                          runtime_dir=str(tmp_path / "run"), **SIM_CPU)
    t.stop()
    job = job_of(tmp_path / "s.json")["job"]
    assert (job["job_id"], job["step_id"], job["rank"], job["local_rank"], job["world_size"], job["node"]) == \
        ("j1", "3", 1, 1, 2, "n7")
    assert job["launcher"] == "options"


def test_contradictory_keywords_raise_options_error(tmp_path):
    with pytest.raises(epochwatt.OptionsError, match="rank 2 is not within a world of 2"):
        epochwatt.Tracker(epochs=1, log_dir=None, rank=2, world_size=2, **SIM_CPU)


def test_two_ranks_on_one_node_count_the_cpu_once(tmp_path):
    common = dict(world_size=2, local_world_size=2, job_id="j2", node="n0", runtime_dir=str(tmp_path / "run"),
                  **SIM_CPU)
    a = epochwatt.Tracker(epochs=1, json_path=str(tmp_path / "a.json"), rank=0, local_rank=0, **common)
    b = epochwatt.Tracker(epochs=1, json_path=str(tmp_path / "b.json"), rank=1, local_rank=1, **common)
    for t in (a, b):
        t.epoch_start()
    for t in (a, b):
        t.epoch_end()
    for t in (a, b):
        t.flush()  # the epoch is resolved on the sampler
    joules = [t.epochs()[0].joules for t in (a, b)]
    for t in (a, b):
        t.stop()
    assert joules[0] > 0 and joules[1] == 0, joules  # the first to start leads
    assert all(m["shared"] == "node" for m in job_of(tmp_path / "b.json")["devices"])


def test_independent_turns_it_off(tmp_path):
    t = epochwatt.Tracker(epochs=1, json_path=str(tmp_path / "s.json"), independent=True, rank=1, world_size=2,
                          **SIM_CPU)
    t.stop()
    ctx = job_of(tmp_path / "s.json")
    assert ctx["job"]["launcher"] == "none" and ctx["job"]["world_size"] == 1
    assert not any("shared" in m for m in ctx["devices"])


def test_comm_and_run_name_of_the_wrong_type_raise_type_error(tmp_path):
    # comm= is the only way to the mpi4py reduction (docs/cluster.md); anything but an mpi4py
    # intracommunicator is the caller's error, not a tracker that silently reports alone.
    with pytest.raises(TypeError, match="comm= takes an mpi4py intracommunicator"):
        epochwatt.Tracker(epochs=1, log_dir=None, comm=object(), **SIM_CPU)
    with pytest.raises(TypeError, match="run_name= takes a str"):
        epochwatt.Tracker(epochs=1, log_dir=None, run_name=3, **SIM_CPU)


def test_independent_wins_over_comm(tmp_path):
    t = epochwatt.Tracker(epochs=1, json_path=str(tmp_path / "s.json"), independent=True, comm=object(), **SIM_CPU)
    t.stop()
    assert t._job is None


def test_a_tracker_that_fails_to_build_takes_no_pairing_number(tmp_path):
    """The store's pairing number (docs/cluster.md, "Pairing in the store") is taken once the
    native tracker exists: a constructor that raises leaves the rank's count of trackers as it was,
    so the corrected tracker still pairs with rank 0's first one."""
    dist = pytest.importorskip("torch.distributed")
    from epochwatt import _job
    store = dist.HashStore()
    failed = _job._StoreTransport(store, 1, 2, "epochs=3")  # as transport_for makes it; no number taken
    assert store.add("made/epochs%3D3/1", 0) == 0
    built = _job._StoreTransport(store, 1, 2, "epochs=3")
    assert built.number() == 1
    assert built.number() == 1  # taken once
    assert store.add("made/epochs%3D3/1", 0) == 1
    del failed
