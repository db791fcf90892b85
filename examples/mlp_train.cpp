// mlp_train: a small but real training run, instrumented with epochwatt.
//
// A multi-layer perceptron (2 -> 128 -> 128 -> 5, ReLU, softmax cross-entropy) learns to tell
// apart the arms of a noisy five-armed spiral, generated in-process from a fixed seed, with
// mini-batch SGD (momentum 0.9). Everything is plain loops over std::vector on one core, sized so
// that an epoch takes one to three seconds on a small server core.
//
// The tracking itself is four lines (see main()):
//
//   epochwatt::Tracker tracker(options);          // discovers meters, starts the sampler
//   for (...) { auto scope = tracker.epoch(); ... } // epoch_start() / epoch_end() (RAII)
//   tracker.stop();                                 // actual report, log files, JSON summary
//
// Run `mlp_train --help` for the flags.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <numbers>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "epochwatt/epochwatt.hpp"

namespace {

// ---------------------------------------------------------------- command line

struct Args {
  int epochs = 5;
  std::string log_dir = "./logs";  // empty: console only
  std::optional<std::string> sim_cpu;
  std::optional<double> sim_cpu_tdp;
  std::optional<std::string> sim_gpu;
  std::optional<double> sim_gpu_watts;
  std::string country;
  std::string components = "all";
  std::uint64_t seed = 42;
  std::size_t samples = 50000;  // training points; the test set is a fifth of that
};

constexpr const char* kUsage = R"(usage: mlp_train [options]

Trains a small MLP on a synthetic spiral data set and tracks its energy and carbon footprint
with epochwatt.

  --epochs N           epochs to train and track (default 5)
  --log-dir DIR        folder for the carbontracker-format logs and the JSON summary
                       (default ./logs; an empty string writes no files, console only)
  --sim-cpu NAME       simulate a CPU named NAME ...
  --sim-cpu-tdp W      ... with this TDP in watts (drawn at 50% utilization)
  --sim-gpu NAME       simulate a GPU named NAME ...
  --sim-gpu-watts W    ... with this power in watts (drawn at 50% utilization)
  --country CC         ISO 3166-1 alpha-2 country for the carbon intensity (e.g. DK);
                       default: $EPOCHWATT_COUNTRY, else the world average
  --components LIST    what to measure: all, cpu, gpu or cpu,gpu (default all)
  --seed S             seed of the data set, the weights and the shuffling (default 42)
  --samples N          training points (default 50000; fewer for a quicker run)
  -h, --help           this text

Without --sim-* flags epochwatt measures what the machine offers (with the first versions of the
library, which had only simulated and replayed meters, that is nothing, and mlp_train says so).
A simulated device gives the same figures on every machine, e.g.:

  mlp_train --epochs 4 --sim-cpu my-cpu --sim-cpu-tdp 65 --country DK
)";

struct UsageProblem {
  std::string message;
};

template <typename T>
T parse_number(std::string_view flag, std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end)
    throw UsageProblem{std::string(flag) + ": '" + std::string(text) + "' is not a valid number"};
  return value;
}

