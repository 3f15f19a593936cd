#include "shell/format.h"

#include <cinttypes>
#include <algorithm>
#include <cctype>
#include <vector>
#include <cstdio>
#include <cstring>
#include <array>
#include <unordered_map>

namespace vmplay::shell {

using namespace vmplay::engine;

namespace {

struct Named {
  const char* name;
  uint64_t value;
};

// In strace's order (by value), so output matches strace's.
constexpr Named kProt[] = {
    {"PROT_READ", PROT_READ},           {"PROT_WRITE", PROT_WRITE},
    {"PROT_EXEC", PROT_EXEC},           {"PROT_GROWSDOWN", PROT_GROWSDOWN},
    {"PROT_GROWSUP", PROT_GROWSUP},
};
constexpr Named kMapType[] = {
    {"MAP_SHARED", MAP_SHARED},
    {"MAP_PRIVATE", MAP_PRIVATE},
    {"MAP_SHARED_VALIDATE", MAP_SHARED_VALIDATE},
};
constexpr Named kMapFlags[] = {
    {"MAP_FIXED", MAP_FIXED},
    {"MAP_ANONYMOUS", MAP_ANONYMOUS},
    {"MAP_32BIT", 0x40},
    {"MAP_GROWSDOWN", MAP_GROWSDOWN},
    {"MAP_DENYWRITE", MAP_DENYWRITE},
    {"MAP_EXECUTABLE", MAP_EXECUTABLE},
    {"MAP_LOCKED", MAP_LOCKED},
    {"MAP_NORESERVE", MAP_NORESERVE},
    {"MAP_POPULATE", MAP_POPULATE},
    {"MAP_NONBLOCK", MAP_NONBLOCK},
    {"MAP_STACK", MAP_STACK},
    {"MAP_HUGETLB", MAP_HUGETLB},
    {"MAP_SYNC", MAP_SYNC},
    {"MAP_FIXED_NOREPLACE", MAP_FIXED_NOREPLACE},
};
constexpr Named kMadvise[] = {
    {"MADV_NORMAL", MADV_NORMAL}, {"MADV_RANDOM", MADV_RANDOM}, {"MADV_SEQUENTIAL", MADV_SEQUENTIAL},
    {"MADV_WILLNEED", MADV_WILLNEED}, {"MADV_DONTNEED", MADV_DONTNEED}, {"MADV_FREE", MADV_FREE},
    {"MADV_REMOVE", MADV_REMOVE}, {"MADV_DONTFORK", MADV_DONTFORK}, {"MADV_DOFORK", MADV_DOFORK},
    {"MADV_MERGEABLE", MADV_MERGEABLE}, {"MADV_UNMERGEABLE", MADV_UNMERGEABLE},
    {"MADV_HUGEPAGE", MADV_HUGEPAGE}, {"MADV_NOHUGEPAGE", MADV_NOHUGEPAGE},
    {"MADV_DONTDUMP", MADV_DONTDUMP}, {"MADV_DODUMP", MADV_DODUMP},
    {"MADV_WIPEONFORK", MADV_WIPEONFORK}, {"MADV_KEEPONFORK", MADV_KEEPONFORK},
    {"MADV_COLD", MADV_COLD}, {"MADV_PAGEOUT", MADV_PAGEOUT},
    {"MADV_POPULATE_READ", MADV_POPULATE_READ}, {"MADV_POPULATE_WRITE", MADV_POPULATE_WRITE},
    {"MADV_DONTNEED_LOCKED", MADV_DONTNEED_LOCKED}, {"MADV_COLLAPSE", MADV_COLLAPSE},
};
constexpr Named kOpenFlags[] = {
    {"O_CREAT", O_CREAT_}, {"O_EXCL", O_EXCL_}, {"O_NOCTTY", O_NOCTTY_}, {"O_TRUNC", O_TRUNC_},
    {"O_APPEND", O_APPEND_}, {"O_NONBLOCK", O_NONBLOCK_}, {"O_DIRECTORY", O_DIRECTORY_},
    {"O_NOFOLLOW", O_NOFOLLOW_}, {"O_CLOEXEC", O_CLOEXEC_},
};
constexpr Named kMsync[] = {{"MS_ASYNC", MS_ASYNC}, {"MS_INVALIDATE", MS_INVALIDATE}, {"MS_SYNC", MS_SYNC}};
constexpr Named kMremap[] = {{"MREMAP_MAYMOVE", MREMAP_MAYMOVE}, {"MREMAP_FIXED", MREMAP_FIXED},
                             {"MREMAP_DONTUNMAP", MREMAP_DONTUNMAP}};
constexpr Named kMlock2[] = {{"MLOCK_ONFAULT", MLOCK_ONFAULT}};
constexpr Named kMcl[] = {{"MCL_CURRENT", MCL_CURRENT}, {"MCL_FUTURE", MCL_FUTURE}, {"MCL_ONFAULT", MCL_ONFAULT}};
constexpr Named kMfd[] = {{"MFD_CLOEXEC", MFD_CLOEXEC}, {"MFD_ALLOW_SEALING", MFD_ALLOW_SEALING}};
constexpr Named kOther[] = {
    {"PAGE_SIZE", kPageSize},
    {"AT_EMPTY_PATH", 0x1000},
    {"SIGCHLD", 17},
    {"CLONE_VM", 0x100}, {"CLONE_FS", 0x200}, {"CLONE_FILES", 0x400}, {"CLONE_SIGHAND", 0x800},
    {"CLONE_PIDFD", 0x1000}, {"CLONE_PTRACE", 0x2000}, {"CLONE_VFORK", 0x4000}, {"CLONE_PARENT", 0x8000},
    {"CLONE_THREAD", 0x10000}, {"CLONE_NEWNS", 0x20000}, {"CLONE_SYSVSEM", 0x40000}, {"CLONE_SETTLS", 0x80000},
    {"CLONE_PARENT_SETTID", 0x100000}, {"CLONE_CHILD_CLEARTID", 0x200000}, {"CLONE_DETACHED", 0x400000},
    {"CLONE_UNTRACED", 0x800000}, {"CLONE_CHILD_SETTID", 0x1000000},
    {"O_RDONLY", O_RDONLY_}, {"O_WRONLY", O_WRONLY_}, {"O_RDWR", O_RDWR_},
    {"AT_FDCWD", static_cast<uint64_t>(AT_FDCWD_)},
    {"SEEK_SET", SEEK_SET_}, {"SEEK_CUR", SEEK_CUR_}, {"SEEK_END", SEEK_END_},
    {"NULL", 0},
    {"PROT_NONE", PROT_NONE},
    {"MAP_ANON", MAP_ANONYMOUS},
    {"MAP_FILE", 0},
    {"MAP_TYPE", MAP_TYPE},
    {"SIGBUS", kSigBus},
    {"SIGKILL", kSigKill},
    {"SIGSEGV", kSigSegv},
    {"SIGTERM", kSigTerm},
};

}  // namespace

std::string hex(uint64_t v) {
  if (v == 0) return "0";
  char b[18];
  char* p = b + sizeof b;
  for (; v; v >>= 4) *--p = "0123456789abcdef"[v & 15];
  *--p = 'x';
  *--p = '0';
  return std::string(p, static_cast<size_t>(b + sizeof b - p));
}

std::string format_pointer(uint64_t v) { return v == 0 ? "NULL" : hex(v); }

std::string format_int(int64_t v) { return std::to_string(v); }

std::string format_prot(uint64_t prot) {
  std::string out;
  uint64_t rest = prot;
  for (const auto& n : kProt) {
    if (prot & n.value) {
      if (!out.empty()) out += '|';
      out += n.name;
      rest &= ~n.value;
    }
  }
  if (rest) {
    if (!out.empty()) out += '|';
    out += hex(rest);
  }
  return out.empty() ? "PROT_NONE" : out;
}

std::string format_map_flags(uint64_t f) {
  std::string out;
  uint64_t type = f & MAP_TYPE;
  bool named = false;
  for (const auto& n : kMapType) {
    if (type == n.value) {
      out = n.name;
      named = true;
    }
  }
  if (!named) out = hex(type) + " /* MAP_??? */";
  uint64_t rest = f & ~MAP_TYPE;
  for (const auto& n : kMapFlags) {
    if (rest & n.value) {
      out += '|';
      out += n.name;
      rest &= ~n.value;
    }
  }
  if (rest) out += '|' + hex(rest);
  return out;
}

std::string format_result(const SysResult& r, bool as_pointer) {
  if (!r.is_ok()) {
    return std::string(" = -1 ") + errno_name(r.err) + " (" + errno_message(r.err) + ")";
  }
  return " = " + (as_pointer ? hex(r.value) : std::to_string(static_cast<int64_t>(r.value)));
}

std::optional<uint64_t> parse_swap_size(const std::string& s) {
  if (s == "off" || s == "0") return 0;
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return std::nullopt;
  char* end = nullptr;
  unsigned long long n = std::strtoull(s.c_str(), &end, 10);
  std::string unit = end ? end : "";
  uint64_t mul = unit.empty() ? 1 : unit == "K" || unit == "k" ? 1ULL << 10 : unit == "M" || unit == "m" ? 1ULL << 20
                                  : unit == "G" || unit == "g" ? 1ULL << 30 : 0;
  if (!mul || n > (1ULL << 30) / mul) return std::nullopt;
  uint64_t bytes = n * mul;
  // At most 256 MiB, like RAM (65536 frames): every undo checkpoint copies the slots.
  if (bytes % 4096 || bytes > (256ULL << 20) || (bytes && bytes < 2 * 4096)) return std::nullopt;
  return bytes / 4096;
}

namespace {
// Calls f(table) for every table of named constants, in the order names are looked up.
template <class F>
void for_each_constant_table(F f) {
  f(kProt);
  f(kMapType);
  f(kMapFlags);
  f(kOther);
  f(kMadvise);
  f(kOpenFlags);
  f(kMsync);
  f(kMfd);
  f(kMremap);
  f(kMcl);
  f(kMlock2);
}
}  // namespace

std::optional<uint64_t> constant_value(std::string_view name) {
  // Every table's names in one hash map, built once; where two tables share a name the
  // first listed wins, as a scan in this order would find.
  static const std::unordered_map<std::string_view, uint64_t> by_name = [] {
    std::unordered_map<std::string_view, uint64_t> m;
    for_each_constant_table([&m](const auto& table) {
      for (const auto& n : table) m.emplace(n.name, n.value);
    });
    return m;
  }();
  auto it = by_name.find(name);
  if (it == by_name.end()) return std::nullopt;
  return it->second;
}

namespace {
// Bits by name in table order, then what is left in hex; `empty` when nothing is set.
template <size_t N>
std::string bit_names(uint64_t v, const Named (&table)[N], std::string out, const char* empty) {
  for (const auto& n : table) {
    if (n.value && (v & n.value) == n.value) {
      if (!out.empty()) out += '|';
      out += n.name;
      v &= ~n.value;
    }
  }
  if (v) {
    if (!out.empty()) out += '|';
    out += hex(v);
  }
  return out.empty() ? empty : out;
}
}  // namespace

std::string format_string(const std::string& bytes, size_t limit) {
  std::string out = "\"";
  size_t n = std::min(bytes.size(), limit);
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\v': out += "\\v"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          // Octal, padded to three digits only when a digit follows (strace's rule).
          bool digit_next = i + 1 < n && bytes[i + 1] >= '0' && bytes[i + 1] <= '9';
          char buf[8];
          std::snprintf(buf, sizeof buf, digit_next ? "\\%03o" : "\\%o", c);
          out += buf;
        }
    }
  }
  out += '"';
  if (bytes.size() > limit) out += "...";
  return out;
}

