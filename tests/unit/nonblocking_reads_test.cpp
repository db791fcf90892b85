// Reads at set-up never block and are bounded (issue 12, item 12): the backends' file reader, the
// replay trace and the CSV's host facts refuse a FIFO, a socket or a directory where a sysfs or
// procfs file should be. Each FIFO here has no writer, so a blocking open would never return.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <fstream>

#include "epochwatt/errors.hpp"
#include "meters/replay/replay.hpp"
#include "meters/sysfs/file_reader.hpp"
#include "report/codecarbon_csv.hpp"
#include "unit/support.hpp"

using epochwatt::meters::read_error_text;
using epochwatt::meters::real_file_reader;

TEST(RealFileReader, ReadsARegularFile) {
  ewtest::TempDir dir;
  std::string path = dir.path().string() + "/energy_uj";
  std::ofstream(path) << "12345\n";
  auto r = real_file_reader()->read(path);
  ASSERT_TRUE(r.text);
  EXPECT_EQ(*r.text, "12345\n");
  EXPECT_FALSE(r.not_regular);
}

TEST(RealFileReader, RefusesAFifoWithoutBlocking) {
  ewtest::TempDir dir;
  std::string path = dir.path().string() + "/stat";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto r = real_file_reader()->read(path);  // with no writer, a blocking open would never return
  EXPECT_FALSE(r.text);
  EXPECT_TRUE(r.not_regular);
  EXPECT_EQ(read_error_text(r), "not a regular file (a FIFO); refused, as reading it could block");
}

TEST(RealFileReader, RefusesADirectoryAndASocket) {
  ewtest::TempDir dir;
  auto d = real_file_reader()->read(dir.path().string());
  EXPECT_FALSE(d.text);
  EXPECT_EQ(read_error_text(d), "not a regular file (a directory); refused, as reading it could block");

  std::string sock_path = dir.path().string() + "/s";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(sock_path.size(), sizeof addr.sun_path);
  std::copy(sock_path.begin(), sock_path.end(), addr.sun_path);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  auto s = real_file_reader()->read(sock_path);
  ::close(fd);
  EXPECT_FALSE(s.text);  // open(2) of a socket fails (ENXIO) before the check can see it
}

TEST(RealFileReader, AbsentFileKeepsItsErrno) {
  auto r = real_file_reader()->read("/nonexistent-ew-test/energy_uj");
  EXPECT_FALSE(r.text);
  EXPECT_FALSE(r.not_regular);
  EXPECT_EQ(r.error, ENOENT);
}

TEST(RealFileReader, ReadsProcfsWhoseSizeIsZero) {
  auto r = real_file_reader()->read("/proc/self/stat");  // st_size 0, content non-empty
  ASSERT_TRUE(r.text) << read_error_text(r);
  EXPECT_FALSE(r.text->empty());
}

TEST(ReplayTrace, AFifoIsRefusedInOneLine) {
  ewtest::TempDir dir;
  std::string path = dir.path().string() + "/trace.csv";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  try {
    epochwatt::meters::load_trace(path);
    ADD_FAILURE() << "a FIFO was accepted";
  } catch (const epochwatt::Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(path + " is not a regular file"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(CsvHostFacts, FifosInTheProcRootLeaveTheFieldsEmpty) {
  ewtest::TempDir dir;
  ASSERT_EQ(::mkfifo((dir.path().string() + "/cpuinfo").c_str(), 0600), 0);
  ASSERT_EQ(::mkfifo((dir.path().string() + "/meminfo").c_str(), 0600), 0);
  auto h = epochwatt::detail::read_host_facts(dir.path().string());
  EXPECT_EQ(h.cpu_model, "");
  EXPECT_FALSE(h.ram_total_gib);
}

TEST(CsvHostFacts, ProcfsIsRead) {
  auto h = epochwatt::detail::read_host_facts("/proc");
  EXPECT_TRUE(h.ram_total_gib) << "MemTotal of /proc/meminfo";
}
