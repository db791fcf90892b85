// How every output reaches its file. Two ways, shared by all outputs:
// - append_record: a record at the end of a file that may already hold others (JSON Lines, the
//   CodeCarbon CSV) and append_at_end, its core, also used by carbontracker's log files;
// - replace_file: the whole file through a temporary file and a rename (the JSON summary, the
//   Prometheus textfile, the HTML report).
// Both are safe against the states a file can be found in (docs/outputs.md, "Files in an
// unexpected state"): missing final line break, a cut last record, a foreign header, a path that
// is not a regular file (directory, FIFO, device, socket), and a full disk. No record already in a
// file is ever changed: a failed write is cut back to where it began.
//
// The system calls go through a FileSink, so that tests inject faults (ENOSPC after N bytes).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace epochwatt::detail {

// The file-system calls of the outputs, with POSIX's contract: -1 (and errno) on failure. The
// default implementation is the real call; a test overrides what it wants to fail.
// Thread-safety: the real sink holds no state; one instance may be shared by every output.
class FileSink {
 public:
  virtual ~FileSink() = default;
  virtual int stat(const std::string& path, struct ::stat* st);  // follows symbolic links
  virtual int open(const std::string& path, int flags, mode_t mode);
  virtual ssize_t write(int fd, const char* data, std::size_t n);
  virtual ssize_t pread(int fd, char* data, std::size_t n, off_t at);
  virtual int fstat(int fd, struct ::stat* st);
  virtual int ftruncate(int fd, off_t size);
  virtual int lock(int fd);  // flock(LOCK_EX): other epochwatt processes append one at a time
  virtual int close(int fd);
  virtual int rename(const std::string& from, const std::string& to);
  virtual int unlink(const std::string& path);
  virtual int mkdirs(const std::string& path);  // create_directories; -1 and errno on failure
};

// The real file system. One shared instance.
std::shared_ptr<FileSink> system_file_sink();

// What an output's file looks like, for the checks made before writing into a file that exists.
struct RecordFormat {
  std::string header;  // the first line(s) of a new or empty file, with "\n"; "" for none
  // Is a non-empty file, whose first line (without "\n") this is, one of ours? Else it is foreign:
  // kept untouched, and the record goes to a sibling. Null: every file is ours.
  std::function<bool(std::string_view first_line)> ours;
  // The last line of a file that does not end with "\n": is it a whole record (the line break
  // alone is missing) or a cut one? Null: every such line counts as cut.
  std::function<bool(std::string_view last_line)> whole;
  // What ends a cut record so that the next one starts clean ("\n"; a CSV record cut inside a
  // quoted field needs the quote closed first). Null: "\n".
  std::function<std::string(std::string_view last_line)> end_cut;
};

// Where a write went. `note` is one line for the user about what was found (a foreign file kept
// and a sibling used, a cut record ended); `error` one line when nothing was written.
struct WriteResult {
  std::string written_path;
  std::string note;
  std::string error;
  bool ok() const { return error.empty(); }
};

// `text` at the end of the open file `fd`, under an exclusive flock. A last line without its
// "\n" is ended first: "\n" for a whole record, format.end_cut's for a cut one (then `note` says
// so). `fd` must be open for reading and writing (O_RDWR | O_APPEND). Written by write() calls continued until all is written; if one fails (ENOSPC, EIO) the
// file is cut back to its size before, so it never ends inside a record. `path` is for messages.
WriteResult append_at_end(FileSink& sink, int fd, const std::string& path, const RecordFormat& format,
                          std::string_view text);

// Appends `record` to the file at `path`: created (0644) with format.header when missing or empty;
// refused when the path is not a regular file (a FIFO is never opened: it would block); kept
// untouched when foreign, the record going to the first sibling STEM_1.EXT, STEM_2.EXT, ... that
// is new or ours. Opens and closes the file, so the record is in the file when this returns.
WriteResult append_record(FileSink& sink, const std::string& path, const RecordFormat& format, std::string_view record);

// Replaces the file at `path` with `content`: written to PATH.tmp.PID in the same directory and
// renamed over it, so a reader sees the old file or the new one, never a part. The temporary file
// is removed on every failure. Refused when the path is not a regular file; a foreign file (per
// format.ours) is kept and the content goes to a sibling, as append_record.
WriteResult replace_file(FileSink& sink, const std::string& path, const RecordFormat& format, std::string_view content);

// The same with the content written piece by piece as `produce` makes it (a large file is never
// held whole in memory): `produce` calls `put` with each piece in order; `put` returns false once a
// write failed, after which the producer may stop (further pieces are ignored) and the temporary
// file is removed as above. An exception from `produce` removes the temporary file, closes it and
// goes on to the caller; the old file stays.
using ContentSink = std::function<bool(std::string_view piece)>;
using ContentProducer = std::function<void(const ContentSink& put)>;
WriteResult replace_file(FileSink& sink, const std::string& path, const RecordFormat& format,
                         const ContentProducer& produce);

// "a directory", "a FIFO", "a character device", "a block device", "a socket" or "not a regular
// file": for messages about a path of that st_mode.
std::string_view file_kind(mode_t mode);

}  // namespace epochwatt::detail
