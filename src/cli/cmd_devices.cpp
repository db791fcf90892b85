#include "cli/cmd_devices.hpp"

#include <unistd.h>

#include <ostream>

#include "cli/cmd_run.hpp"
#include "cli/devices.hpp"
#include "meters/rapl/rapl.hpp"

namespace epochwatt::cli {

Subcommand add_devices_command(CLI::App& root, ParseContext& ctx) {
  struct Args {
    bool json = false, fix = false;
    Options options;
  };
  auto a = std::make_shared<Args>();
  Subcommand sub;
  sub.app = add_subcommand(root, "devices",
                                "List the measurement backends, the meters they find, and why a backend finds nothing.\n"
                                "Each backend is listed in order of preference per component, with the meters it "
                                "found and their method (counter or estimate), or the reason it found none and the "
                                "fix. The backends' options (those of a run: --sim-cpu, --rapl-domains, ...) change "
                                "what they look for; --json lists each option with the value its backend was given. "
                                "--fix-permissions (as root) makes the RAPL energy counters readable.");
  add_help(*sub.app, ctx, sub.help.get());
  add_flag(*sub.app, ctx, "--json", "Print the listing as JSON.", [a] { a->json = true; });
  add_flag(*sub.app, ctx, "--fix-permissions",
           "As root: make the RAPL energy counters readable by all users, and print the udev rule that keeps them so.",
           [a] { a->fix = true; });
  add_backend_options(*sub.app, ctx, a->options, "Backend options", /*seams=*/false);
  add_backend_options(*sub.app, ctx, a->options, std::string(kSeamsGroup), /*seams=*/true);
  sub.message = [](const BadArgument& bad) {
    return "unknown or incomplete option " + in_quotes(bad.name) + " (see epochwatt devices --help)";
  };
  sub.run = [a](std::ostream& out, std::ostream& err) {
    const Options& o = a->options;
    if (a->fix) {
      if (::geteuid() != 0) {
        err << "epochwatt devices: --fix-permissions must run as root (it changes the mode of " << o.powercap_root
            << "/*/energy_uj)\n";
        return 1;
      }
      for (const auto& line : meters::fix_rapl_permissions(o.powercap_root)) out << line << "\n";
      out << "To keep them readable after a reboot, add this udev rule (e.g. /etc/udev/rules.d/70-epochwatt-rapl.rules):\n"
          << meters::kRaplUdevRule << "\n";
      return 0;
    }
    out << (a->json ? devices_json(o) : devices_text(o));
    return 0;
  };
  return sub;
}

}  // namespace epochwatt::cli
