// engine/: the simulated kernel. No UI, no text parsing, no I/O.
// An in-memory filesystem: inodes with a page cache each, and open files.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/pageindex.h"
#include "engine/physmem.h"
#include "engine/types.h"

namespace vmplay::engine {

// open(2) flags, with Linux's values.
enum : uint64_t {
  O_RDONLY_ = 0, O_WRONLY_ = 01, O_RDWR_ = 02, O_ACCMODE_ = 03, O_CREAT_ = 0100, O_EXCL_ = 0200,
  O_NOCTTY_ = 0400, O_TRUNC_ = 01000, O_APPEND_ = 02000, O_NONBLOCK_ = 04000,
  O_DIRECTORY_ = 0200000, O_NOFOLLOW_ = 0400000, O_CLOEXEC_ = 02000000,
};
constexpr uint64_t MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2;
constexpr int64_t SEEK_SET_ = 0, SEEK_CUR_ = 1, SEEK_END_ = 2;
constexpr int64_t AT_FDCWD_ = -100;

enum class InodeKind : uint8_t {
  Regular,  // on the simulated disk (device fe:00)
  Shmem,    // tmpfs: shared anonymous memory and memfd (device 00:01)
  Tty,      // the terminal on fds 0-2: cannot be mapped
};

struct Inode {
  uint64_t ino = 0;
  InodeKind kind = InodeKind::Regular;
  std::string path;        // for maps; shmem: "/dev/zero" or "/memfd:NAME"
  bool unlinked = false;   // maps then shows " (deleted)"
  uint32_t mode = 0644;
  uint32_t uid = 0;        // the owner: root, or the simulated user (kUserUid)
  uint64_t size = 0;       // i_size in bytes
  uint32_t open_count = 0; // open file descriptions
  uint32_t map_count = 0;  // VMAs mapping it
  uint32_t dev_major = 0xfe, dev_minor = 0;
  // The page cache: page index -> frame. A page in it holds one reference.
  PageIndex<Pfn> cache;
  // What is "on disk" (regular files) per page; a page absent from both is zeros.
  PageIndex<PageData> disk;  // shared with the page cache's frames
  // tmpfs pages written out to swap: page index -> swap slot (shmem's swap entries).
  std::map<uint64_t, uint32_t> swapped;
  // Shared anonymous memory charges its whole size to Committed_AS (shmem_acct_size);
  // memfd and MAP_NORESERVE ones charge the pages they hold.
  bool accounted = false;
  // What the maps/smaps line shows as the name.
  std::string display_name() const { return unlinked ? path + " (deleted)" : path; }
  uint64_t pages() const { return (size + kPageSize - 1) >> PAGE_SHIFT; }
};

struct OpenFile {
  uint64_t ino = 0;
  uint64_t flags = 0;  // O_ACCMODE bits and O_APPEND
  uint64_t pos = 0;
  bool readable() const { return (flags & O_ACCMODE_) != O_WRONLY_; }
  bool writable() const { return (flags & O_ACCMODE_) != O_RDONLY_; }
};

// fstat's answer, as much of struct stat as strace prints by default.
struct StatResult {
  uint32_t mode = 0;   // S_IFREG|0644
  uint64_t size = 0;
  uint64_t ino = 0;
};

constexpr uint32_t S_IFREG_ = 0100000, S_IFCHR_ = 020000;
constexpr size_t kMaxFds = 1024;  // RLIMIT_NOFILE
constexpr uint64_t kTtyInode = 3;  // /dev/pts/0
constexpr uint32_t kUserUid = 1000;  // the simulated processes run as this user

}  // namespace vmplay::engine