std::string format_open_flags(uint64_t flags) {
  uint64_t acc = flags & O_ACCMODE_;
  std::string base = acc == O_RDONLY_ ? "O_RDONLY" : acc == O_WRONLY_ ? "O_WRONLY" : acc == O_RDWR_ ? "O_RDWR" : "O_ACCMODE";
  return bit_names(flags & ~O_ACCMODE_, kOpenFlags, base, "O_RDONLY");
}

std::string format_mode(uint64_t mode) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0%" PRIo64, mode);
  return mode ? buf : "000";
}

std::string format_dirfd(int64_t fd) { return fd == AT_FDCWD_ ? "AT_FDCWD" : std::to_string(fd); }

std::string format_whence(uint64_t whence) {
  switch (whence) {
    case SEEK_SET_: return "SEEK_SET";
    case SEEK_CUR_: return "SEEK_CUR";
    case SEEK_END_: return "SEEK_END";
  }
  return std::to_string(static_cast<int64_t>(whence)) + " /* SEEK_??? */";
}

std::string format_stat(uint32_t mode, uint64_t size) {
  std::string type = (mode & 0170000) == S_IFCHR_ ? "S_IFCHR" : "S_IFREG";
  return "{st_mode=" + type + "|" + format_mode(mode & 07777) + ", st_size=" + std::to_string(size) + ", ...}";
}

