// epochwatt._epochwatt: the small native core of the Python package (python/epochwatt/).
//
// It binds the C++ Tracker as it is; everything Pythonic (keyword defaults, named tuples, the
// carbontracker drop-in, track(), sync_cuda) lives in the pure-Python package around it.
//
// Two rules shape this file:
// - The GIL is released around every call that can wait (stop, flush, window_end, an epoch_end
//   that asks stop_and_confirm's question, the destructor), and the sampler thread never takes
//   it: it writes the console through a file descriptor, not through sys.stdout.
// - After fork() the child owns no sampler; the C++ Tracker then does nothing (tracker.hpp).
#include <Python.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <functional>
#include <istream>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

#include "epochwatt/epochwatt.hpp"
#include "meters/simulated/simulated.hpp"

namespace py = pybind11;
using namespace epochwatt;

namespace {

// ---------------------------------------------------------------- console and stdin on raw fds

// A console record being written: the logger writes a record, then flushes it (sync()), under
// its own lock. Subclasses say where a flushed record goes.
class RecordBuf : public std::streambuf {
 protected:
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) pending_.push_back(static_cast<char>(c));
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    pending_.append(s, static_cast<std::size_t>(n));
    return n;
  }
  std::string pending_;
};

// Writes each record to a file descriptor with write(2), keeping no buffer beyond the record: a
// forked child that exits through exit() has nothing of ours to repeat, and the sampler never
// needs the GIL (sys.stdout would). EINTR and short writes are retried; other errors (a closed
// stdout) drop the text, as a console must never stop a run.
class FdWriteBuf final : public RecordBuf {
 public:
  explicit FdWriteBuf(int fd) : fd_(fd) {}

 protected:
  int sync() override {
    const char* p = pending_.data();
    std::size_t left = pending_.size();
    while (left > 0) {
      ssize_t w = ::write(fd_, p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      p += w;
      left -= static_cast<std::size_t>(w);
    }
    pending_.clear();
    return 0;
  }

 private:
  int fd_;
};

// Reads a file descriptor one byte at a time, so that stop_and_confirm's answer takes exactly its
// line from stdin and leaves the rest to Python's sys.stdin.
class FdReadBuf final : public std::streambuf {
 public:
  explicit FdReadBuf(int fd) : fd_(fd) {}

 protected:
  int_type underflow() override {
    for (;;) {
      ssize_t r = ::read(fd_, &ch_, 1);
      if (r == 1) {
        setg(&ch_, &ch_, &ch_ + 1);
        return traits_type::to_int_type(ch_);
      }
      if (r < 0 && errno == EINTR) continue;
      return traits_type::eof();
    }
  }

 private:
  int fd_;
  char ch_ = 0;
};

// Keeps what is written for Python to collect (take()) on one of its own calls, for consoles that
// are not file descriptor 1: a notebook's cell output, contextlib.redirect_stdout, pytest's
// capture. The sampler never waits for Python: it appends under a mutex that take() holds only
// for a swap. Writers are serialised by the logger's own lock.
class CollectBuf final : public RecordBuf {
 public:
  std::string take() {
    if (!ready_flag_.load(std::memory_order_acquire)) return {};
    std::lock_guard lk(mu_);
    std::string out;
    out.swap(ready_);
    ready_flag_.store(false, std::memory_order_release);
    return out;
  }

 protected:
  int sync() override {
    if (pending_.empty()) return 0;
    std::lock_guard lk(mu_);
    ready_ += pending_;
    pending_.clear();
    ready_flag_.store(true, std::memory_order_release);
    return 0;
  }

 private:
  std::mutex mu_;
  std::string ready_;    // whole records, not yet collected
  std::atomic<bool> ready_flag_{false};
};

// stop_and_confirm's answer through Python's input() (a notebook's input box, sys.stdin), for a
// tracker whose console is collected: runs on the caller's thread, which takes the GIL back here,
// first shows the collected console (the prediction, the question), then asks.
class PythonInputBuf final : public std::streambuf {
 public:
  py::object show_console;  // called with the GIL before each question

 protected:
  int_type underflow() override {
    py::gil_scoped_acquire gil;
    try {
      if (show_console) show_console();
      line_ = py::module_::import("builtins").attr("input")().cast<std::string>() + "\n";
    } catch (py::error_already_set&) {
      // EOF, or input() failed (no stdin in this kernel, an interrupt): no answer. The tracker
      // then logs that it got none and training continues, as at the end of a real stdin.
      return traits_type::eof();
    }
    setg(line_.data(), line_.data(), line_.data() + line_.size());
    return traits_type::to_int_type(line_[0]);
  }

