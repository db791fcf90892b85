// epochwatt::mpi::JobTracker: the job-wide reduction over an MPI communicator (epochwatt/mpi.hpp).
#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "epochwatt/errors.hpp"
#include "epochwatt/mpi.hpp"

namespace epochwatt::mpi {

namespace {

// The records' tag on epochwatt's own communicator ("EW"); any value below MPI_TAG_UB's
// guaranteed 32767 serves.
constexpr int kRecordTag = 0x4557 & 0x7fff;
// Rank 0 polls this often while it waits (MPI_Iprobe makes progress only when called).
constexpr auto kPollPeriod = std::chrono::microseconds(200);

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool mpi_usable() {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  return init && !fin;
}

}  // namespace

struct JobTracker::Pending {
  RankEpoch record;  // the send buffer, alive until the send completes
  MPI_Request request = MPI_REQUEST_NULL;
};

JobTracker::JobTracker(Options options, MPI_Comm comm, double wait_s)
    : wait_s_(wait_s), pending_(std::make_unique<std::deque<Pending>>()) {
  if (!mpi_usable()) throw Error("epochwatt::mpi::JobTracker needs MPI initialised (MPI_Init) and not finalised.");
  if (options.independent) {
    // Every rank is its own run: no communicator of our own, no report, no message, ever.
    independent_ = true;
    MPI_Comm_rank(comm, &rank_);
    MPI_Comm_size(comm, &size_);
    options.job_reduction = false;
    tracker_ = std::make_unique<Tracker>(options);
    return;
  }
  if (MPI_Comm_dup(comm, &comm_) != MPI_SUCCESS) throw Error("epochwatt::mpi::JobTracker: MPI_Comm_dup failed.");
  // A failing call returns its code (reported once; this rank then reports alone) instead of
  // aborting the job, which MPI's default handler would do.
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  if (!options.rank) options.rank = rank_;
  if (!options.world_size) options.world_size = size_;
  options.job_reduction = true;
  pred_after_ = options.epochs_before_pred == -1 ? options.epochs : options.epochs_before_pred;
  if (rank_ == 0) report_ = std::make_unique<JobReport>(size_);
  try {
    tracker_ = std::make_unique<Tracker>(options);
  } catch (...) {
    MPI_Comm_free(&comm_);
    throw;
  }
  // An inert tracker (no meter, ignore_errors) will never measure an epoch: say so now, so that
  // rank 0 waits for none of this rank's records (RankEpoch::inert).
  if (rank_ != 0 && tracker_->rank_epoch().inert) deliver(tracker_->rank_epoch());
}

JobTracker::~JobTracker() {
  try {
    stop();
  } catch (...) {
    // stop() reported what went wrong.
  }
  if (comm_ != MPI_COMM_NULL && mpi_usable()) MPI_Comm_free(&comm_);
}

void JobTracker::fail(const char* what, int code) {
  if (broken_) return;
  broken_ = true;
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  MPI_Error_string(code, text, &len);
  // stderr: the tracker's err channel is its reporters', which the reduction does not own.
  std::cerr << "CarbonTracker: WARNING - epochwatt job reduction: " << what << " failed on rank " << rank_ << " ("
            << std::string(text, static_cast<std::size_t>(len)) << "); this rank's figures stay in its own files.\n";
}

void JobTracker::epoch_start() { tracker_->epoch_start(); }

bool JobTracker::epoch_end() {
  bool go_on = tracker_->epoch_end();
  ++epochs_;
  if (finished_ || independent_) return go_on;
  // Exact figures where the prediction needs them (each epoch up to its own); later epochs send
  // what the sampler has resolved so far, without waiting. Only the sampler's reading is waited
  // for, never an intensity fetch in flight (the record holds no intensity).
  if (epochs_ <= pred_after_) tracker_->flush_measurements();
  deliver(tracker_->rank_epoch());
  if (rank_ == 0 && !predicted_ && epochs_ == pred_after_) {
    wait_for([&] { return report_->complete_through(pred_after_); });
    prediction_ = tracker_->report_job(*report_, JobReport::Stage::predicted);
    predicted_ = true;
  }
  if (tracker_->finished()) finish();  // monitor_epochs reached
  return go_on;
}

void JobTracker::stop() {
  if (!tracker_) return;
  finish();
}

void JobTracker::finish() {
  if (finished_) return;
  finished_ = true;
  tracker_->stop();  // every boundary resolved, the rank's own report written
  if (independent_) return;
  RankEpoch last = tracker_->rank_epoch();
  last.finished = 1;
  deliver(last);
  if (rank_ == 0) {
    wait_for([&] { return report_->all_finished(); });
    actual_ = tracker_->report_job(*report_, JobReport::Stage::actual);
  } else {
    settle_sends(wait_s_);
  }
}

void JobTracker::deliver(const RankEpoch& r) {
  if (rank_ == 0) {
    report_->add(r);
    drain();
    return;
  }
  if (broken_ || !mpi_usable()) return;
  settle_sends(0.0);  // reclaim the buffers of sends that completed
  pending_->push_back({r, MPI_REQUEST_NULL});
  Pending& p = pending_->back();
  int rc = MPI_Isend(&p.record, static_cast<int>(sizeof(RankEpoch)), MPI_BYTE, 0, kRecordTag, comm_, &p.request);
  if (rc != MPI_SUCCESS) {
    pending_->pop_back();
    fail("MPI_Isend of the epoch record", rc);
  }
}

// Completes what it can of the sends in flight; waits at most wait_s for the rest.
void JobTracker::settle_sends(double wait_s) {
  if (!mpi_usable()) return;
  double deadline = now_s() + wait_s;
  for (;;) {
    bool all_done = true;
    for (auto& p : *pending_) {
      if (p.request == MPI_REQUEST_NULL) continue;
      int done = 0;
      if (MPI_Test(&p.request, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) p.request = MPI_REQUEST_NULL;
      else if (!done) all_done = false;
    }
    // Buffers of open sends stay where they are until every send completed (eager sends complete
    // at once), then all go.
    if (all_done) {
      pending_->clear();
      return;
    }
    if (now_s() >= deadline) return;
    std::this_thread::sleep_for(kPollPeriod);
  }
}

void JobTracker::drain() {
  if (broken_ || !mpi_usable()) return;
  for (;;) {
    int flag = 0;
    MPI_Status st;
    int rc = MPI_Iprobe(MPI_ANY_SOURCE, kRecordTag, comm_, &flag, &st);
    if (rc != MPI_SUCCESS) return fail("MPI_Iprobe", rc);
    if (!flag) return;
    int count = 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    if (count != static_cast<int>(sizeof(RankEpoch))) {
      // Not ours (another build's layout): read and drop it.
      std::vector<char> junk(static_cast<std::size_t>(count > 0 ? count : 1));
      MPI_Recv(junk.data(), count, MPI_BYTE, st.MPI_SOURCE, kRecordTag, comm_, MPI_STATUS_IGNORE);
      continue;
    }
    RankEpoch r;
    rc = MPI_Recv(&r, count, MPI_BYTE, st.MPI_SOURCE, kRecordTag, comm_, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return fail("MPI_Recv", rc);
    r.rank = st.MPI_SOURCE;  // the sender is who MPI says it is
    report_->add(r);
  }
}

template <class Done>
void JobTracker::wait_for(Done done) {
  double deadline = now_s() + wait_s_;
  for (;;) {
    drain();
    if (done() || broken_ || !mpi_usable() || now_s() >= deadline) return;
    std::this_thread::sleep_for(kPollPeriod);
  }
}

}  // namespace epochwatt::mpi