std::string format_msync_flags(uint64_t flags) { return bit_names(flags, kMsync, "", "0"); }
std::string format_mfd_flags(uint64_t flags) { return bit_names(flags, kMfd, "", "0"); }
std::string format_mremap_flags(uint64_t flags) { return bit_names(flags, kMremap, "", "0"); }
std::string format_mlock2_flags(uint64_t flags) { return bit_names(flags, kMlock2, "", "0"); }
std::string format_mlockall_flags(uint64_t flags) { return bit_names(flags, kMcl, "", "0"); }

std::vector<std::string> constant_names() {
  std::vector<std::string> out;
  for_each_constant_table([&out](const auto& table) {
    for (const auto& n : table) out.push_back(n.name);
  });
  return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  // Levenshtein with transpositions (optimal string alignment), case-insensitive.
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& candidates) {
  // The nearest candidate, if it is close enough to be a typo of word.
  std::optional<std::string> best;
  size_t best_d = std::max<size_t>(1, std::min<size_t>(3, word.size() / 3));
  for (const auto& c : candidates) {
    size_t dist = edit_distance(word, c);
    if (dist <= best_d && (!best || dist < edit_distance(word, *best))) best = c;
  }
  return best;
}

std::string format_clone_flags(uint64_t flags) {
  static constexpr Named kClone[] = {
      {"CLONE_VM", 0x100}, {"CLONE_FS", 0x200}, {"CLONE_FILES", 0x400}, {"CLONE_SIGHAND", 0x800},
      {"CLONE_PIDFD", 0x1000}, {"CLONE_PTRACE", 0x2000}, {"CLONE_VFORK", 0x4000}, {"CLONE_PARENT", 0x8000},
      {"CLONE_THREAD", 0x10000}, {"CLONE_NEWNS", 0x20000}, {"CLONE_SYSVSEM", 0x40000}, {"CLONE_SETTLS", 0x80000},
      {"CLONE_PARENT_SETTID", 0x100000}, {"CLONE_CHILD_CLEARTID", 0x200000}, {"CLONE_DETACHED", 0x400000},
      {"CLONE_UNTRACED", 0x800000}, {"CLONE_CHILD_SETTID", 0x1000000}};
  // The low byte is the signal sent to the parent when the child exits.
  std::string out = bit_names(flags & ~uint64_t{0xff}, kClone, "", "");
  uint64_t sig = flags & 0xff;
  if (sig) {
    if (!out.empty()) out += '|';
    std::string name = signal_name(static_cast<int>(sig));
    out += sig == 17 ? "SIGCHLD" : name == "SIG?" ? std::to_string(sig) : name;
  }
  return out.empty() ? "0" : out;
}

