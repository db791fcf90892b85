// read_bounded_file (src/core/bounded_file.cpp), shared by the intensity cache and the config
// file: every kind of thing that can stand where a small file is expected.
#include "core/bounded_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "unit/support.hpp"

namespace {

using epochwatt::detail::BoundedFile;
using epochwatt::detail::read_bounded_file;

TEST(BoundedFile, ReadsASmallFileWhole) {
  ewtest::TempDir dir;
  std::string p = dir.str() + "/f";
  ewtest::write_file(p, "abc\n");
  BoundedFile f = read_bounded_file(p, 4, false);
  EXPECT_EQ(f.status, BoundedFile::Status::ok);
  EXPECT_EQ(f.text, "abc\n");
  EXPECT_EQ(f.st.st_size, 4);
}

TEST(BoundedFile, AbsentTooBigFolderFifoAndSymlink) {
  ewtest::TempDir dir;
  EXPECT_EQ(read_bounded_file(dir.str() + "/none", 10, false).status, BoundedFile::Status::absent);
  ewtest::write_file(dir.str() + "/file", "x");
  EXPECT_EQ(read_bounded_file(dir.str() + "/file/below", 10, false).status, BoundedFile::Status::absent)
      << "ENOTDIR counts as absent";
  ewtest::write_file(dir.str() + "/big", "12345");
  EXPECT_EQ(read_bounded_file(dir.str() + "/big", 4, false).status, BoundedFile::Status::not_regular);
  EXPECT_EQ(read_bounded_file(dir.str(), 1 << 20, false).status, BoundedFile::Status::not_regular);
  // A FIFO with no writer: must not block.
  ASSERT_EQ(::mkfifo((dir.str() + "/fifo").c_str(), 0600), 0);
  EXPECT_EQ(read_bounded_file(dir.str() + "/fifo", 10, false).status, BoundedFile::Status::not_regular);
  std::filesystem::create_symlink(dir.str() + "/file", dir.str() + "/link");
  EXPECT_EQ(read_bounded_file(dir.str() + "/link", 10, false).text, "x");
  BoundedFile nofollow = read_bounded_file(dir.str() + "/link", 10, true);
  EXPECT_EQ(nofollow.status, BoundedFile::Status::open_failed);
  EXPECT_EQ(nofollow.error, ELOOP);
}

TEST(BoundedFile, PermissionDeniedIsAnOpenFailure) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files of mode 000";
  ewtest::TempDir dir;
  std::string p = dir.str() + "/secret";
  ewtest::write_file(p, "k");
  ::chmod(p.c_str(), 0);
  BoundedFile f = read_bounded_file(p, 10, false);
  EXPECT_EQ(f.status, BoundedFile::Status::open_failed);
  EXPECT_EQ(f.error, EACCES);
}

}  // namespace
