"""The job-wide reduction of Python trackers (docs/cluster.md, "One job-wide prediction: the reduction").

When this process is one rank of a job, each epoch's record of its tracker (``rank_epoch()``,
88 bytes) goes to rank 0, which prints the job's Predicted block after ``epochs_before_pred``
epochs and its Actual block at the end (``report_job``); the other ranks print nothing on the
console. The transport, first that applies:

- torch.distributed, when it is initialised with more than one rank: the records are keys of the
  job's own store (the TCPStore of MASTER_ADDR:MASTER_PORT that init_process_group made), under a
  prefix of epochwatt's. No collective and no tensor: NCCL jobs need no GPU buffer, and a dead
  rank cannot leave another waiting inside a collective; rank 0 polls the ranks' counters.
- mpi4py, when MPI runs this process (mpi4py.MPI already imported, or OpenMPI's / PMI's size
  variables say more than one rank) and mpi4py is installed: point-to-point messages on a
  duplicate of COMM_WORLD, as epochwatt::mpi::JobTracker does in C++.
- else none: the tracker reports alone, as before.

Every call is made on the training loop's thread. Rank 0 waits (polling) at most ``wait_s`` for the
other ranks' records at the prediction's epoch and at the end, then reports what it has and names
the ranks missing.
"""
from __future__ import annotations

import os
import sys
import time

from . import _epochwatt

# How long rank 0 waits for the other ranks' records, s: as epochwatt::mpi::kDefaultWaitS (30 s).
WAIT_S = 30.0
# Rank 0 polls this often while it waits, s.
_POLL_S = 0.0002
# mpi4py messages' tag on epochwatt's own communicator ("EW"), as in src/mpi/job_tracker.cpp.
_TAG = 0x4557

_trackers_made = 0  # per process: the n-th tracker's keys are apart from the (n-1)-th's


def _warn(text):
    sys.stderr.write(f"CarbonTracker: WARNING - epochwatt job reduction: {text}\n")
    sys.stderr.flush()


class _StoreTransport:
    """Records as keys of torch.distributed's store: "rec/<rank>/<n>" holds the rank's n-th record,
    and the counter "count/<rank>" how many it has published. torch 1.13's TCPStore has no
    non-blocking check(): rank 0 reads the counters with add(key, 0), which never waits."""

    def __init__(self, store, rank, size):
        self.rank, self.size = rank, size
        self._store = store
        self._sent = 0
        self._next = [0] * size  # rank 0: the next record number expected from each rank

    def send(self, record):
        self._store.set(f"rec/{self.rank}/{self._sent}", record)
        self._sent += 1
        self._store.add(f"count/{self.rank}", 1)  # after the record: rank 0 never reads a key not yet set

    def receive(self):
        out = []
        for r in range(1, self.size):
            published = self._store.add(f"count/{r}", 0)
            while self._next[r] < published:
                key = f"rec/{r}/{self._next[r]}"
                out.append(self._store.get(key))
                self._store.delete_key(key)
                self._next[r] += 1
        return out

    def close(self, wait_s):
        pass


class _MpiTransport:
    """Records as MPI messages to rank 0 on a duplicate of COMM_WORLD (mpi4py)."""

    def __init__(self, mpi, comm):
        self._mpi = mpi
        self._comm = comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self._pending = []  # (buffer, request): a buffer lives until its send completes

    def send(self, record):
        buf = bytearray(record)
        req = self._comm.Isend([buf, self._mpi.BYTE], dest=0, tag=_TAG)
        self._pending = [(b, q) for (b, q) in self._pending if not q.Test()]
        self._pending.append((buf, req))

    def receive(self):
        out = []
        st = self._mpi.Status()
        while self._comm.Iprobe(source=self._mpi.ANY_SOURCE, tag=_TAG, status=st):
            buf = bytearray(st.Get_count(self._mpi.BYTE))
            self._comm.Recv([buf, self._mpi.BYTE], source=st.Get_source(), tag=_TAG)
            out.append(bytes(buf))
        return out

    def close(self, wait_s):
        deadline = time.monotonic() + wait_s
        while self._pending and time.monotonic() < deadline:
            self._pending = [(b, q) for (b, q) in self._pending if not q.Test()]
            if self._pending:
                time.sleep(_POLL_S)