std::string format_madvise(uint64_t advice) {
  for (const auto& n : kMadvise)
    if (advice == n.value) return n.name;
  return hex(advice) + " /* MADV_??? */";
}

std::string file_page(const Event& e, const Kernel& k);
bool is_tmpfs(const Event& e, const Kernel& k);

std::optional<std::string> format_event(const Event& e, const Kernel& k) {
  switch (e.kind) {
    case EventKind::Fault: {
      const char* acc = e.access == Access::Write ? "write" : e.access == Access::Exec ? "exec" : "read";
      std::string what;
      switch (e.fault) {
        case FaultKind::AnonZeroPage:
          what = "anonymous, minor (shared zero page mapped read-only)";
          break;
        case FaultKind::AnonNewPage:
          what = "anonymous, minor (zero-filled frame " + hex(e.pfn.value) + ")";
          break;
        case FaultKind::WpCopy:
          if (e.value == k.phys().zero_pfn().value)
            what = "write-protected, minor (copy-on-write: the zero page copied into frame " + hex(e.pfn.value) + ")";
          else
            what = "write-protected, minor (copy-on-write: frame " + hex(e.value) + " copied into frame " +
                   hex(e.pfn.value) + ")";
          break;
        case FaultKind::WpReuse:
          what = "write-protected, minor (frame " + hex(e.pfn.value) + " reused: no one else maps it)";
          break;
        case FaultKind::BadArea:
          what = "no VMA covers the address";
          break;
        case FaultKind::AccessError:
          what = std::string("the VMA does not allow ") +
                 (e.access == Access::Write ? "writing" : e.access == Access::Exec ? "executing" : "reading");
          break;
        case FaultKind::Oom:
          what = "out of memory (no free frame)";
          break;
        case FaultKind::FileReadMajor:
          what = "file, major (" + file_page(e, k) + " read from disk into frame " + hex(e.pfn.value) + "; " +
                 std::to_string(e.value) + (e.value == 1 ? " page" : " pages") + " mapped)";
          break;
        case FaultKind::FileReadMinor:
          what = "file, minor (" + file_page(e, k) + " found in the page cache, frame " + hex(e.pfn.value) + "; " +
                 std::to_string(e.value) + (e.value == 1 ? " page" : " pages") + " mapped)";
          break;
        case FaultKind::FileCow:
          what = std::string("file, ") + (e.level ? "major" : "minor") + " (copy-on-write: page-cache frame " +
                 hex(e.value) + " copied into frame " + hex(e.pfn.value) + ")";
          break;
        case FaultKind::FileShared:
          what = std::string(is_tmpfs(e, k) ? "shared memory (tmpfs), " : "shared file, ") +
                 (e.level ? "major" : "minor") + " (page-cache frame " + hex(e.pfn.value) +
                 " mapped writable, now dirty)";
          break;
        case FaultKind::WpShared:
          what = "write-protected shared page, minor (frame " + hex(e.pfn.value) + " now dirty and writable)";
          break;
        case FaultKind::SigBus:
          what = "past the end of the file";
          break;
        case FaultKind::Special:
          what = "special mapping, minor (the kernel's vvar/vdso frame " + hex(e.pfn.value) + " mapped)";
          break;
        case FaultKind::SwapIn:
          what = e.level ? "swapped out, major (swap slot " + std::to_string(e.value) + " read back into frame " +
                               hex(e.pfn.value) + ")"
                         : "swapped out, minor (swap slot " + std::to_string(e.value) +
                               " found in the swap cache, frame " + hex(e.pfn.value) + ")";
          break;
        case FaultKind::None:
          return std::nullopt;
      }
      return "--- page fault: " + std::string(acc) + ", " + what + " at " + hex(e.addr) + " ---";
    }
    case EventKind::Signal:
      if (e.signo == kSigKill) return std::nullopt;  // strace cannot see SIGKILL arrive
      if (e.si_code == 0) {
        return std::string("--- ") + signal_name(e.signo) + " {si_signo=" + signal_name(e.signo) +
               ", si_code=SI_USER, si_pid=" + std::to_string(e.value) + ", si_uid=0} ---";
      }
      return std::string("--- ") + signal_name(e.signo) + " {si_signo=" + signal_name(e.signo) +
             ", si_code=" + si_code_name(e.signo, e.si_code) + ", si_addr=" + format_pointer(e.addr) +
             "} ---";
    case EventKind::ProcessExit:
      if (e.signo) return std::string("+++ killed by ") + signal_name(e.signo) + " +++";
      return "+++ exited with " + std::to_string(e.value) + " +++";
    case EventKind::Reclaim: {
      std::string n = std::to_string(e.addr) + (e.addr == 1 ? " page" : " pages");
      std::string got = std::to_string(e.value) + " reclaimed";
      if (e.level == 2) return "--- MADV_PAGEOUT: " + n + " isolated, " + got + " ---";
      if (e.addr == 0 && e.level == 0)
        return "--- kswapd gives up: 16 runs in a row found nothing to reclaim (kswapd_failures) ---";
      return std::string(e.level ? "--- direct reclaim: " : "--- kswapd: ") + n + " scanned, " + got + " ---";
    }
    case EventKind::OomKill: {
      if (e.value >= k.oom_reports().size()) return std::nullopt;
      const OomReport& r = k.oom_reports()[static_cast<size_t>(e.value)];
      auto kb = [](uint64_t pages) { return std::to_string(pages * 4) + "kB"; };
      return "--- Out of memory: Killed process " + std::to_string(r.pid) + " (" + r.comm + ") total-vm:" +
             kb(r.total_vm) + ", anon-rss:" + kb(r.anon_rss) + ", file-rss:" + kb(r.file_rss) + ", shmem-rss:" +
             kb(r.shmem_rss) + ", UID:1000 pgtables:" + kb(r.pgtables) + " oom_score_adj:0 (badness " +
             std::to_string(r.points) + ") ---";
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::string> format_event_detail(const Event& e, const Kernel& k) {
  // verbosity all: the bookkeeping events too.
  auto range = [&] { return hex(e.addr) + "-" + hex(e.end); };
  auto file = [&] {
    const Inode* ino = k.inode(e.value);
    return ino ? ino->display_name() : std::string("?");
  };
  static const char* const kLevel[] = {"", "PTE", "PMD", "PUD", "PGD"};
  switch (e.kind) {
    case EventKind::FrameAlloc: return "--- frame " + hex(e.pfn.value) + " allocated for " + hex(e.addr) + " ---";
    case EventKind::FrameFree: return "--- frame " + hex(e.pfn.value) + " freed ---";
    case EventKind::PteSet: return "--- PTE for " + hex(e.addr) + " = " + hex(e.value) + " ---";
    case EventKind::PteClear: return "--- PTE for " + hex(e.addr) + " cleared (was " + hex(e.value) + ") ---";
    case EventKind::PageTableAlloc:
      return std::string("--- ") + kLevel[e.level & 7 ? std::min<int>(e.level, 4) : 0] + " table allocated in frame " +
             hex(e.pfn.value) + " ---";
    case EventKind::PageTableFree:
      return std::string("--- ") + kLevel[std::min(std::max<int>(e.level, 0), 4)] + " table in frame " + hex(e.pfn.value) +
             " freed ---";
    case EventKind::VmaInsert: return "--- VMA " + range() + " inserted ---";
    case EventKind::VmaExpand: return "--- VMA " + range() + " now (grown or merged) ---";
    case EventKind::VmaSplit: return "--- VMA split at " + hex(e.addr) + " ---";
    case EventKind::VmaRemove: return "--- VMA " + range() + " removed ---";
    case EventKind::PageCacheAdd:
      return "--- page " + std::to_string(e.addr) + " of " + file() + " added to the page cache in frame " +
             hex(e.pfn.value) + (e.level ? " (read from disk)" : "") + " ---";
    case EventKind::PageCacheRemove:
      return "--- page " + std::to_string(e.addr) + " of " + file() + " dropped from the page cache ---";
    case EventKind::Writeback: return "--- page " + std::to_string(e.addr) + " of " + file() + " written back ---";
    case EventKind::ProcessStart: return "--- process " + std::to_string(e.pid) + " created ---";
    case EventKind::SwapOut:
      return "--- frame " + hex(e.pfn.value) + " written to swap slot " + std::to_string(e.value) + " ---";
    case EventKind::SwapCacheDrop:
      return "--- frame " + hex(e.pfn.value) + " left the swap cache (slot " + std::to_string(e.value) + ") ---";
    case EventKind::LazyFreed:
      return "--- clean MADV_FREE page at " + hex(e.addr) + " dropped (frame " + hex(e.pfn.value) + ") ---";
    default: return std::nullopt;
  }
}

// Whether a fault event is on shared anonymous memory or a memfd (tmpfs).
bool is_tmpfs(const Event& e, const Kernel& k) {
  const Process* p = k.process(e.pid);
  const Vma* v = p ? p->mm.vma_at(e.addr) : nullptr;
  const Inode* ino = v && v->inode ? k.inode(v->inode) : nullptr;
  return ino && ino->kind == InodeKind::Shmem;
}

// "page 3 of /etc/hosts" for a fault event on a file VMA.
std::string file_page(const Event& e, const Kernel& k) {
  const Process* p = k.process(e.pid);
  if (!p) return "page";
  const Vma* v = p->mm.vma_at(e.addr);
  if (!v || !v->inode) return "page";
  const Inode* ino = k.inode(v->inode);
  uint64_t index = v->pgoff + (((e.addr & PAGE_MASK) - v->start) >> PAGE_SHIFT);
  return "page " + std::to_string(index) + " of " + (ino ? ino->display_name() : std::string("?"));
}

std::string format_hexdump_line(uint64_t addr, const uint8_t* bytes, size_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%012" PRIx64 " ", addr);
  std::string line = buf, text;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 8) line += ' ';
    if (i < n) {
      std::snprintf(buf, sizeof buf, " %02x", bytes[i]);
      line += buf;
      text += (bytes[i] >= 0x20 && bytes[i] < 0x7f) ? static_cast<char>(bytes[i]) : '.';
    } else {
      line += "   ";
    }
  }
  return line + "  |" + text + "|";
}

std::string format_pagemap_entry(uint64_t addr, uint64_t e, bool mapped) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%012" PRIx64 "  %016" PRIx64 "  ", addr, e);
  std::string d = buf;
  if (e >> 63) {
    d += "present";
    if ((e >> 56) & 1) d += " exclusive";
    if ((e >> 61) & 1) d += " file/shared";
    std::snprintf(buf, sizeof buf, " pfn=0x%" PRIx64, static_cast<uint64_t>(e & ((uint64_t{1} << 55) - 1)));
    d += buf;
  } else if ((e >> 62) & 1) {
    // PM_SWAP: the swap type in bits 0-4, the offset above.
    uint64_t frame = e & ((uint64_t{1} << 55) - 1);
    std::snprintf(buf, sizeof buf, "swapped type=%" PRIu64 " offset=%" PRIu64, frame & 31, frame >> 5);
    d += buf;
  } else {
    d += mapped ? "not present" : "not mapped";
  }
  if ((e >> 55) & 1) d += " soft-dirty";
  return d;
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          out += b;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::vector<std::string> describe_frame(const engine::Kernel& k, engine::Pfn pfn,
                                        const std::vector<engine::Kernel::Mapper>* mappers) {
  using engine::FrameOwner;
  std::vector<std::string> out;
  const engine::Frame& f = k.phys().frame(pfn);
  char b[256];
  std::snprintf(b, sizeof b, "pfn 0x%" PRIx64 "   phys 0x%" PRIx64, pfn.value, pfn.value << engine::PAGE_SHIFT);
  out.emplace_back(b);
  switch (f.owner) {
    case FrameOwner::Free: std::snprintf(b, sizeof b, "free: on the free list"); break;
    case FrameOwner::Reserved: std::snprintf(b, sizeof b, "reserved: firmware and kernel, never handed out"); break;
    case FrameOwner::ZeroPage:
      std::snprintf(b, sizeof b, "the shared zero page: read faults on anonymous memory map it read-only");
      break;
    case FrameOwner::PageTable:
      std::snprintf(b, sizeof b, "page table (%s level) of pid %" PRIu64,
                    engine::pt_level_name(static_cast<engine::PtLevel>(f.index)), f.owner_id);
      break;
    case FrameOwner::Anon:
      std::snprintf(b, sizeof b, "anonymous page of anon_vma %" PRIu64 ", first mapped at 0x%" PRIx64, f.owner_id,
                    f.index << engine::PAGE_SHIFT);
      break;
    case FrameOwner::File:
      std::snprintf(b, sizeof b, "page cache of %s, page %" PRIu64 " (file offset 0x%" PRIx64 ")",
                    k.inode(f.owner_id) ? k.inode(f.owner_id)->display_name().c_str() : "a file", f.index,
                    f.index << engine::PAGE_SHIFT);
      break;
    case FrameOwner::Shmem:
      std::snprintf(b, sizeof b, "shmem (tmpfs) page of %s, page %" PRIu64 " (offset 0x%" PRIx64 ")",
                    k.inode(f.owner_id) ? k.inode(f.owner_id)->display_name().c_str() : "a file", f.index,
                    f.index << engine::PAGE_SHIFT);
      break;
    case FrameOwner::Vdso:
      std::snprintf(b, sizeof b, "the kernel's %s page %" PRIu64 ": mapped into every process by execve",
                    f.index < 6 ? "vvar" : "vDSO", f.index < 6 ? f.index : f.index - 6);
      break;
  }
  out.emplace_back(b);
  static constexpr struct {
    uint32_t bit;
    const char* name;
  } kFlags[] = {
      {engine::PG_anon, "anon"},         {engine::PG_file, "file"},         {engine::PG_shmem, "shmem"},
      {engine::PG_dirty, "dirty"},       {engine::PG_referenced, "referenced"}, {engine::PG_active, "active"},
      {engine::PG_lru, "lru"},           {engine::PG_swapbacked, "swapbacked"}, {engine::PG_pagetable, "pagetable"},
      {engine::PG_zero, "zero"},         {engine::PG_mlocked, "mlocked"},   {engine::PG_reserved, "reserved"},
      {engine::PG_anon_exclusive, "anon_exclusive"}, {engine::PG_uptodate, "uptodate"},
      {engine::PG_swapcache, "swapcache"}, {engine::PG_unevictable, "unevictable"},
      {engine::PG_workingset, "workingset"}, {engine::PG_reclaim, "reclaim"},
  };
  std::string flags;
  for (const auto& fl : kFlags)
    if (f.flags & fl.bit) flags += std::string(flags.empty() ? "" : " ") + fl.name;
  out.push_back("refcount " + std::to_string(f.refcount) + "   mapcount " + std::to_string(f.mapcount) + "   flags " +
                (flags.empty() ? "none" : flags));
  if (mappers) {
    if (mappers->empty()) {
      out.emplace_back("mapped by no page table");
    } else {
      out.emplace_back("mapped by " + std::to_string(mappers->size()) + (mappers->size() == 1 ? " PTE:" : " PTEs:"));
      for (const auto& m : *mappers) {
        std::snprintf(b, sizeof b, "  pid %d at 0x%" PRIx64, m.pid, m.addr);
        out.emplace_back(b);
      }
    }
  }
  return out;
}

std::vector<std::string> describe_frame_reclaim(const engine::Kernel& k, engine::Pfn pfn) {
  std::vector<std::string> out;
  const Frame& f = k.phys().frame(pfn);
  if (f.lru != engine::LruList::None) {
    uint64_t age = k.lru_position(pfn);  // walks the list: once per command, not per frame
    out.push_back(std::string("on the ") + engine::lru_list_name(f.lru) + " list, " +
                  (age == 0 ? "at the tail (reclaim looks at it next)" : std::to_string(age) + " from the tail"));
  }
  if (f.flags & engine::PG_swapcache) out.push_back("in the swap cache for swap slot " + std::to_string(f.swap));
  return out;
}

std::vector<std::string> hexdump_page(const engine::PageData& data, uint64_t base) {
  std::vector<std::string> out;
  std::array<uint8_t, engine::kPageSize> zeros{};
  const uint8_t* bytes = data.empty() ? zeros.data() : data.data();
  bool squeezed = false;
  for (size_t off = 0; off < engine::kPageSize; off += 16) {
    if (off > 0 && std::memcmp(bytes + off, bytes + off - 16, 16) == 0) {
      if (!squeezed) out.emplace_back("*");
      squeezed = true;
      continue;
    }
    squeezed = false;
    out.push_back(format_hexdump_line(base + off, bytes + off, 16));
  }
  char end[24];
  std::snprintf(end, sizeof end, "%012" PRIx64, base + engine::kPageSize);
  out.emplace_back(end);
  return out;
}

}  // namespace vmplay::shell