 private:
  std::string line_;
};

// ---------------------------------------------------------------- options from keywords

std::string to_str(py::handle h) {
  // str, or os.PathLike (log_dir=pathlib.Path(...))
  if (py::hasattr(h, "__fspath__")) return h.attr("__fspath__")().cast<std::string>();
  return h.cast<std::string>();
}

Component component_from(const std::string& s) {
  if (s == "gpu") return Component::gpu;
  if (s == "cpu") return Component::cpu;
  if (s == "dram") return Component::dram;
  throw OptionsError("unknown component '" + s + "'; use gpu, cpu or dram.");
}

Method method_from(const std::string& s) {
  for (Method m : {Method::counter, Method::integrated_power, Method::estimate, Method::simulated, Method::replay})
    if (to_string(m) == s) return m;
  throw OptionsError("unknown method '" + s + "'; use counter, integrated-power, estimate, simulated or replay.");
}

OutputSpec output_from(py::handle h) {
  // "csv:PATH", or a (format, path) pair
  std::string format, path;
  if (py::isinstance<py::str>(h)) {
    std::string s = h.cast<std::string>();
    auto colon = s.find(':');
    if (colon == std::string::npos) throw OptionsError("outputs: '" + s + "' is not FORMAT:PATH (csv, jsonl or prometheus).");
    format = s.substr(0, colon);
    path = s.substr(colon + 1);
  } else {
    auto pair = h.cast<py::sequence>();
    if (pair.size() != 2) throw OptionsError("outputs: each output is 'FORMAT:PATH' or a (format, path) pair.");
    format = pair[0].cast<std::string>();
    path = to_str(pair[1]);
  }
  OutputSpec o;
  o.path = path;
  if (format == "csv") o.format = OutputSpec::Format::csv;
  else if (format == "jsonl") o.format = OutputSpec::Format::jsonl;
  else if (format == "prometheus") o.format = OutputSpec::Format::prometheus;
  else throw OptionsError("outputs: unknown format '" + format + "'; use csv, jsonl or prometheus.");
  return o;
}

// A number that is not one becomes NaN, and a name that is not a string becomes "", so that
// validate() refuses it with carbontracker's own words ("CPU TDP must be a non-negative number.").
double number_or_nan(py::handle h) {
  if (py::isinstance<py::bool_>(h) || !(py::isinstance<py::int_>(h) || py::isinstance<py::float_>(h)))
    return std::numeric_limits<double>::quiet_NaN();
  return h.cast<double>();
}
std::optional<double> opt_number(py::handle h) {
  if (h.is_none()) return std::nullopt;
  return number_or_nan(h);
}
std::optional<std::string> opt_name(py::handle h) {
  if (h.is_none()) return std::nullopt;
  return py::isinstance<py::str>(h) ? h.cast<std::string>() : std::string();
}

template <class T>
std::optional<T> opt_of(py::handle h) {
  if (h.is_none()) return std::nullopt;
  return h.cast<T>();
}

// How Python sets one Options field from a keyword, and reads its value back (default_options()).
struct Binding {
  std::function<void(Options&, py::handle)> set;
  std::function<py::object(const Options&)> get;
};

template <class T>
Binding plain(T Options::*field) {
  return {[field](Options& o, py::handle h) { o.*field = h.cast<T>(); },
          [field](const Options& o) { return py::cast(o.*field); }};
}
template <class T>
Binding optional(std::optional<T> Options::*field) {
  return {[field](Options& o, py::handle h) { o.*field = opt_of<T>(h); },
          [field](const Options& o) { return py::cast(o.*field); }};
}
Binding path(std::string Options::*field) {
  return {[field](Options& o, py::handle h) { o.*field = to_str(h); },
          [field](const Options& o) { return py::cast(o.*field); }};
}
Binding optional_path(std::optional<std::string> Options::*field) {
  return {[field](Options& o, py::handle h) { o.*field = h.is_none() ? std::nullopt : std::optional(to_str(h)); },
          [field](const Options& o) { return py::cast(o.*field); }};
}
// carbontracker's simulation numbers and names: see number_or_nan.
Binding sim_number(std::optional<double> Options::*field) {
  return {[field](Options& o, py::handle h) { o.*field = opt_number(h); },
          [field](const Options& o) { return py::cast(o.*field); }};
}
Binding sim_util(double Options::*field) {
  return {[field](Options& o, py::handle h) { o.*field = number_or_nan(h); },
          [field](const Options& o) { return py::cast(o.*field); }};
}
Binding sim_name(std::optional<std::string> Options::*field) {
  return {[field](Options& o, py::handle h) { o.*field = opt_name(h); },
          [field](const Options& o) { return py::cast(o.*field); }};
}

// One entry per Options field that Python may set, with the C++ name. console and confirm_input
// are not here: a Python tracker writes to fd 1 and asks on fd 0.
const std::map<std::string, Binding>& bindings() {
  static const std::map<std::string, Binding> table = {
      {"epochs", plain(&Options::epochs)},
      {"epochs_before_pred", plain(&Options::epochs_before_pred)},
      {"monitor_epochs", plain(&Options::monitor_epochs)},
      {"update_interval", plain(&Options::update_interval)},
      {"interpretable", plain(&Options::interpretable)},
      {"stop_and_confirm", plain(&Options::stop_and_confirm)},
      {"ignore_errors", plain(&Options::ignore_errors)},
      {"components", plain(&Options::components)},
      {"devices_by_pid", plain(&Options::devices_by_pid)},
      {"log_dir", optional_path(&Options::log_dir)},
      {"log_file_prefix", plain(&Options::log_file_prefix)},
      {"verbose", plain(&Options::verbose)},
      {"decimal_precision", plain(&Options::decimal_precision)},
      {"sim_cpu", sim_name(&Options::sim_cpu)},
      {"sim_cpu_tdp", sim_number(&Options::sim_cpu_tdp)},
      {"sim_cpu_util", sim_util(&Options::sim_cpu_util)},
      {"sim_gpu", sim_name(&Options::sim_gpu)},
      {"sim_gpu_watts", sim_number(&Options::sim_gpu_watts)},
      {"sim_gpu_util", sim_util(&Options::sim_gpu_util)},
      {"pue", plain(&Options::pue)},
      {"prediction_skips_first_epoch", plain(&Options::prediction_skips_first_epoch)},
      {"prediction_rule",  // "steady-epochs" or "carbontracker"
       {[](Options& o, py::handle h) {
          auto name = h.cast<std::string>();
          auto r = prediction_rule_from_string(name);
          if (!r) throw OptionsError("prediction_rule must be 'steady-epochs' or 'carbontracker', not '" + name + "'.");
          o.prediction_rule = *r;
        },
        [](const Options& o) { return py::cast(std::string(to_string(o.prediction_rule))); }}},
      {"prediction_level", plain(&Options::prediction_level)},
      {"prediction_updates", plain(&Options::prediction_updates)},
      {"first_epoch_includes_setup", plain(&Options::first_epoch_includes_setup)},
      {"intensity_g_per_kwh", optional(&Options::intensity_g_per_kwh)},
      {"country", plain(&Options::country)},
      {"zone", plain(&Options::zone)},
      {"postcode", plain(&Options::postcode)},
      {"latitude", optional(&Options::latitude)},
      {"longitude", optional(&Options::longitude)},
      {"cloud", plain(&Options::cloud)},
      {"offline", plain(&Options::offline)},
      {"geolocate", plain(&Options::geolocate)},
      {"live_providers", plain(&Options::live_providers)},
      {"api_keys",  // None: no keys; never read back (secrets)
       {[](Options& o, py::handle h) {
          o.api_keys = h.is_none() ? std::map<std::string, std::string>{} : h.cast<std::map<std::string, std::string>>();
        },
        [](const Options&) { return py::object(py::dict()); }}},
      {"provider_urls", plain(&Options::provider_urls)},
      {"metrics_listen", plain(&Options::metrics_listen)},  // "ADDR:PORT" or ":PORT"; "" none
      {"config_file", path(&Options::config_file)},
      {"cache_dir", path(&Options::cache_dir)},
      {"intensity_refresh_s", plain(&Options::intensity_refresh_s)},
      {"replay_trace", optional_path(&Options::replay_trace)},
      {"replay_component",
       {[](Options& o, py::handle h) { o.replay_component = component_from(h.cast<std::string>()); },
        [](const Options& o) { return py::cast(std::string(to_string(o.replay_component))); }}},
      {"replay_use_power", plain(&Options::replay_use_power)},
      {"replay_offset_s", plain(&Options::replay_offset_s)},
      {"powercap_root", path(&Options::powercap_root)},
      {"drm_root", path(&Options::drm_root)},
      {"proc_root", path(&Options::proc_root)},
      {"rapl_domains", plain(&Options::rapl_domains)},
      {"estimate_process_tree", plain(&Options::estimate_process_tree)},
      {"nvml_library", path(&Options::nvml_library)},
      {"write_json_summary", plain(&Options::write_json_summary)},
      {"json_path", optional_path(&Options::json_path)},
      {"outputs",  // "FORMAT:PATH" strings or (format, path) pairs; one bare string is one output
       {[](Options& o, py::handle h) {
          o.outputs.clear();
          if (py::isinstance<py::str>(h)) {
            o.outputs.push_back(output_from(h));
            return;
          }
          for (auto item : h.cast<py::sequence>()) o.outputs.push_back(output_from(item));
        },
        [](const Options& o) {
          py::list out;
          for (const auto& spec : o.outputs) {
            const char* f = spec.format == OutputSpec::Format::csv ? "csv"
                            : spec.format == OutputSpec::Format::jsonl ? "jsonl" : "prometheus";
            out.append(std::string(f) + ":" + spec.path);
          }
          return py::object(out);
        }}},
      {"clock",
       {[](Options& o, py::handle h) { o.clock = h.is_none() ? nullptr : h.cast<std::shared_ptr<ManualClock>>(); },
        [](const Options&) { return py::object(py::none()); }}},  // default: the system clock
      {"meters",
       {[](Options& o, py::handle h) { o.meters = h.cast<std::vector<std::shared_ptr<Meter>>>(); },
        [](const Options& o) { return py::object(py::cast(o.meters)); }}},
      {"discover_meters", plain(&Options::discover_meters)},
      // Multi-process jobs (docs/cluster.md): each wins over the launcher's environment.
      {"independent", plain(&Options::independent)},
      {"rank", optional(&Options::rank)},
      {"local_rank", optional(&Options::local_rank)},
      {"world_size", optional(&Options::world_size)},
      {"local_world_size", optional(&Options::local_world_size)},
      {"job_id", plain(&Options::job_id)},
      {"step_id", plain(&Options::step_id)},
      {"node", plain(&Options::node)},
      {"runtime_dir", path(&Options::runtime_dir)},
      {"job_reduction", plain(&Options::job_reduction)},
      {"tool_name", plain(&Options::tool_name)},
  };
  return table;
}

Options options_from(const py::dict& kwargs) {
  Options o;
  for (auto [key, value] : kwargs) {
    std::string name = key.cast<std::string>();
    auto it = bindings().find(name);
    if (it == bindings().end()) throw py::type_error("Tracker() got an unexpected keyword argument '" + name + "'");
    try {
      it->second.set(o, value);
    } catch (const py::cast_error&) {
      throw py::type_error("option " + name + ": cannot use a value of type " +
                           std::string(py::str(value.get_type().attr("__name__"))));
    }
  }
  return o;
}

py::dict default_options() {
  const Options defaults;
  py::dict d;
  for (const auto& [name, binding] : bindings()) d[py::str(name)] = binding.get(defaults);
  return d;
}

// ---------------------------------------------------------------- results as plain tuples

py::tuple consumption_tuple(const Consumption& c) {
  return py::make_tuple(c.epochs, c.duration_s, c.energy_kwh, c.co2_g, c.intensity_g_per_kwh,
                        c.intensity_source, c.intensity_forecast, c.km_by_car);
}

py::tuple device_tuple(const DeviceEnergy& d) {
  return py::make_tuple(d.meter_id, d.device_name, std::string(to_string(d.component)),
                        std::string(to_string(d.method)), d.joules, d.complete);
}

py::tuple devices_tuple(const std::vector<DeviceEnergy>& devices) {
  py::tuple out(devices.size());
  for (std::size_t i = 0; i < devices.size(); ++i) out[i] = device_tuple(devices[i]);
  return out;
}

// ---------------------------------------------------------------- the tracker

// A C++ Tracker with the streams it writes and reads; the streams outlive it (declared first).
// console_fd >= 0: the console goes to that descriptor; -1: no console; -2: collected for Python
// (take_console), and stop_and_confirm asks through Python's input().
constexpr int kNoConsole = -1;
constexpr int kCollectedConsole = -2;

struct PyTracker {
  std::unique_ptr<std::streambuf> out_buf;
  CollectBuf* collected = nullptr;  // out_buf, when the console is collected
  std::ostream console{nullptr};
  std::unique_ptr<std::streambuf> in_buf;
  PythonInputBuf* python_input = nullptr;  // in_buf, when the console is collected
  std::istream input{nullptr};
  bool asks = false;  // stop_and_confirm: epoch_end() may wait for the user
  pid_t owner = ::getpid();
  std::unique_ptr<Tracker> tracker;

