"""The job-wide reduction of Python trackers (docs/cluster.md, "One job-wide prediction: the reduction").

When this process is one rank of a job, each epoch's record of its tracker (``rank_epoch()``,
88 bytes) goes to rank 0, which prints the job's Predicted block after ``epochs_before_pred``
epochs and its Actual block at the end (``report_job``); the other ranks print nothing on the
console. The transport, first that applies:

- mpi4py, only when the tracker is given ``comm=`` (an mpi4py communicator of more than one
  rank): point-to-point messages on a duplicate of it, as epochwatt::mpi::JobTracker does in C++.
  The duplicate (``comm.Dup()``) is collective: every rank of ``comm`` must build its tracker,
  in the same order. Without ``comm=`` no MPI call is made, even under mpirun, so a tracker built
  on rank 0 only (carbontracker's ``if rank == 0:``) cannot hang.
- torch.distributed, when it is initialised with more than one rank (automatic): the records are
  keys of the job's own store (the TCPStore of MASTER_ADDR:MASTER_PORT that init_process_group
  made), under epochwatt's prefix. No collective and no tensor: NCCL jobs need no GPU buffer, and
  a rank that is dead, or that builds no tracker, cannot leave another waiting inside a
  collective; rank 0 polls the ranks' counters, at most ``wait_s`` at a time.
- else none: the tracker reports alone.

Pairing in the store (torch.distributed): a tracker's records are keyed by its run name
(``run_name=``; default ``"epochs=N"`` from its ``epochs``, so the same on every rank) and by
its number among this rank's trackers of that name, a counter in the store (``made/<name>/<rank>``,
incremented by each tracker at construction: one non-blocking request). The n-th tracker of a name
on rank 0 pairs with the n-th of that name on every other rank. Where rank 0 waited ``wait_s`` in
vain, it reads the other ranks' counters and says in one line which ranks built no tracker of the
name, or a different number of them (their records cannot pair), and waits for those no more.

Every call is made on the training loop's thread. Rank 0 waits (polling) at most ``wait_s`` for the
other ranks' records at the prediction's epoch and at the end, then reports what it has and names
the ranks missing.
"""
from __future__ import annotations

import sys
import time
from urllib.parse import quote

from . import _epochwatt

# How long rank 0 waits for the other ranks' records, s: as epochwatt::mpi::kDefaultWaitS (30 s).
WAIT_S = 30.0
# Rank 0 polls this often while it waits, s.
_POLL_S = 0.0002
# mpi4py messages' tag on epochwatt's own communicator ("EW"), as in src/mpi/job_tracker.cpp.
_TAG = 0x4557


def _warn(text):
    sys.stderr.write(f"CarbonTracker: WARNING - epochwatt job reduction: {text}\n")
    sys.stderr.flush()


def _ranks(ranks):
    return ", ".join(str(r) for r in sorted(ranks))


class _StoreTransport:
    """Records as keys of torch.distributed's store, under "<name>/<n>/" (the run name, quoted,
    and this tracker's number among the rank's trackers of that name): "rec/<rank>/<i>" holds the
    rank's i-th record, and "count/<rank>" how many it has published. torch 1.13's TCPStore has no
    non-blocking check(): rank 0 reads the counters with add(key, 0), which never waits."""

    def __init__(self, store, rank, size, name):
        self.rank, self.size = rank, size
        self._store = store
        self._name = name
        self._made_key = f"made/{quote(name, safe='')}"
        # This tracker's number among the rank's trackers of `name` (1 for the first), taken by
        # number() once the native tracker is built: a constructor that raises takes none.
        self._number = None
        self._prefix = None
        self._sent = 0
        self._next = [0] * size  # rank 0: the next record number expected from each rank

    def number(self):
        """This tracker's number among the rank's trackers of its name; taken at the first call."""
        if self._number is None:
            self._number = self._store.add(f"{self._made_key}/{self.rank}", 1)
            self._prefix = f"{quote(self._name, safe='')}/{self._number}/"
        return self._number

    def send(self, record):
        self.number()
        self._store.set(f"{self._prefix}rec/{self.rank}/{self._sent}", record)
        self._sent += 1
        # After the record: rank 0 never reads a key not yet set.
        self._store.add(f"{self._prefix}count/{self.rank}", 1)

    def receive(self):
        self.number()
        out = []
        for r in range(1, self.size):
            published = self._store.add(f"{self._prefix}count/{r}", 0)
            while self._next[r] < published:
                key = f"{self._prefix}rec/{r}/{self._next[r]}"
                out.append(self._store.get(key))
                self._store.delete_key(key)
                self._next[r] += 1
        return out

    def unpaired(self, ranks):
        """Rank 0, after waiting in vain for `ranks`: those whose records cannot come (no tracker
        of this name, or another number of them than rank 0), each named in one warning line.
        A rank that builds its tracker later still counts: its records are read as they come."""
        self.number()
        made = {r: self._store.add(f"{self._made_key}/{r}", 0) for r in ranks}
        none = [r for r, n in made.items() if n == 0]
        other = [r for r, n in made.items() if n not in (0, self._number)]
        if none:
            _warn(f"rank(s) {_ranks(none)} built no tracker named '{self._name}' (run_name) within the wait; "
                  f"in a multi-rank job build one on every rank, or pass independent=True (or "
                  f"job_reduction=False) where only some ranks track; rank 0 reports without them")
        if other:
            counts = ", ".join(f"rank {r}: {made[r]}" for r in sorted(other))
            _warn(f"rank(s) {_ranks(other)} built another number of trackers named '{self._name}' than "
                  f"rank 0 ({counts}; rank 0: {self._number}), so their records do not pair with this "
                  f"tracker's (a rank's n-th tracker of a name pairs with rank 0's n-th); give each run "
                  f"its own run_name= (the same on every rank); rank 0 reports without them")
        return set(none) | set(other)

    def close(self, wait_s):
        pass