Args parse_args(int argc, char** argv) {
  Args a;
  std::vector<std::string_view> argvs(argv + 1, argv + argc);
  for (std::size_t i = 0; i < argvs.size(); ++i) {
    std::string_view arg = argvs[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    std::string_view flag = arg;
    std::optional<std::string_view> inline_value;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      flag = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    auto value = [&]() -> std::string_view {
      if (inline_value) return *inline_value;
      if (i + 1 >= argvs.size()) throw UsageProblem{std::string(flag) + " needs a value"};
      return argvs[++i];
    };
    if (flag == "--epochs") {
      a.epochs = parse_number<int>(flag, value());
      if (a.epochs <= 0) throw UsageProblem{"--epochs must be at least 1"};
    } else if (flag == "--log-dir") {
      a.log_dir = value();
    } else if (flag == "--sim-cpu") {
      a.sim_cpu = std::string(value());
    } else if (flag == "--sim-cpu-tdp") {
      a.sim_cpu_tdp = parse_number<double>(flag, value());
    } else if (flag == "--sim-gpu") {
      a.sim_gpu = std::string(value());
    } else if (flag == "--sim-gpu-watts") {
      a.sim_gpu_watts = parse_number<double>(flag, value());
    } else if (flag == "--country") {
      a.country = value();
    } else if (flag == "--components") {
      a.components = value();
    } else if (flag == "--seed") {
      a.seed = parse_number<std::uint64_t>(flag, value());
    } else if (flag == "--samples") {
      a.samples = parse_number<std::size_t>(flag, value());
      if (a.samples < 100) throw UsageProblem{"--samples must be at least 100"};
    } else {
      throw UsageProblem{"unknown option '" + std::string(arg) + "'"};
    }
  }
  return a;
}

// ---------------------------------------------------------------- data

constexpr std::size_t kInputs = 2;
constexpr std::size_t kClasses = 5;

struct Dataset {
  std::vector<float> x;  // n x kInputs, row-major
  std::vector<int> y;    // n labels in [0, kClasses)
  std::size_t size() const { return y.size(); }
};

// A spiral with kClasses arms, each making two turns, with Gaussian noise on the angle.
// Linearly inseparable: a model has to bend its decision boundary around the centre.
Dataset make_spirals(std::size_t n, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> radius(0.05, 1.0);
  std::uniform_int_distribution<int> arm(0, static_cast<int>(kClasses) - 1);
  std::normal_distribution<double> noise(0.0, 0.2);
  Dataset d;
  d.x.reserve(n * kInputs);
  d.y.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    int c = arm(rng);
    double r = radius(rng);
    double angle = 2.0 * std::numbers::pi * (c / static_cast<double>(kClasses) + 2.0 * r) + noise(rng);
    // Scaled so that each input has roughly unit spread.
    d.x.push_back(static_cast<float>(1.7 * r * std::cos(angle)));
    d.x.push_back(static_cast<float>(1.7 * r * std::sin(angle)));
    d.y.push_back(c);
  }
  return d;
}

// ---------------------------------------------------------------- model

// A fully connected layer, y = x W + b, with its gradients and momentum buffers.
// W is stored input-major (w[i * out + j]), so the inner loops run over outputs with unit stride.
struct Dense {
  std::size_t in, out;
  std::vector<float> w, b, gw, gb, vw, vb;

  Dense(std::size_t in_, std::size_t out_, std::mt19937_64& rng)
      : in(in_), out(out_), w(in_ * out_), b(out_, 0.0f), gw(in_ * out_), gb(out_), vw(in_ * out_), vb(out_) {
    std::normal_distribution<float> he(0.0f, std::sqrt(2.0f / static_cast<float>(in_)));
    for (auto& v : w) v = he(rng);
  }

  // out_rows (batch x out) = in_rows (batch x in) W + b.
  void forward(const float* in_rows, std::size_t batch, float* out_rows) const {
    for (std::size_t s = 0; s < batch; ++s) {
      const float* x = in_rows + s * in;
      float* y = out_rows + s * out;
      std::copy(b.begin(), b.end(), y);
      for (std::size_t i = 0; i < in; ++i) {
        const float xi = x[i];
        const float* wi = &w[i * out];
        for (std::size_t j = 0; j < out; ++j) y[j] += xi * wi[j];
      }
    }
  }