  PyTracker(const py::dict& kwargs, int console_fd, py::object show_console) {
    Options o = options_from(kwargs);
    if (console_fd == kCollectedConsole) {
      auto buf = std::make_unique<CollectBuf>();
      collected = buf.get();
      out_buf = std::move(buf);
      auto in = std::make_unique<PythonInputBuf>();
      in->show_console = std::move(show_console);
      python_input = in.get();
      in_buf = std::move(in);
    } else {
      if (console_fd >= 0) out_buf = std::make_unique<FdWriteBuf>(console_fd);
      in_buf = std::make_unique<FdReadBuf>(0);
    }
    console.rdbuf(out_buf.get());  // null: badbit, writes vanish (kNoConsole)
    input.rdbuf(in_buf.get());
    o.console = &console;
    o.confirm_input = &input;
    asks = o.stop_and_confirm;
    py::gil_scoped_release unlocked;  // discovery reads sysfs and may dlopen NVML
    tracker = std::make_unique<Tracker>(std::move(o));
  }

  // Python references are dropped with the GIL, before the rest is destroyed without it.
  void drop_python_references() {
    if (python_input) python_input->show_console = py::object();
  }
};

// Destroys a tracker without the GIL: ~Tracker joins the sampler and writes the last report.
struct ReleasingDelete {
  void operator()(PyTracker* p) const {
    if (Py_IsInitialized() && !is_finalizing() && PyGILState_Check()) {
      p->drop_python_references();
      py::gil_scoped_release unlocked;
      delete p;
    } else {
      if (PyGILState_Check()) p->drop_python_references();
      delete p;
    }
  }
  static bool is_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
    return Py_IsFinalizing();
#else
    return _Py_IsFinalizing();
#endif
  }
};

