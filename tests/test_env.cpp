// Linked into every test binary: before any test runs, the environment is made hermetic, so that
// no test reaches beyond 127.0.0.1 or reads or writes the user's own files. A tracked run with no
// location would otherwise try IP geolocation, and every run would use ~/.cache and ~/.config.
// Tests that exercise the network (against a local server) or the cache set their own options.
#include <cstdlib>
#include <string>

namespace {

struct HermeticEnvironment {
  HermeticEnvironment() {
    setenv("EPOCHWATT_OFFLINE", "1", 1);
    std::string home = EPOCHWATT_TEST_HOME;
    setenv("XDG_CACHE_HOME", (home + "/cache").c_str(), 1);
    setenv("XDG_CONFIG_HOME", (home + "/config").c_str(), 1);
    for (const char* name : {"EPOCHWATT_CONFIG", "EPOCHWATT_ELECTRICITYMAPS_TOKEN", "EPOCHWATT_ZONE",
                             "EPOCHWATT_POSTCODE", "EPOCHWATT_LAT", "EPOCHWATT_LON", "EPOCHWATT_CLOUD",
                             "EPOCHWATT_GEOLOCATION_URL", "EPOCHWATT_ELECTRICITYMAPS_URL",
                             "EPOCHWATT_CARBONINTENSITY_UK_URL", "EPOCHWATT_ENERGIDATASERVICE_URL"})
      unsetenv(name);
    // A test run started by a launcher (ctest under srun or mpirun) is still one process per test:
    // job identities are given to the tests that want them (docs/cluster.md).
    for (const char* name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK",
                             "TORCHELASTIC_RUN_ID", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
                             "SLURM_PROCID", "SLURM_JOB_ID", "SLURM_STEP_ID", "EPOCHWATT_JOB_ID",
                             "EPOCHWATT_NODE", "EPOCHWATT_RUNTIME_DIR"})
      unsetenv(name);
  }
};

const HermeticEnvironment hermetic;

}  // namespace