  // Accumulates dL/dW and dL/db from the batch; writes dL/dx into d_in (unless null).
  void backward(const float* in_rows, const float* d_out, std::size_t batch, float* d_in) {
    for (std::size_t s = 0; s < batch; ++s) {
      const float* x = in_rows + s * in;
      const float* dy = d_out + s * out;
      for (std::size_t j = 0; j < out; ++j) gb[j] += dy[j];
      for (std::size_t i = 0; i < in; ++i) {
        const float xi = x[i];
        float* gwi = &gw[i * out];
        for (std::size_t j = 0; j < out; ++j) gwi[j] += xi * dy[j];
      }
      if (!d_in) continue;
      float* dx = d_in + s * in;
      for (std::size_t i = 0; i < in; ++i) {
        const float* wi = &w[i * out];
        float acc = 0.0f;
        for (std::size_t j = 0; j < out; ++j) acc += wi[j] * dy[j];
        dx[i] = acc;
      }
    }
  }

  // SGD with momentum; clears the gradients for the next batch.
  void step(float lr, float momentum) {
    for (std::size_t k = 0; k < w.size(); ++k) {
      vw[k] = momentum * vw[k] - lr * gw[k];
      w[k] += vw[k];
      gw[k] = 0.0f;
    }
    for (std::size_t k = 0; k < b.size(); ++k) {
      vb[k] = momentum * vb[k] - lr * gb[k];
      b[k] += vb[k];
      gb[k] = 0.0f;
    }
  }
};

struct Metrics {
  double loss = 0.0;  // mean cross-entropy
  double accuracy = 0.0;
};

class Mlp {
 public:
  Mlp(std::size_t hidden, std::size_t max_batch, std::mt19937_64& rng)
      : l1_(kInputs, hidden, rng), l2_(hidden, hidden, rng), l3_(hidden, kClasses, rng),
        z1_(max_batch * hidden), a1_(max_batch * hidden), z2_(max_batch * hidden), a2_(max_batch * hidden),
        logits_(max_batch * kClasses), d_logits_(max_batch * kClasses), d_a2_(max_batch * hidden),
        d_a1_(max_batch * hidden) {}

  // One SGD step on rows [first, first + batch) of `order`; returns the batch's summed loss and
  // number of correct predictions (before the step).
  std::pair<double, std::size_t> train_batch(const Dataset& d, const std::vector<std::size_t>& order,
                                             std::size_t first, std::size_t batch, float lr, float momentum) {
    gather(d, order, first, batch);
    forward(batch);
    auto [loss, correct] = softmax_cross_entropy(d, order, first, batch, true);
    backward(batch);
    l1_.step(lr, momentum);
    l2_.step(lr, momentum);
    l3_.step(lr, momentum);
    return {loss, correct};
  }

  Metrics evaluate(const Dataset& d, const std::vector<std::size_t>& order, std::size_t max_batch) {
    double loss = 0.0;
    std::size_t correct = 0;
    for (std::size_t first = 0; first < d.size(); first += max_batch) {
      std::size_t batch = std::min(max_batch, d.size() - first);
      gather(d, order, first, batch);
      forward(batch);
      auto [l, c] = softmax_cross_entropy(d, order, first, batch, false);
      loss += l;
      correct += c;
    }
    double n = static_cast<double>(d.size());
    return {loss / n, static_cast<double>(correct) / n};
  }

 private:
  void gather(const Dataset& d, const std::vector<std::size_t>& order, std::size_t first, std::size_t batch) {
    input_.resize(batch * kInputs);
    for (std::size_t s = 0; s < batch; ++s)
      std::copy_n(&d.x[order[first + s] * kInputs], kInputs, &input_[s * kInputs]);
  }