Tracker& the(PyTracker& p) { return *p.tracker; }

py::object create_exception(py::module_& m, const char* name, PyObject* bases, const char* doc) {
  std::string full = std::string("epochwatt._epochwatt.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(full.c_str(), doc, bases, nullptr);
  if (!type) throw py::error_already_set();
  py::object t = py::reinterpret_steal<py::object>(type);
  m.attr(name) = t;
  return t;
}

}  // namespace

PYBIND11_MODULE(_epochwatt, m) {
  m.doc() = "Native core of the epochwatt package; use the epochwatt package, not this module.";
  m.attr("__version__") = kVersion;

  py::object error = create_exception(m, "Error", PyExc_RuntimeError, "Base of every epochwatt error.");
  py::object options_error = create_exception(
      m, "OptionsError", py::make_tuple(error, py::handle(PyExc_ValueError)).ptr(),
      "An invalid or inconsistent option; the message is the C++ library's (carbontracker's words where it has them).");
  py::object usage_error = create_exception(
      m, "UsageError", error.ptr(),
      "An API call out of order, e.g. epoch_end() without epoch_start().");
  // Kept alive by the module; the translator runs with the GIL held.
  static PyObject* error_t = error.ptr();
  static PyObject* options_error_t = options_error.ptr();
  static PyObject* usage_error_t = usage_error.ptr();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const OptionsError& e) {
      PyErr_SetString(options_error_t, e.what());
    } catch (const UsageError& e) {
      PyErr_SetString(usage_error_t, e.what());
    } catch (const Error& e) {
      PyErr_SetString(error_t, e.what());
    }
  });

  py::class_<ManualClock, std::shared_ptr<ManualClock>>(m, "ManualClock",
      "A clock that moves only when told to (tests, replays). Seconds; wall_origin_s is the Unix time at 0.")
      .def(py::init([](double start_s, double wall_origin_s) {
             return std::make_shared<ManualClock>(
                 start_s, std::chrono::system_clock::time_point{std::chrono::duration_cast<std::chrono::system_clock::duration>(
                              std::chrono::duration<double>(wall_origin_s))});
           }),
           py::arg("start_s") = 0.0, py::arg("wall_origin_s") = 1735689600.0)
      .def("now", &ManualClock::now)
      .def("set", &ManualClock::set, py::arg("t_s"))
      .def("advance", &ManualClock::advance, py::arg("dt_s"));

  py::class_<Meter, std::shared_ptr<Meter>>(m, "Meter", "An energy source (opaque); pass it in Tracker(meters=[...]).")
      .def_property_readonly("id", [](const Meter& me) { return me.info().id; })
      .def_property_readonly("device_name", [](const Meter& me) { return me.info().device_name; })
      .def_property_readonly("component", [](const Meter& me) { return std::string(to_string(me.info().component)); })
      .def_property_readonly("method", [](const Meter& me) { return std::string(to_string(me.info().method)); });

  m.def("constant_power_meter",
        [](const std::string& id, const std::string& component, const std::string& device_name, double watts,
           const std::string& method, const std::string& detail) {
          if (!(watts >= 0)) throw OptionsError("constant_power_meter: watts must be a non-negative number.");
          MeterInfo info;
          info.id = id;
          info.component = component_from(component);
          info.device_name = device_name;
          info.method = method_from(method);
          info.detail = detail;
          return meters::make_constant_power_meter(std::move(info), watts);
        },
        py::arg("id"), py::arg("component"), py::arg("device_name"), py::arg("watts"),
        py::arg("method") = "simulated", py::arg("detail") = "",
        "A meter of constant power: E(t) = watts x (t - t_open). component: gpu, cpu or dram; method: how\n"
        "reports name its figures; detail: how it measures, for the standard log. Raises OptionsError.");

  m.def("default_options", &default_options, "The C++ Options defaults, by option name.");
  m.def("option_names", [] {
    std::vector<std::string> names;
    for (const auto& [k, v] : bindings()) names.push_back(k);
    return names;
  });

  py::class_<PyTracker, std::unique_ptr<PyTracker, ReleasingDelete>>(m, "Tracker")
      .def(py::init<const py::dict&, int, py::object>(), py::arg("options"), py::arg("console_fd") = 1,
           py::arg("show_console") = py::none())
      .def("take_console", [](PyTracker& p) -> py::object {
        // What the collected console holds (str), or None; nothing in a forked child, where the
        // parent's sampler may have held the buffer's mutex at the fork.
        if (!p.collected || ::getpid() != p.owner) return py::none();
        std::string text = p.collected->take();
        if (text.empty()) return py::none();
        return py::reinterpret_steal<py::object>(PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace"));
      })
      .def("epoch_start", [](PyTracker& p) { the(p).epoch_start(); })
      .def("epoch_end", [](PyTracker& p) {
        if (!p.asks) return the(p).epoch_end();
        py::gil_scoped_release unlocked;  // may wait for the prediction and the user's answer
        return the(p).epoch_end();
      })
      .def("stop", [](PyTracker& p) { the(p).stop(); }, py::call_guard<py::gil_scoped_release>())
      .def("flush", [](PyTracker& p) { the(p).flush(); }, py::call_guard<py::gil_scoped_release>())
      .def("flush_measurements", [](PyTracker& p) { the(p).flush_measurements(); }, py::call_guard<py::gil_scoped_release>())
      .def("window_start", [](PyTracker& p, std::string name) { return the(p).window_start(std::move(name)); },
           py::arg("name") = "")
      .def("window_end", [](PyTracker& p, Tracker::WindowId id) {
        WindowMeasurement w;
        {
          py::gil_scoped_release unlocked;
          w = the(p).window_end(id);
        }
        return py::make_tuple(w.name, w.duration_s, w.joules, devices_tuple(w.devices), w.energy_kwh, w.co2_g,
                              w.intensity_g_per_kwh, w.cut_by_stop);
      }, py::arg("id"))
      .def("prediction", [](PyTracker& p) -> py::object {
        auto c = the(p).prediction();
        if (!c) return py::none();
        return consumption_tuple(*c);
      })
      .def("prediction_detail", [](PyTracker& p) -> py::object {
        auto pr = the(p).latest_prediction();
        if (!pr) return py::none();
        const PredictionDetail& d = pr->detail;
        py::dict out;
        out["rule"] = std::string(to_string(d.rule));
        out["after_epochs"] = d.after_epochs;
        out["steady_epochs"] = d.steady_epochs;
        out["warmup_epochs"] = d.warmup_epochs;
        out["outlier_epochs"] = d.outlier_epochs;
        out["period"] = d.period;
        out["period_first"] = d.period_first;
        out["periodic_remaining"] = d.periodic_remaining;
        out["trend_s_per_epoch"] = d.trend_s_per_epoch;
        out["trend_joules_per_epoch"] = d.trend_joules_per_epoch;
        out["first_epoch_includes_setup"] = d.first_epoch_includes_setup;
        out["setup_s"] = d.setup_s;
        out["setup_joules"] = d.setup_joules;
        out["level"] = d.level;
        out["range_known"] = d.range_known;
        out["duration_s"] = py::make_tuple(d.duration_s.low, d.duration_s.high);
        out["energy_kwh"] = py::make_tuple(d.energy_kwh.low, d.energy_kwh.high);
        out["co2_g"] = py::make_tuple(d.co2_g.low, d.co2_g.high);
        return out;
      })
      .def("setup", [](PyTracker& p) -> py::object {
        auto s = the(p).setup();
        if (!s) return py::none();
        return py::make_tuple(s->duration_s, s->joules, devices_tuple(s->devices));
      })
      .def("totals", [](PyTracker& p) { return consumption_tuple(the(p).totals()); })
      .def("epochs", [](PyTracker& p) {
        py::list out;
        for (const auto& e : the(p).epochs())
          out.append(py::make_tuple(e.index, e.duration_s, e.joules, devices_tuple(e.devices), e.interrupted));
        return out;
      })
      .def("meters", [](PyTracker& p) {
        py::list out;
        for (const auto& i : the(p).meters())
          out.append(py::make_tuple(i.id, std::string(to_string(i.component)), i.device_name,
                                    std::string(to_string(i.method)), i.poll_period_s, i.detail));
        return out;
      })
      .def("finished", [](PyTracker& p) { return the(p).finished(); })
      .def("standard_log_path", [](PyTracker& p) { return the(p).standard_log_path(); })
      .def("output_log_path", [](PyTracker& p) { return the(p).output_log_path(); })
      .def("error_log_path", [](PyTracker& p) { return the(p).error_log_path(); })
      .def("json_summary_path", [](PyTracker& p) { return the(p).json_summary_path(); })
      // The job-wide reduction (epochwatt/job_report.hpp): this rank's 88-byte record, final or not.
      .def("rank_epoch", [](PyTracker& p, bool final) {
             RankEpoch r = the(p).rank_epoch();
             r.finished = final ? 1 : 0;
             return py::bytes(reinterpret_cast<const char*>(&r), sizeof r);
           }, py::arg("final") = false)
      .def("report_job", [](PyTracker& p, const JobReport& job, const std::string& stage) {
             JobFootprint f = the(p).report_job(job, stage == "actual" ? JobReport::Stage::actual : JobReport::Stage::predicted);
             py::list early;
             for (const auto& [rank, n] : f.stopped_early) early.append(py::make_tuple(rank, n));
             return py::make_tuple(consumption_tuple(f.footprint), f.ranks, f.nodes, f.world_size, py::cast(f.missing), early);
           }, py::arg("job"), py::arg("stage"));

  py::class_<JobReport>(m, "JobReport", "Rank 0's sum of a job's RankEpoch records (epochwatt/job_report.hpp).")
      .def(py::init<int>(), py::arg("world_size"))
      .def("add", [](JobReport& j, const py::bytes& b) {
             std::string s = b;
             if (s.size() != sizeof(RankEpoch)) return false;
             RankEpoch r;
             std::memcpy(&r, s.data(), sizeof r);
             return j.add(r);
           }, py::arg("record"))
      .def("complete_through", &JobReport::complete_through, py::arg("epoch"))
      .def("all_finished", &JobReport::all_finished)
      .def("missing", &JobReport::missing, py::arg("final_only"))
      .def("ranks_reported", &JobReport::ranks_reported)
      .def("nodes", &JobReport::nodes)
      .def("world_size", &JobReport::world_size);
  m.attr("RANK_EPOCH_BYTES") = sizeof(RankEpoch);
}
