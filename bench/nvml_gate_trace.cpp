// devices_by_pid on a real GPU, read side by side (docs/nvml.md, "devices_by_pid while running"):
// a gated meter (devices_by_pid, the root of the tree this process) and an ungated meter of the
// same GPU, both read every 0.1 s while a job, started as this process's child, runs. It prints
// every read interval in which the two meters advanced differently, and the totals, so that each
// joule the gate left out can be placed in time.
//
//   nvml_gate_trace [--period S] -- COMMAND [ARGS...]
//
// Needs a real NVIDIA driver (or EPOCHWATT_NVML_LIBRARY); without one it prints why and exits 0.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "meters/nvml/nvml.hpp"

using namespace epochwatt;
using namespace epochwatt::meters;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  double period = 1.0;
  int cmd = 1;
  for (; cmd < argc; ++cmd) {
    std::string a = argv[cmd];
    if (a == "--period" && cmd + 1 < argc) {
      period = std::atof(argv[++cmd]);
    } else if (a == "--") {
      ++cmd;
      break;
    } else {
      std::fprintf(stderr, "usage: nvml_gate_trace [--period S] -- COMMAND [ARGS...]\n");
      return 2;
    }
  }
  if (cmd >= argc) {
    std::fprintf(stderr, "usage: nvml_gate_trace [--period S] -- COMMAND [ARGS...]\n");
    return 2;
  }
  NvmlConfig gated_cfg;
  gated_cfg.devices_by_pid = true;
  gated_cfg.pid_refresh_s = period;
  NvmlDiscovery gated = find_nvml(gated_cfg);
  NvmlDiscovery plain = find_nvml(NvmlConfig{});
  if (gated.meters.empty() || plain.meters.empty()) {
    std::printf("nvml_gate_trace: no GPU to read: %s %s\n", gated.reason.c_str(), plain.reason.c_str());
    return 0;
  }
  Meter& g = *gated.meters[0];
  Meter& p = *plain.meters[0];
  std::printf("gated: %s\nplain: %s\n", g.info().detail.c_str(), p.info().detail.c_str());

  double t0 = now_s();
  g.open(t0);
  p.open(t0);
  pid_t child = ::fork();
  if (child == 0) {
    ::execvp(argv[cmd], argv + cmd);
    std::perror("exec");
    ::_exit(127);
  }
  double last_g = 0, last_p = 0, t_prev = t0, lost = 0, extra = 0;
  int status = 0, differing = 0;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    double t = now_s();
    double vp = p.read(t).joules;
    double vg = g.read(t).joules;
    double dp = vp - last_p, dg = vg - last_g;
    if (std::abs(dp - dg) > 1e-9) {
      if (++differing <= 300)
        std::printf("  (%7.3f, %7.3f] s: plain %+9.3f J, gated %+9.3f J\n", t_prev - t0, t - t0, dp, dg);
      if (dg < dp) lost += dp - dg;
      else extra += dg - dp;
    }
    last_p = vp;
    last_g = vg;
    t_prev = t;
    if (::waitpid(child, &status, WNOHANG) == child) break;
  }
  std::printf("child ended after %.3f s; plain %.3f J, gated %.3f J; intervals differing: %d; "
              "gated below plain by %.3f J in them, above by %.3f J\n",
              t_prev - t0, last_p, last_g, differing, lost, extra);
  return 0;
}