  static void relu(const std::vector<float>& z, std::vector<float>& a, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) a[k] = z[k] > 0.0f ? z[k] : 0.0f;
  }
  static void relu_backward(const std::vector<float>& z, std::vector<float>& d, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k)
      if (z[k] <= 0.0f) d[k] = 0.0f;
  }

  void forward(std::size_t batch) {
    l1_.forward(input_.data(), batch, z1_.data());
    relu(z1_, a1_, batch * l1_.out);
    l2_.forward(a1_.data(), batch, z2_.data());
    relu(z2_, a2_, batch * l2_.out);
    l3_.forward(a2_.data(), batch, logits_.data());
  }

  // Summed loss and correct count; with want_grad, d_logits_ = (softmax - one_hot) / batch.
  std::pair<double, std::size_t> softmax_cross_entropy(const Dataset& d, const std::vector<std::size_t>& order,
                                                       std::size_t first, std::size_t batch, bool want_grad) {
    double loss = 0.0;
    std::size_t correct = 0;
    for (std::size_t s = 0; s < batch; ++s) {
      const float* z = &logits_[s * kClasses];
      const int label = d.y[order[first + s]];
      const std::size_t best = static_cast<std::size_t>(std::max_element(z, z + kClasses) - z);
      const float zmax = z[best];
      double sum = 0.0;
      for (std::size_t k = 0; k < kClasses; ++k) sum += std::exp(static_cast<double>(z[k] - zmax));
      loss += std::log(sum) - static_cast<double>(z[label] - zmax);
      if (best == static_cast<std::size_t>(label)) ++correct;
      if (!want_grad) continue;
      float* g = &d_logits_[s * kClasses];
      for (std::size_t k = 0; k < kClasses; ++k) {
        double p = std::exp(static_cast<double>(z[k] - zmax)) / sum;
        g[k] = static_cast<float>((p - (static_cast<int>(k) == label ? 1.0 : 0.0)) / static_cast<double>(batch));
      }
    }
    return {loss, correct};
  }

  void backward(std::size_t batch) {
    l3_.backward(a2_.data(), d_logits_.data(), batch, d_a2_.data());
    relu_backward(z2_, d_a2_, batch * l2_.out);
    l2_.backward(a1_.data(), d_a2_.data(), batch, d_a1_.data());
    relu_backward(z1_, d_a1_, batch * l1_.out);
    l1_.backward(input_.data(), d_a1_.data(), batch, nullptr);
  }

  Dense l1_, l2_, l3_;
  std::vector<float> input_, z1_, a1_, z2_, a2_, logits_, d_logits_, d_a2_, d_a1_;
};

// ---------------------------------------------------------------- tracking

epochwatt::Options tracker_options(const Args& a) {
  epochwatt::Options o;
  o.epochs = a.epochs;
  if (!a.log_dir.empty()) o.log_dir = a.log_dir;
  o.sim_cpu = a.sim_cpu;
  o.sim_cpu_tdp = a.sim_cpu_tdp;
  o.sim_gpu = a.sim_gpu;
  o.sim_gpu_watts = a.sim_gpu_watts;
  o.country = a.country;
  o.components = a.components;
  return o;
}

void explain_tracker_failure(const Args& a, const epochwatt::Error& e) {
  std::cerr << "\nmlp_train: could not start the epochwatt tracker: " << e.what() << "\n";
  if (dynamic_cast<const epochwatt::OptionsError*>(&e)) {
    std::cerr << "The tracker's options are invalid; fix the flag named above (see --help).\n";
    return;
  }
  if (!a.sim_cpu && !a.sim_gpu) {
    // The library found no meter for any component it was asked to measure. The reasons, one per
    // backend, are on the console above. The first versions of epochwatt had only simulated and
    // replayed meters, so there this happened on every machine.
    std::cerr << "\nepochwatt found nothing it can measure here for --components " << a.components
              << "; the lines above give each\nbackend's reason. Ask for a simulated device, which draws a "
                 "constant power and works on any\nmachine, e.g.\n\n"
                 "  mlp_train --sim-cpu my-cpu --sim-cpu-tdp 65 [--sim-gpu my-gpu --sim-gpu-watts 300]\n\n"
                 "A production loop would keep training without the tracker (Options::ignore_errors makes\n"
                 "the tracker inert instead of throwing); this example exists to show tracking, so it stops.\n";
  }
}