def _torch_transport(prefix):
    dist = sys.modules.get("torch.distributed")
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return None
    size = dist.get_world_size()
    if size < 2:
        return None
    from torch.distributed import distributed_c10d
    store = distributed_c10d._get_default_store()
    return _StoreTransport(dist.PrefixStore(prefix, store), dist.get_rank(), size)


def _launched_by_mpi():
    for name in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE"):
        try:
            if int(os.environ.get(name, "1")) > 1:
                return True
        except ValueError:
            pass
    return False


def _mpi4py_transport():
    if "mpi4py.MPI" not in sys.modules and not _launched_by_mpi():
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    if MPI.COMM_WORLD.Get_size() < 2:
        return None
    return _MpiTransport(MPI, MPI.COMM_WORLD.Dup())


def transport_for(options):
    """The job's transport for a tracker built with `options` (a dict of C++ options), or None.
    Sets the options the reduction needs: job_reduction, rank and world_size (ranks other than 0
    name their files with their rank: docs/cluster.md)."""
    global _trackers_made
    if options.get("independent") or options.get("job_reduction") is False:
        return None
    _trackers_made += 1
    try:
        t = _torch_transport(f"epochwatt/{_trackers_made}/") or _mpi4py_transport()
    except Exception as e:  # a half-initialised process group: the tracker reports alone
        _warn(f"no transport ({e}); this rank reports alone")
        return None
    if t is None:
        return None
    options["job_reduction"] = True
    options.setdefault("rank", t.rank)
    options.setdefault("world_size", t.size)
    return t


class JobReduction:
    """One rank's part of the reduction, driven by the tracker's epoch_end() and stop()."""

    def __init__(self, raw, transport, pred_after, wait_s=WAIT_S):
        self._raw = raw
        self._t = transport
        self._pred_after = pred_after
        self._wait_s = wait_s
        self._epochs = 0
        self._predicted = False
        self._finished = False
        self._broken = False
        self.report = _epochwatt.JobReport(transport.size) if transport.rank == 0 else None
        self.prediction = None  # rank 0: report_job's answer, (consumption, ranks, nodes, world, missing, early)
        self.actual = None

    def _deliver(self, record):
        if self.report is not None:
            self.report.add(record)
            self._drain()
            return
        if self._broken:
            return
        try:
            self._t.send(record)
        except Exception as e:  # rank 0 or its store is gone: this rank's files still hold its figures
            self._broken = True
            _warn(f"sending rank {self._t.rank}'s record failed ({e}); its figures stay in its own files")

    def _drain(self):
        if self._broken:
            return
        try:
            for record in self._t.receive():
                self.report.add(record)
        except Exception as e:
            self._broken = True
            _warn(f"receiving the ranks' records failed ({e}); rank 0 reports what it has")

    def _wait_for(self, done):
        deadline = time.monotonic() + self._wait_s
        while True:
            self._drain()
            if done() or self._broken or time.monotonic() >= deadline:
                return
            time.sleep(_POLL_S)

    def epoch_ended(self):
        if self._finished:
            return
        self._epochs += 1
        if self._epochs <= self._pred_after:
            # Exact figures for the epochs the prediction is made from: the sampler's reading
            # only, never a live intensity fetch in flight (the record holds no intensity).
            self._raw.flush_measurements()
        self._deliver(self._raw.rank_epoch(False))
        if self.report is not None and not self._predicted and self._epochs == self._pred_after:
            self._wait_for(lambda: self.report.complete_through(self._pred_after))
            self.prediction = self._raw.report_job(self.report, "predicted")
            self._predicted = True
        if self._raw.finished():
            self.finish()

    def finish(self):
        if self._finished:
            return
        self._finished = True
        self._raw.stop()
        self._deliver(self._raw.rank_epoch(True))
        if self.report is not None:
            self._wait_for(self.report.all_finished)
            self.actual = self._raw.report_job(self.report, "actual")
        else:
            try:
                self._t.close(self._wait_s)
            except Exception:
                pass