class _MpiTransport:
    """Records as MPI messages to rank 0 on a duplicate of the user's communicator (mpi4py)."""

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

    def unpaired(self, ranks):
        # The collective Dup() paired the trackers: every rank built one, in the same order.
        return set()

    def close(self, wait_s):
        deadline = time.monotonic() + wait_s
        while self._pending and time.monotonic() < deadline:
            self._pending = [(b, q) for (b, q) in self._pending if not q.Test()]
            if self._pending:
                time.sleep(_POLL_S)


def _torch_transport(name):
    dist = sys.modules.get("torch.distributed")
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return None
    size = dist.get_world_size()
    if size < 2:
        return None
    from torch.distributed import distributed_c10d
    store = distributed_c10d._get_default_store()
    return _StoreTransport(dist.PrefixStore("epochwatt/", store), dist.get_rank(), size, name)


def _mpi4py_transport(comm):
    # An mpi4py communicator means mpi4py.MPI is imported: no import here (it would call MPI_Init).
    MPI = sys.modules.get("mpi4py.MPI")
    if MPI is None or not isinstance(comm, MPI.Intracomm):
        raise TypeError(f"comm= takes an mpi4py intracommunicator (e.g. mpi4py.MPI.COMM_WORLD), "
                        f"not {type(comm).__name__}")
    if comm.Get_size() < 2:
        return None
    return _MpiTransport(MPI, comm.Dup())  # collective over comm


def transport_for(options, comm=None, run_name=None):
    """The job's transport for a tracker built with `options` (a dict of C++ options), or None.

    comm: None, or an mpi4py intracommunicator to reduce over (collective: every rank of it must
    build a tracker, in the same order). run_name: the key that pairs trackers across ranks in
    torch.distributed's store (default "epochs=N"). Raises TypeError for a comm that is not an
    mpi4py intracommunicator. Sets the options the reduction needs: job_reduction, rank and
    world_size (ranks other than 0 name their files with their rank: docs/cluster.md)."""
    if run_name is not None and not isinstance(run_name, str):
        raise TypeError(f"run_name= takes a str, not {type(run_name).__name__}")
    if options.get("independent") or options.get("job_reduction") is False:
        return None
    if comm is not None:
        t = _mpi4py_transport(comm)  # a user's error raises: it is the caller's explicit choice
    else:
        name = run_name if run_name is not None else f"epochs={options.get('epochs')}"
        try:
            t = _torch_transport(name)
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
        if hasattr(transport, "number"):
            transport.number()  # the store's pairing number, now that the native tracker exists
        self._pred_after = pred_after
        self._wait_s = wait_s
        self._epochs = 0
        self._predicted = False
        self._finished = False
        self._broken = False
        self._unpaired = set()  # rank 0: ranks whose records cannot come (warned once): not waited for again
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

    def _wait_for(self, done, awaited):
        """Rank 0: drains until done() or wait_s has passed. awaited(): the ranks still waited for.
        On a timeout asks the transport which of them cannot pair (one warning each, once)."""
        deadline = time.monotonic() + self._wait_s
        while True:
            self._drain()
            if done() or self._broken:
                return
            if time.monotonic() >= deadline:
                break
            time.sleep(_POLL_S)
        ranks = set(awaited()) - self._unpaired
        if ranks:
            try:
                self._unpaired |= self._t.unpaired(ranks)
            except Exception as e:
                _warn(f"reading the ranks' tracker counts failed ({e})")

    def _finished_or_unpaired(self):
        # A rank judged unpaired that has since sent records is waited for again.
        unheard = set(self.report.missing(False))
        return self.report.all_finished() or set(self.report.missing(True)) <= (self._unpaired & unheard)

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
            self._wait_for(lambda: self.report.complete_through(self._pred_after),
                           lambda: self.report.missing(False))
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
            self._wait_for(self._finished_or_unpaired, lambda: self.report.missing(True))
            self.actual = self._raw.report_job(self.report, "actual")
        else:
            try:
                self._t.close(self._wait_s)
            except Exception:
                pass