void print_file(std::string_view what, const std::string& path) {
  if (path.empty()) return;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;  // the error log exists only after an error
  std::cout << "  " << std::left << std::setw(14) << what << path << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  try {
    args = parse_args(argc, argv);
  } catch (const UsageProblem& p) {
    std::cerr << "mlp_train: " << p.message << "\n(see mlp_train --help)\n";
    return 2;
  }

  // Start tracking first: it fails fast when nothing can be measured. Construction measures from
  // now on, but only the epochs are counted.
  std::optional<epochwatt::Tracker> tracker;
  try {
    tracker.emplace(tracker_options(args));
  } catch (const epochwatt::Error& e) {
    explain_tracker_failure(args, e);
    return 1;
  }

  std::mt19937_64 rng(args.seed);
  const Dataset train = make_spirals(args.samples, rng);
  const Dataset test = make_spirals(std::max<std::size_t>(args.samples / 5, 100), rng);
  constexpr std::size_t kHidden = 128;
  constexpr std::size_t kBatch = 32;
  constexpr float kMomentum = 0.9f;
  Mlp model(kHidden, kBatch, rng);

  std::vector<std::size_t> order(train.size()), test_order(test.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (std::size_t i = 0; i < test_order.size(); ++i) test_order[i] = i;

  std::cout << "mlp_train: MLP " << kInputs << "-" << kHidden << "-" << kHidden << "-" << kClasses
            << " on " << train.size() << " training / " << test.size() << " test points of a " << kClasses
            << "-armed spiral; batch " << kBatch << ", SGD with momentum " << kMomentum << ", seed "
            << args.seed << "\n"
            << std::flush;

  for (int epoch = 1; epoch <= args.epochs; ++epoch) {
    auto scope = tracker->epoch();  // epoch_start() here, epoch_end() at the end of this block
    const auto t0 = std::chrono::steady_clock::now();
    // Step decay: a large rate to get out of the linear regime, then a finer one.
    const float lr = epoch <= 2 ? 0.05f : (epoch <= 4 ? 0.02f : 0.01f);
    std::shuffle(order.begin(), order.end(), rng);
    double loss = 0.0;
    std::size_t correct = 0;
    for (std::size_t first = 0; first < train.size(); first += kBatch) {
      std::size_t batch = std::min(kBatch, train.size() - first);
      auto [l, c] = model.train_batch(train, order, first, batch, lr, kMomentum);
      loss += l;
      correct += c;
    }
    const Metrics held_out = model.evaluate(test, test_order, kBatch);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double n = static_cast<double>(train.size());

    // One string, one write: the tracker's sampler thread prints to the same console.
    std::ostringstream line;
    line << std::fixed << std::setprecision(4) << "epoch " << epoch << "/" << args.epochs << "  train loss "
         << loss / n << "  train acc " << std::setprecision(2) << 100.0 * static_cast<double>(correct) / n
         << "%  test loss " << std::setprecision(4) << held_out.loss << "  test acc " << std::setprecision(2)
         << 100.0 * held_out.accuracy << "%  (" << seconds << " s, lr " << lr << ")\n";
    std::cout << line.str() << std::flush;
  }

  tracker->stop();  // waits for the last report; writes the actual consumption and the JSON summary

  const epochwatt::Consumption total = tracker->totals();
  std::ostringstream summary;
  summary << "\nmlp_train: tracked " << total.epochs << " epoch(s), " << std::fixed << std::setprecision(2)
          << total.duration_s << " s, " << std::setprecision(6) << total.energy_kwh << " kWh (PUE included), "
          << std::setprecision(3) << total.co2_g << " gCO2eq at " << std::setprecision(1)
          << total.intensity_g_per_kwh << " gCO2eq/kWh (" << total.intensity_source << ")\n";
  std::cout << summary.str();
  if (!args.log_dir.empty()) {
    std::cout << "mlp_train: files written:\n";
    print_file("output log", tracker->output_log_path());
    print_file("standard log", tracker->standard_log_path());
    print_file("error log", tracker->error_log_path());
    print_file("JSON", tracker->json_summary_path());
  }
  return 0;
}
