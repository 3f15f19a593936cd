// tests/kernel: the kernel-differential runner. Runs one .vmsh case twice, on this
// machine's Linux kernel (worker processes doing the real calls and accesses) and on
// vmplay's engine (a shell Session), normalises both transcripts the same way and
// compares them line by line.
//
//   kdiff CASE.vmsh            compare; exit 0 when equal, 1 on a difference, 77 to skip
//   kdiff --real CASE.vmsh     print the kernel's normalised transcript
//   kdiff --sim CASE.vmsh      print vmplay's normalised transcript
//
// Normalisation keeps the comparison strict. Both sides first run a hidden prologue: a
// one-page PROT_NONE shared fence mapping (so the case's first mapping cannot merge with
// the runner's own) and brk(NULL). Addresses within 4 GiB of the fence print as B+off /
// B-off, within 1 GiB of the first break as H+off; /proc lines are kept only for the
// ranges the case mapped; device and inode numbers (different filesystems) print as DEV
// INO; the kernel's errno text is dropped (the names are compared); the status lines
// compare their change since the prologue; in /proc/swaps the runner's swap file shows
// as vmplay's /swapfile and its priority as *. Everything else is compared as printed.
//
// The workers run on one CPU (the kernel's per-CPU LRU batches then drain predictably).
// A case may start with directives, e.g. "# kdiff: overcommit=2" or "# kdiff: swap=4M"
// (kdiff.h): the kernel's side sets vm.overcommit_memory, or turns on a swap file of its
// own, around the case's lines and always puts the machine back; the case is skipped
// (77) when the setting cannot be made (not root; another swap area already on).
#include <fcntl.h>
#include <malloc.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "shell/parser.h"
#include "tests/kernel/kdiff.h"

using namespace vmplay;
using shell::Expr;
using shell::Stmt;

namespace {
using kdiff::eval;
using kdiff::Eval;
using kdiff::mapped_range;
using kdiff::Range;
using kdiff::Run;
constexpr int kMaxWorkers = 8;

// ---- machine settings a case asks for (kdiff.h, Directives) ----
//
// vm.overcommit_memory and the swap areas are the machine's. They are changed for as
// short a time as possible (just around the case's lines, the workers already running)
// and put back on every way out: the normal one, std::exit (atexit), a fatal signal to
// this process (a handler), and SIGKILL (ctest's timeout), which no handler sees: a
// guardian process, detached from this one, waits on a pipe only we hold and restores
// them when the pipe closes without our "done". Everything the handlers touch is
// async-signal-safe (swapoff, unlink and nanosleep are system calls).
//
// The swap file (# kdiff: swap=SIZE) lives in the case's scratch directory: made with a
// header as mkswap writes it, turned on at the highest priority, turned off and removed
// after the case (once the workers are gone, so swapoff has nothing to read back).
constexpr const char* kOvercommitPath = "/proc/sys/vm/overcommit_memory";
constexpr const char* kSwapFileName = "kdiff-swapfile";  // normalised to vmplay's /swapfile

struct HostSettings {
  pid_t owner = 0;  // the runner; its forks (workers, guardian) restore nothing themselves
  // vm.overcommit_memory
  bool overcommit_wanted = false;
  volatile sig_atomic_t overcommit_applied = 0;
  char old_value[16] = {};  // as read, with its newline
  char new_value[16] = {};
  // The swap file: perhaps created (unlink it), perhaps on (swapoff it).
  bool swap_wanted = false;
  volatile sig_atomic_t swap_created = 0, swap_on = 0;
  char swap_path[4096] = {};
  char swap_dir[4096] = {};  // the scratch directory (the guardian removes it if empty)
  int guardian_fd = -1;      // write end; "d" = restored, close without it = restore
};
HostSettings g_setting;

bool write_text(const char* path, const char* text, int* err) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    if (err) *err = errno;
    return false;
  }
  size_t n = strlen(text);
  bool ok = write(fd, text, n) == ssize_t(n);
  if (!ok && err) *err = errno;
  close(fd);
  return ok;
}

bool read_text(const char* path, char* buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = 0;
  return true;
}

// Turns the swap file off; true once it is off (or was never on). swapoff reads every
// page still out there back in and may fail for a while (ENOMEM, or EINTR when a signal
// comes): it is tried again for up to `tries` tenths of a second. Async-signal-safe.
bool swapoff_retrying(const char* path, int tries) {
  for (int i = 0;; ++i) {
    if (swapoff(path) == 0 || errno == EINVAL || errno == ENOENT) return true;  // EINVAL: not on
    if (i + 1 >= tries) return false;
    struct timespec ts {0, 100 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
}

void restore_overcommit() {
  if (getpid() != g_setting.owner || !g_setting.overcommit_applied) return;
  g_setting.overcommit_applied = 0;
  (void)write_text(kOvercommitPath, g_setting.old_value, nullptr);
}

// False when the swap file is still on (swapoff kept failing): the guardian tries again.
bool restore_swap() {
  if (getpid() != g_setting.owner) return true;
  if (g_setting.swap_on) {
    if (!swapoff_retrying(g_setting.swap_path, 50)) return false;
    g_setting.swap_on = 0;
  }
  if (g_setting.swap_created) {
    (void)unlink(g_setting.swap_path);
    (void)rmdir(g_setting.swap_dir);  // the scratch directory, when nothing else is in it
    g_setting.swap_created = 0;
  }
  return true;
}

// Puts everything back; idempotent, async-signal-safe. The guardian hears "done" only
// when nothing is left for it to do.
void restore_host_setting() {
  if (getpid() != g_setting.owner) return;
  restore_overcommit();
  bool done = restore_swap();
  if (g_setting.guardian_fd >= 0) {
    if (done) (void)!write(g_setting.guardian_fd, "d", 1);
    close(g_setting.guardian_fd);
    g_setting.guardian_fd = -1;
  }
}

constexpr int kFatalSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
struct sigaction g_old_actions[std::size(kFatalSignals)];
bool g_handlers_installed = false;

void on_fatal_signal(int sig) {
  restore_host_setting();
  signal(sig, SIG_DFL);
  raise(sig);
}

// The guardian: a grandchild in its own session (not in our process group, not our
// child, so neither a terminal's ^C nor ctest killing our process tree reaches it).
// It returns at once when we say "d"; when the pipe closes without it, it restores
// the old overcommit value if the setting still holds ours, and turns the swap file off
// and removes it (and the scratch directory, if that is empty) if it is there.
bool start_guardian() {
  int p[2];
  if (pipe2(p, O_CLOEXEC)) return false;
  pid_t mid = fork();
  if (mid < 0) {
    close(p[0]);
    close(p[1]);
    return false;
  }
  if (mid == 0) {
    if (fork() != 0) _exit(0);
    setsid();
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    int null = open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; ++fd) dup2(null, fd);
    int keep = p[0];
    for (int fd = 3; fd < 1024; ++fd)
      if (fd != keep) close(fd);
    char c = 0;
    ssize_t r;
    do r = read(keep, &c, 1);
    while (r < 0 && errno == EINTR);
    if (r == 1 && c == 'd') _exit(0);
    char now[16];
    if (g_setting.overcommit_wanted && read_text(kOvercommitPath, now, sizeof now) &&
        strcmp(now, g_setting.new_value) == 0)
      (void)write_text(kOvercommitPath, g_setting.old_value, nullptr);
    if (g_setting.swap_wanted) {
      // The workers may still be going (they end when they see our pipes close).
      if (swapoff_retrying(g_setting.swap_path, 300)) (void)unlink(g_setting.swap_path);
      (void)rmdir(g_setting.swap_dir);
    }
    _exit(0);
  }
  close(p[0]);
  waitpid(mid, nullptr, 0);
  g_setting.guardian_fd = p[1];
  return true;
}

// Can this process change vm.overcommit_memory at all? (Writing back the value it has.)
bool host_setting_writable(int mode, std::string& why) {
  char now[16];
  if (!read_text(kOvercommitPath, now, sizeof now)) {
    why = std::string("cannot read ") + kOvercommitPath + ": " + strerror(errno);
    return false;
  }
  int err = 0;
  if (!write_text(kOvercommitPath, now, &err)) {
    why = std::string("cannot write ") + kOvercommitPath + " (" + strerror(err) +
          "), and the case runs with vm.overcommit_memory = " + std::to_string(mode) +
          " (# kdiff: overcommit=" + std::to_string(mode) + "); it needs root, and a /proc/sys that is not read-only";
    return false;
  }
  return true;
}

// The swap areas that are on, as /proc/swaps lists them (its header dropped).
std::vector<std::string> swap_areas() {
  std::vector<std::string> v;
  std::ifstream f("/proc/swaps");
  std::string l;
  bool header = true;
  while (std::getline(f, l)) {
    if (!header && !l.empty()) v.push_back(l);
    header = false;
  }
  return v;
}

// A case with a swap file can run only when no other swap area is on: the kernel would
// spread its pages over them by priority, and their slots' offsets would not be the
// ones vmplay hands out in its single swap file.
bool swap_usable(const std::string& size, std::string& why) {
  if (access("/proc/swaps", R_OK) != 0) {
    why = "the case runs with a swap file (# kdiff: swap=" + size + ") and /proc/swaps cannot be read: " +
          strerror(errno);
    return false;
  }
  std::vector<std::string> areas = swap_areas();
  if (!areas.empty()) {
    std::string first = areas[0].substr(0, areas[0].find_first_of(" \t"));
    why = "the case runs with a swap file of its own (# kdiff: swap=" + size + "), and this machine already has " +
          std::to_string(areas.size()) + " swap area" + (areas.size() == 1 ? "" : "s") + " on (" + first +
          "): the case's pages could land there and the slots' offsets would not be comparable with vmplay's; "
          "turn it off (swapoff) to run the case";
    return false;
  }
  return true;
}

// Writes a swap file of `pages` 4 KiB pages, as mkswap would: every block allocated
// (swapon refuses holes), the header in page 0 (include/linux/swap.h, union
// swap_header: version 1, last_page, no bad pages, "SWAPSPACE2" in the page's last
// ten bytes).
bool make_swap_file(const char* path, uint64_t pages, int* err) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    *err = errno;
    return false;
  }
  static char block[65536];
  std::memset(block, 0, sizeof block);
  uint32_t info[3] = {1, static_cast<uint32_t>(pages - 1), 0};  // version, last_page, nr_badpages
  std::memcpy(block + 1024, info, sizeof info);
  std::memcpy(block + 1024 + sizeof info + 16, "vmplay-kdiff", 12);  // the volume label, after the uuid
  std::memcpy(block + 4096 - 10, "SWAPSPACE2", 10);
  bool ok = true;
  for (uint64_t done = 0; ok && done < pages * 4096;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof block, pages * 4096 - done));
    ssize_t w = write(fd, block, n);
    if (w <= 0) {
      *err = w < 0 ? errno : ENOSPC;
      ok = false;
      break;
    }
    if (done == 0) std::memset(block, 0, 4096);  // the header is written once
    done += static_cast<uint64_t>(w);
  }
  if (ok && fsync(fd) != 0) {
    *err = errno;
    ok = false;
  }
  close(fd);
  return ok;
}

// The kernel writes swapped-out pages, and reads swapped-in neighbours ahead, with
// asynchronous I/O: a page leaves the swap cache (its slot freed, mincore 0) only once its
// write has finished, so what a line shows could depend on the disk's speed. vmplay's I/O
// is instant: after each line of a swap case the runner waits (up to two seconds) until
// the swap file's block device has no request in flight (/sys/dev/block/M:m/inflight,
// counted by the block layer when read; a partition's file is there too).
std::string g_inflight_path;

void find_swap_device(const std::string& scratch) {
  struct stat st {};
  if (stat(scratch.c_str(), &st) != 0) return;
  std::string path =
      "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev)) + "/inflight";
  if (access(path.c_str(), R_OK) == 0) g_inflight_path = path;
}

void wait_for_swap_io() {
  if (g_inflight_path.empty()) return;
  for (int i = 0; i < 2000; ++i) {
    char buf[64];
    unsigned long reads = 1, writes = 1;
    if (!read_text(g_inflight_path.c_str(), buf, sizeof buf) || std::sscanf(buf, "%lu %lu", &reads, &writes) != 2)
      return;
    if (reads == 0 && writes == 0) return;
    struct timespec ts {0, 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
}

// The write's end also runs on whichever CPU takes the disk's interrupt: a page that
// is on the LRU by then is queued for the inactive list's tail in that CPU's lru_rotate
// batch, which holds a reference until that CPU drains it. A write fault that finds
// more references than the swap cache's and its own keeps the page's slot (do_swap_page,
// should_try_to_free_swap), so whether a slot is freed would depend on what else ran on
// the other CPU. After each line of a swap case, once the I/O is done, the runner empties
// every CPU's LRU batches: migrate_pages(2) with the same node as source and target moves
// nothing but first drains them all (do_migrate_pages, lru_cache_disable). vmplay has no
// such batches.
void drain_lru_batches() {
  unsigned long node0 = 1;
  (void)syscall(SYS_migrate_pages, 0, sizeof node0 * 8, &node0, &node0);
}

// Makes the settings the case asks for; false (and why) when it cannot, with whatever
// was done undone.
bool apply_host_settings(const kdiff::Directives& d, const std::string& scratch, std::string& why) {
  g_setting.owner = getpid();
  if (d.overcommit) {
    if (!read_text(kOvercommitPath, g_setting.old_value, sizeof g_setting.old_value)) {
      why = std::string("cannot read ") + kOvercommitPath + ": " + strerror(errno);
      return false;
    }
    std::snprintf(g_setting.new_value, sizeof g_setting.new_value, "%d\n", *d.overcommit);
    g_setting.overcommit_wanted = true;
  }
  if (d.swap) {
    if (!swap_usable(*d.swap, why)) return false;
    std::string path = scratch + "/" + kSwapFileName;
    if (path.size() >= sizeof g_setting.swap_path) {
      why = "the scratch directory's name is too long: " + scratch;
      return false;
    }
    std::snprintf(g_setting.swap_path, sizeof g_setting.swap_path, "%s", path.c_str());
    std::snprintf(g_setting.swap_dir, sizeof g_setting.swap_dir, "%s", scratch.c_str());
    g_setting.swap_wanted = true;
  }
  static bool registered = false;
  if (!registered) {
    std::atexit(restore_host_setting);
    registered = true;
  }
  if (!start_guardian()) {
    why = std::string("cannot start the process that restores the machine's settings: ") + strerror(errno);
    return false;
  }
  struct sigaction sa {};
  sa.sa_handler = on_fatal_signal;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < std::size(kFatalSignals); ++i) sigaction(kFatalSignals[i], &sa, &g_old_actions[i]);
  g_handlers_installed = true;
  if (d.swap) {
    const std::string what = "the case runs with a swap file (# kdiff: swap=" + *d.swap + "): ";
    int err = 0;
    g_setting.swap_created = 1;
    if (!make_swap_file(g_setting.swap_path, d.swap_pages, &err)) {
      restore_host_setting();
      why = what + "cannot write " + g_setting.swap_path + ": " + strerror(err);
      return false;
    }
    // Another area may have come on meanwhile.
    if (!swap_usable(*d.swap, why)) {
      restore_host_setting();
      return false;
    }
    find_swap_device(scratch);
    g_setting.swap_on = 1;
    if (swapon(g_setting.swap_path, SWAP_FLAG_PREFER | (32767 & SWAP_FLAG_PRIO_MASK)) != 0) {
      err = errno;
      g_setting.swap_on = 0;
      restore_host_setting();
      why = what + "swapon(" + g_setting.swap_path + ") is refused: " + strerror(err) +
            (err == EPERM   ? " (it needs root: CAP_SYS_ADMIN in the initial user namespace)"
             : err == EINVAL ? " (the filesystem of the scratch directory cannot hold a swap file: tmpfs, overlayfs, "
                               "NFS without swap support, a copy-on-write btrfs...)"
             : err == EBUSY  ? " (the file is in use)"
                             : "");
      return false;
    }
  }
  if (d.overcommit) {
    g_setting.overcommit_applied = 1;
    int err = 0;
    if (!write_text(kOvercommitPath, g_setting.new_value, &err)) {
      restore_host_setting();
      why = std::string("cannot write ") + kOvercommitPath + ": " + strerror(err);
      return false;
    }
  }
  return true;
}

// After the case's lines: vm.overcommit_memory at once (the workers may still be there).
void end_overcommit() { restore_overcommit(); }

// When the workers are gone: the swap file too, and the handlers as they were.
void end_host_settings() {
  restore_host_setting();
  if (g_setting.swap_created || g_setting.swap_on)
    std::fprintf(stderr, "kdiff: could not turn off the swap file %s; the guardian process keeps trying\n",
                 g_setting.swap_path);
  if (!g_handlers_installed) return;
  for (size_t i = 0; i < std::size(kFatalSignals); ++i) sigaction(kFatalSignals[i], &g_old_actions[i], nullptr);
  g_handlers_installed = false;
}

// ---- the real kernel: worker processes ----

sigjmp_buf g_fault_jmp;
volatile sig_atomic_t g_signo = 0, g_code = 0;
void* volatile g_addr = nullptr;

void on_fault(int sig, siginfo_t* si, void*) {
  g_signo = sig;
  g_code = si->si_code;
  g_addr = si->si_addr;
  siglongjmp(g_fault_jmp, 1);
}

std::string errno_result(int err) {
  const char* name = strerrorname_np(err);
  return std::string("-1 ") + (name ? name : "E?");
}

std::string hexs(uint64_t v) { return kdiff::hex(v); }

struct Worker {
  int index = 1;  // vmplay's pid numbering
  int next_child = 2;  // the pid vmplay gives the next fork, sent with each line
  int cmd_fd = -1, res_fd = -1;
  std::map<pid_t, int> children;  // real pid -> index
  std::map<std::string, uint64_t> vars;
  std::string out;
  std::string scratch;  // the case's /tmp/ is this directory

  void line(const std::string& s) { out += s + "\n"; }
  std::string path(const std::string& p) const {
    return p.rfind("/tmp/", 0) == 0 ? scratch + p.substr(4) : p;
  }
};

int g_cmd[kMaxWorkers + 1][2], g_res[kMaxWorkers + 1][2];

bool read_all(int fd, void* buf, size_t n) {
  auto* p = static_cast<char*>(buf);
  while (n) {
    ssize_t r = read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}
void write_all(int fd, const void* buf, size_t n) {
  auto* p = static_cast<const char*>(buf);
  while (n) {
    ssize_t r = write(fd, p, n);
    if (r <= 0) {
      restore_host_setting();  // the parent's way out (a worker's is a no-op)
      _exit(99);
    }
    p += r;
    n -= static_cast<size_t>(r);
  }
}
void send_msg(int fd, const std::string& s) {
  uint32_t n = static_cast<uint32_t>(s.size());
  write_all(fd, &n, 4);
  write_all(fd, s.data(), n);
}
std::optional<std::string> recv_msg(int fd) {
  uint32_t n = 0;
  if (!read_all(fd, &n, 4)) return std::nullopt;
  std::string s(n, '\0');
  if (n && !read_all(fd, s.data(), n)) return std::nullopt;
  return s;
}

std::string slurp(const char* path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

[[noreturn]] void worker_loop(Worker& w);

// Runs one access with faults caught; on a fault prints what vmplay prints and ends.
template <typename F>
void guarded(Worker& w, const std::string& tag, F&& f) {
  if (sigsetjmp(g_fault_jmp, 1)) {
    const char* sig = g_signo == SIGBUS ? "SIGBUS" : "SIGSEGV";
    std::string code = g_signo == SIGBUS ? (g_code == BUS_ADRERR ? "BUS_ADRERR" : std::to_string(g_code))
                                         : (g_code == SEGV_MAPERR   ? "SEGV_MAPERR"
                                            : g_code == SEGV_ACCERR ? "SEGV_ACCERR"
                                                                    : std::to_string(g_code));
    w.line(tag + "--- " + sig + " {si_signo=" + sig + ", si_code=" + code + ", si_addr=" +
           kdiff::pointer(reinterpret_cast<uint64_t>(g_addr)) + "} ---");
    w.line(tag + "+++ killed by " + sig + " +++");
    send_msg(w.res_fd, w.out);
    send_msg(w.res_fd, "\x01" "dead");
    _exit(128 + g_signo);
  }
  f();
}

std::string call_result(long r, bool pointer) {
  if (r == -1) return errno_result(errno);
  return pointer ? hexs(static_cast<uint64_t>(r)) : std::to_string(r);
}

void run_real_call(Worker& w, const Stmt& st, const std::string& tag) {
  const auto& c = *st.call;
  std::vector<uint64_t> a;
  std::vector<std::string> s;
  for (const auto& e : c.args) {
    if (e.kind == Expr::Kind::String) {
      a.push_back(0);
      s.push_back(e.name);
    } else {
      Eval v = eval(e, w.vars);
      a.push_back(v.value);
      s.push_back({});
    }
  }
  auto arg = [&](size_t i) { return i < a.size() ? a[i] : 0; };
  auto ptr = [&](size_t i) { return reinterpret_cast<void*>(arg(i)); };
  long r = 0;
  bool pointer = false;
  std::string extra;
  const std::string& n = c.name;
  errno = 0;
  if (n == "mmap") {
    void* p = mmap(ptr(0), arg(1), int(arg(2)), int(arg(3)), int(arg(4)), off_t(arg(5)));
    r = p == MAP_FAILED ? -1 : long(reinterpret_cast<uintptr_t>(p));
    pointer = true;
  } else if (n == "munmap") {
    r = munmap(ptr(0), arg(1));
  } else if (n == "mprotect") {
    r = mprotect(ptr(0), arg(1), int(arg(2)));
  } else if (n == "madvise") {
    r = madvise(ptr(0), arg(1), int(arg(2)));
  } else if (n == "mlock") {
    r = mlock(ptr(0), arg(1));
  } else if (n == "mlock2") {
    r = mlock2(ptr(0), arg(1), unsigned(arg(2)));
  } else if (n == "munlock") {
    r = munlock(ptr(0), arg(1));
  } else if (n == "mlockall") {
    r = mlockall(int(arg(0)));
  } else if (n == "munlockall") {
    r = munlockall();
  } else if (n == "msync") {
    r = msync(ptr(0), arg(1), int(arg(2)));
  } else if (n == "mremap") {
    // The raw call: glibc's wrapper passes garbage as new_address without MREMAP_FIXED.
    r = syscall(SYS_mremap, ptr(0), arg(1), arg(2), arg(3), ptr(4));
    pointer = true;
  } else if (n == "mincore") {
    // The kernel writes the vector itself (EFAULT when it cannot); it is read back.
    size_t pages = (arg(1) + 4095) / 4096;
    r = mincore(ptr(0), arg(1), static_cast<unsigned char*>(ptr(2)));
    if (r == 0) {
      extra = "[";
      for (size_t i = 0; i < pages; ++i) extra += (i ? ", " : "") + std::to_string(static_cast<unsigned char*>(ptr(2))[i] & 1);
      extra += "]";
    }
  } else if (n == "brk") {
    r = syscall(SYS_brk, arg(0));
    pointer = true;
  } else if (n == "open") {
    r = open(w.path(s[0]).c_str(), int(arg(1)), mode_t(arg(2)));
  } else if (n == "openat") {
    r = openat(AT_FDCWD, w.path(s[1]).c_str(), int(arg(2)), mode_t(arg(3)));
  } else if (n == "close") {
    r = close(int(arg(0)));
  } else if (n == "write" || n == "pwrite64") {
    const void* buf = s[1].empty() && c.args[1].kind != Expr::Kind::String ? ptr(1) : s[1].data();
    r = n == "write" ? write(int(arg(0)), buf, arg(2)) : pwrite(int(arg(0)), buf, arg(2), off_t(arg(3)));
  } else if (n == "read" || n == "pread64") {
    r = n == "read" ? read(int(arg(0)), ptr(1), arg(2)) : pread(int(arg(0)), ptr(1), arg(2), off_t(arg(3)));
  } else if (n == "ftruncate") {
    r = ftruncate(int(arg(0)), off_t(arg(1)));
  } else if (n == "memfd_create") {
    r = memfd_create(s[0].c_str(), unsigned(arg(1)));
  } else if (n == "unlink") {
    r = unlink(w.path(s[0]).c_str());
  } else if (n == "getpid") {
    r = w.index;
  } else if (n == "fork") {
    int child = w.next_child;
    if (child > kMaxWorkers) {
      w.line("error: the runner has room for " + std::to_string(kMaxWorkers) + " processes");
      return;
    }
    pid_t p = fork();
    if (p == 0) {
      w.index = child;
      w.cmd_fd = g_cmd[child][0];
      w.res_fd = g_res[child][1];
      w.children.clear();
      w.out.clear();
      worker_loop(w);
    }
    w.children[p] = child;
    r = child;
  } else if (n == "exit" || n == "exit_group") {
    w.line(tag + n + "() = ?");
    w.line(tag + "+++ exited with " + std::to_string(arg(0) & 0xff) + " +++");
    send_msg(w.res_fd, w.out);
    send_msg(w.res_fd, "\x01" "dead");
    _exit(int(arg(0) & 0xff));
  } else if (n == "wait4") {
    pid_t p = wait4(arg(0) == uint64_t(-1) ? -1 : pid_t(arg(0)), nullptr, int(arg(2)), nullptr);
    r = p == -1 ? -1 : (w.children.count(p) ? w.children[p] : 999);
  } else {
    w.line("error: the runner does not know " + n);
    return;
  }
  std::string res = call_result(r, pointer);
  w.line(tag + n + "(" + extra + ") = " + res);
  if (!st.target.empty() && r != -1) w.vars[st.target] = static_cast<uint64_t>(r);
  if (!st.target.empty() && r == -1) w.vars[st.target] = uint64_t(-1);
  if (r != -1) {
    if (auto rg = mapped_range(st, static_cast<uint64_t>(r), w.vars))
      w.line("\x01range " + std::to_string(rg->start) + " " + std::to_string(rg->end));
    if (n == "brk" && arg(0) > w.vars["heap0"]) w.line("\x01range " + std::to_string(w.vars["heap0"]) + " " + std::to_string(r));
  }
}

void run_real_libc(Worker& w, const Stmt& st, const std::string& tag) {
  const auto& c = *st.call;
  auto num = [&](size_t i) { return eval(c.args[i], w.vars).value; };
  const std::string& n = c.name;
  if (n == "memset") {
    uint64_t d = num(0), v = num(1), len = num(2);
    guarded(w, tag, [&] { for (uint64_t i = 0; i < len; ++i) reinterpret_cast<volatile uint8_t*>(d)[i] = uint8_t(v); });
    w.line(tag + "memset() = " + hexs(d));
  } else if (n == "memcpy") {
    uint64_t d = num(0), src = num(1), len = num(2);
    guarded(w, tag, [&] {
      for (uint64_t i = 0; i < len; ++i)
        reinterpret_cast<volatile uint8_t*>(d)[i] = reinterpret_cast<volatile uint8_t*>(src)[i];
    });
    w.line(tag + "memcpy() = " + hexs(d));
  } else if (n == "strcpy") {
    uint64_t d = num(0);
    std::string text = c.args[1].name;
    guarded(w, tag, [&] {
      for (size_t i = 0; i <= text.size(); ++i)
        reinterpret_cast<volatile uint8_t*>(d)[i] = i < text.size() ? uint8_t(text[i]) : 0;
    });
    w.line(tag + "strcpy() = " + hexs(d));
  } else if (n == "touch") {
    uint64_t d = num(0), len = num(1);
    std::string mode = c.args[2].name;
    uint64_t pages = 0;
    guarded(w, tag, [&] {
      for (uint64_t at = d & ~uint64_t{4095}; at < d + len; at += 4096, ++pages) {
        auto* p = reinterpret_cast<volatile uint8_t*>(std::max(at, d));
        // "w" is one write access, as in vmplay: a locked read-modify-write that leaves
        // the byte as it is faults as a write (`*p = *p` would fault as a read first: a
        // swapped-out page would come back keeping its slot, a new one as the zero page).
        if (mode == "w") asm volatile("lock orb $0, %0" : "+m"(*p) : : "memory");
        else (void)*p;
      }
    });
    w.line(tag + "touch: " + std::to_string(pages) + (pages == 1 ? " page" : " pages"));
  } else if (n == "dump") {
    uint64_t d = num(0), len = num(1);
    std::vector<uint8_t> bytes(len);
    guarded(w, tag, [&] {
      for (uint64_t i = 0; i < len; ++i) bytes[i] = reinterpret_cast<volatile uint8_t*>(d)[i];
    });
    for (size_t off = 0; off < bytes.size(); off += 16)
      w.line(kdiff::hexdump_line(d + off, bytes.data() + off, std::min<size_t>(16, bytes.size() - off)));
  } else if (n == "pagemap") {
    uint64_t start = num(0) & ~uint64_t{4095}, len = num(1);
    uint64_t pages = (num(0) + len + 4095) / 4096 - start / 4096;
    int fd = open("/proc/self/pagemap", O_RDONLY);
    std::string maps = slurp("/proc/self/maps");
    w.line("/proc/" + std::to_string(w.index) + "/pagemap, " + std::to_string(pages) + (pages == 1 ? " page" : " pages") +
           " from " + hexs(start) + ":");
    for (uint64_t i = 0; i < pages; ++i) {
      uint64_t addr = start + i * 4096, e = 0;
      if (pread(fd, &e, 8, off_t(addr / 4096 * 8)) != 8) e = 0;
      bool mapped = false;
      if (!(e >> 63)) {
        std::istringstream in(maps);
        std::string ml;
        while (std::getline(in, ml)) {
          uint64_t s0 = 0, e0 = 0;
          if (std::sscanf(ml.c_str(), "%" SCNx64 "-%" SCNx64, &s0, &e0) == 2 && addr >= s0 && addr < e0) mapped = true;
        }
      }
      w.line(kdiff::pagemap_entry(addr, e, mapped));
    }
    close(fd);
  }
}

void run_real_access(Worker& w, const Stmt& st, const std::string& tag) {
  if (st.kind == Stmt::Kind::Load || st.kind == Stmt::Kind::Store) {
    uint64_t base = w.vars.count(st.target) ? w.vars[st.target] : 0;
    uint64_t addr = base + eval(*st.index, w.vars).value;
    auto* p = reinterpret_cast<volatile uint8_t*>(addr);
    if (st.kind == Stmt::Kind::Store) {
      uint64_t v = eval(*st.value, w.vars).value;
      guarded(w, tag, [&] { *p = uint8_t(v); });
    } else {
      uint8_t v = 0;
      guarded(w, tag, [&] { v = *p; });
      w.line(tag + "load = " + std::to_string(v));
    }
    return;
  }
  // Deref: typed.
  uint64_t addr = eval(*st.index, w.vars).value;
  if (st.value) {
    uint64_t v = eval(*st.value, w.vars).value;
    guarded(w, tag, [&] {
      switch (st.width) {
        case 1: *reinterpret_cast<volatile uint8_t*>(addr) = uint8_t(v); break;
        case 2: *reinterpret_cast<volatile uint16_t*>(addr) = uint16_t(v); break;
        case 4: *reinterpret_cast<volatile uint32_t*>(addr) = uint32_t(v); break;
        default: *reinterpret_cast<volatile uint64_t*>(addr) = v; break;
      }
    });
  } else {
    uint64_t v = 0;
    guarded(w, tag, [&] {
      switch (st.width) {
        case 1: v = *reinterpret_cast<volatile uint8_t*>(addr); break;
        case 2: v = *reinterpret_cast<volatile uint16_t*>(addr); break;
        case 4: v = *reinterpret_cast<volatile uint32_t*>(addr); break;
        default: v = *reinterpret_cast<volatile uint64_t*>(addr); break;
      }
    });
    int64_t sv = static_cast<int64_t>(v);
    if (st.is_signed && st.width < 8) {
      unsigned bits = st.width * 8u;
      if (v >> (bits - 1)) sv = static_cast<int64_t>(v | (~uint64_t{0} << bits));
    }
    w.line(tag + "load = " + (st.is_signed ? std::to_string(sv) : std::to_string(v)));
  }
}

void run_real_line(Worker& w, const std::string& text) {
  shell::ParseResult pr = shell::parse_line(text);
  if (pr.error) {
    w.line("error: " + pr.error->message);
    return;
  }
  const Stmt& st = *pr.stmt;
  std::string tag = st.pid ? "[pid " + std::to_string(*st.pid) + "] " : "";
  switch (st.kind) {
    case Stmt::Kind::Empty:
      return;
    case Stmt::Kind::Comment:
      w.line("# " + st.text);
      return;
    case Stmt::Kind::CallStmt:
    case Stmt::Kind::Assign:
      if (!st.call) {
        Eval v = eval(*st.value, w.vars);
        w.vars[st.target] = v.value;
        w.line(st.target + " = " + hexs(v.value));
        return;
      }
      if (st.call->name == "memset" || st.call->name == "memcpy" || st.call->name == "strcpy" ||
          st.call->name == "touch" || st.call->name == "dump" || st.call->name == "pagemap") {
        run_real_libc(w, st, tag);
        if (!st.target.empty()) w.vars[st.target] = eval(st.call->args[0], w.vars).value;
        return;
      }
      run_real_call(w, st, tag);
      return;
    case Stmt::Kind::Eval: {
      Eval v = eval(*st.value, w.vars);
      w.line("= " + hexs(v.value));
      return;
    }
    case Stmt::Kind::Load:
    case Stmt::Kind::Store:
    case Stmt::Kind::Deref:
      run_real_access(w, st, tag);
      return;
    case Stmt::Kind::Cat: {
      std::string path = st.text;
      if (path.rfind("/proc/self/", 0) == 0) path = "/proc/self/" + path.substr(11);
      else path = w.path(path);
      std::istringstream in(slurp(path.c_str()));
      std::string l;
      bool status = path == "/proc/self/status";
      while (std::getline(in, l)) w.line((status ? "\x01status " : "") + l);
      return;
    }
    default:
      w.line("error: the runner does not run this kind of line: " + text);
  }
}

[[noreturn]] void worker_loop(Worker& w) {
  while (auto msg = recv_msg(w.cmd_fd)) {
    w.out.clear();
    // "NEXT_CHILD \t name=value ... \t line": variables are the session's, shared by
    // every process as in vmplay, so each line brings them and sends changes back.
    size_t t1 = msg->find('\t'), t2 = msg->find('\t', t1 + 1);
    w.next_child = std::atoi(msg->substr(0, t1).c_str());
    w.vars.clear();
    std::istringstream vin(msg->substr(t1 + 1, t2 - t1 - 1));
    std::string kv;
    while (vin >> kv) {
      size_t eq = kv.find('=');
      w.vars[kv.substr(0, eq)] = std::strtoull(kv.c_str() + eq + 1, nullptr, 10);
    }
    auto before = w.vars;
    run_real_line(w, msg->substr(t2 + 1));
    for (const auto& [k, v] : w.vars)
      if (!before.count(k) || before[k] != v) w.line("\x01var " + k + " " + std::to_string(v));
    send_msg(w.res_fd, w.out);
  }
  _exit(0);
}

Run run_real(const std::vector<std::string>& script, const kdiff::Directives& directives) {
  Run run;
  char tmpl[] = "/tmp/vmplay-kdiff-XXXXXX";
  std::string scratch = mkdtemp(tmpl);
  for (int i = 1; i <= kMaxWorkers; ++i) {
    if (pipe(g_cmd[i]) || pipe(g_res[i])) {
      std::perror("pipe");
      std::exit(2);
    }
    // Out of the way: the case's first open() must get fd 3, as in vmplay.
    for (int* fd : {&g_cmd[i][0], &g_cmd[i][1], &g_res[i][0], &g_res[i][1]}) {
      int high = fcntl(*fd, F_DUPFD_CLOEXEC, 200);
      close(*fd);
      *fd = high;
    }
  }
  pid_t first = fork();
  if (first == 0) {
    // Descriptors inherited from whoever started us (ctest keeps some open) would shift
    // the case's fd numbers: only 0-2 and the pipes (200 and up) stay.
    for (int fd = 3; fd < 200; ++fd) close(fd);
    // Workers keep only their own ends, so each side sees the other go (EOF).
    for (int i = 1; i <= kMaxWorkers; ++i) {
      close(g_cmd[i][1]);
      close(g_res[i][0]);
    }
    // Every worker on one CPU: the kernel moves pages on and off its LRU lists through
    // per-CPU batches (lru_add, lru_lazyfree, lru_deactivate...) that only a drain on
    // that CPU empties. On one CPU a page faulted in is on the LRU by the next madvise
    // (which drains first), and what one madvise batched, the next one drains; across
    // CPUs MADV_FREE could find its pages still in another CPU's batch and skip them.
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
      int cpu = sched_getcpu();
      if (cpu < 0 || !CPU_ISSET(cpu, &allowed))
        for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &allowed); ++cpu) {
        }
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      if (cpu < CPU_SETSIZE) sched_setaffinity(0, sizeof one, &one);
    }
    stack_t ss{};
    ss.ss_sp = std::malloc(1 << 16);
    ss.ss_size = 1 << 16;
    sigaltstack(&ss, nullptr);
    struct sigaction sa {};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigaction(SIGSEGV, &sa, nullptr);
    sigaction(SIGBUS, &sa, nullptr);
    // The worker's own memory must not move while a case runs, or the status lines
    // would count it: a heap that is never trimmed, touched in advance.
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
    void* warm = std::malloc(32 << 20);
    std::memset(warm, 1, 32 << 20);
    std::free(warm);
    Worker w;
    w.index = 1;
    w.cmd_fd = g_cmd[1][0];
    w.res_fd = g_res[1][1];
    w.scratch = scratch;
    w.out.reserve(1 << 20);
    worker_loop(w);
  }
  for (int i = 1; i <= kMaxWorkers; ++i) {
    close(g_cmd[i][0]);
    close(g_res[i][1]);
  }
  std::map<int, bool> alive{{1, true}};
  std::map<std::string, uint64_t> shared_vars;
  int next_child = 2;
  auto exec = [&](const std::string& line, int who) -> std::string {
    if (!alive[who]) return "error: process " + std::to_string(who) + " is gone\n";
    std::string vars;
    for (const auto& [k, v] : shared_vars) vars += k + "=" + std::to_string(v) + " ";
    send_msg(g_cmd[who][1], std::to_string(next_child) + "\t" + vars + "\t" + line);
    auto r = recv_msg(g_res[who][0]);
    if (!r) {
      alive[who] = false;
      return "error: worker " + std::to_string(who) + " died\n";
    }
    std::string out = *r;
    // A worker that ended sends its last output, then a marker.
    if (out.find("+++ exited with ") != std::string::npos || out.find("+++ killed by ") != std::string::npos) {
      (void)recv_msg(g_res[who][0]);
      alive[who] = false;
    }
    if (out.find("fork() = ") != std::string::npos) alive[next_child++] = true;
    return out;
  };
  auto lines_of = [](const std::string& s) {
    std::vector<std::string> v;
    std::istringstream in(s);
    std::string l;
    while (std::getline(in, l)) v.push_back(l);
    return v;
  };
  auto take = [&](const std::string& out, bool keep) {
    for (auto& l : lines_of(out)) {
      if (l.rfind("\x01var ", 0) == 0) {
        char name[128];
        uint64_t v = 0;
        if (std::sscanf(l.c_str() + 5, "%127s %" SCNu64, name, &v) == 2) shared_vars[name] = v;
      } else if (l.rfind("\x01range ", 0) == 0) {
        uint64_t a = 0, b = 0;
        std::sscanf(l.c_str() + 7, "%" SCNu64 " %" SCNu64, &a, &b);
        run.ranges.push_back({a, b});
      } else if (keep) {
        run.lines.push_back(l);
      }
    }
  };
  // The prologue: the fence, the first break, pid 1's status.
  kdiff::prologue(
      [&](const std::string& line) {
        std::string out = exec(line, 1);
        take(out, false);
        return lines_of(out);
      },
      [&](const std::string& name) { return shared_vars[name]; });
  // Warm-up: every kind of line once, so the runner's own code and data are resident
  // before the baseline.
  for (const char* l : {"cat /proc/self/maps", "cat /proc/self/smaps", "cat /proc/self/status",
                        "pagemap(fence, 4096)", "warm = 1", "warm + 1",
                        "getpid()", "touch(fence, 0, \"r\")", "dump(fence, 0)", "memset(fence, 0, 0)"})
    take(exec(l, 1), false);
  run.fence = shared_vars["fence"];
  run.heap0 = shared_vars["heap0"];
  run.ranges.clear();
  for (auto& l : lines_of(exec("cat /proc/self/status", 1))) {
    char key[64];
    long long v = 0;
    if (std::sscanf(l.c_str(), "\x01status %63[^:]: %lld", key, &v) == 2) run.status0[key] = v;
  }
  // The machine settings the case asked for, for its lines only.
  bool run_case = true;
  if (directives.overcommit || directives.swap) {
    std::string why;
    if (!apply_host_settings(directives, scratch, why)) {
      run.skipped = why;
      run_case = false;
    }
  }
  for (const auto& line : run_case ? script : std::vector<std::string>{}) {
    shell::ParseResult pr = shell::parse_line(line);
    int who = pr.stmt && pr.stmt->pid ? *pr.stmt->pid : 1;
    if (who < 1 || who > kMaxWorkers) who = 1;
    if (!alive[who]) {
      run.lines.push_back("error: process " + std::to_string(who) + " is gone");
      break;
    }
    take(exec(line, who), true);
    if (directives.swap) {
      wait_for_swap_io();
      drain_lru_batches();
    }
  }
  end_overcommit();
  for (int i = 1; i <= kMaxWorkers; ++i) close(g_cmd[i][1]);
  while (wait(nullptr) > 0) {
  }
  // The forked workers were the first one's children: wait until none is left, so that
  // swapoff finds the case's slots freed rather than reading them back in.
  for (int i = 1; i <= kMaxWorkers; ++i) {
    char c;
    while (read(g_res[i][0], &c, 1) > 0) {
    }
    close(g_res[i][0]);
  }
  end_host_settings();
  std::string rm = "rm -rf '" + scratch + "'";
  if (std::system(rm.c_str()) != 0) std::fprintf(stderr, "kdiff: could not remove %s\n", scratch.c_str());
  return run;
}

// ---- normalisation ----

std::string rel(uint64_t v, const Run& run) {
  char buf[48];
  auto near = [](uint64_t a, uint64_t b, uint64_t d) { return a > b ? a - b < d : b - a < d; };
  if (run.heap0 && near(v, run.heap0, uint64_t{1} << 30)) {
    std::snprintf(buf, sizeof buf, v >= run.heap0 ? "H+0x%" PRIx64 : "H-0x%" PRIx64,
                  v >= run.heap0 ? v - run.heap0 : run.heap0 - v);
    return buf;
  }
  if (near(v, run.fence, uint64_t{1} << 32)) {
    std::snprintf(buf, sizeof buf, v >= run.fence ? "B+0x%" PRIx64 : "B-0x%" PRIx64,
                  v >= run.fence ? v - run.fence : run.fence - v);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

bool in_ranges(uint64_t s, uint64_t e, const Run& run) {
  for (const auto& r : run.ranges)
    if (s < r.end && r.start < e) return true;
  return false;
}

std::string relativise_hex(const std::string& line, const Run& run) {
  static const std::regex hexnum("0x([0-9a-f]+)");
  std::string out;
  auto begin = std::sregex_iterator(line.begin(), line.end(), hexnum);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    uint64_t v = std::strtoull(it->str(1).c_str(), nullptr, 16);
    out += line.substr(last, static_cast<size_t>(it->position()) - last);
    out += v >= 0x10000 ? rel(v, run) : it->str();
    last = static_cast<size_t>(it->position() + it->length());
  }
  return out + line.substr(last);
}

std::vector<std::string> normalise(const Run& run) {
  static const std::regex maps_line(R"(^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+)\s*(.*)$)");
  static const std::regex call_line(R"(^(\[pid \d+\] )?([a-z_0-9]+)\((.*)\) = (.*)$)");
  static const std::regex load_line(R"(^(\[pid \d+\] )?(?:load|.*\]|\*\(.*\)\S+) = (-?\d+)( '.*'| \(0x[0-9a-f]+\))?$)");
  static const std::regex touch_line(R"(^(\[pid \d+\] )?touch(?:\(.*\))?: (.*)$)");
  static const std::regex errno_text(R"(^(-1 E[A-Z0-9]+)( \(.*\))?$)");
  static const std::regex eval_line(R"(^= (0x[0-9a-f]+|\d+)( \(\d+\))?$)");
  static const std::regex dump_line(R"(^([0-9a-f]{12})(  .*)$)");
  static const std::regex pfn(R"( pfn=0x[0-9a-f]+)");
  static const std::regex status_line("^\x01status ([A-Za-z]+):\\s+(-?\\d+) kB$");
  static const std::regex scratch_dir(R"(/tmp/vmplay-kdiff-[A-Za-z0-9]+)");
  static const std::regex swaps_line(R"(^(/\S*)\s+(file|partition)\s+(\d+)\s+(\d+)\s+(-?\d+)$)");
  std::vector<std::string> out;
  bool keep_block = false;  // inside a kept smaps entry
  for (std::string l : run.lines) {
    std::smatch m;
    l = std::regex_replace(l, scratch_dir, "/tmp");
    if (l.rfind("# ", 0) == 0 || l.rfind("note: ", 0) == 0) continue;
    // A line of /proc/swaps: the runner's swap file is vmplay's /swapfile; its priority
    // is the runner's choice (the highest), vmplay's the default one: not compared.
    if (std::regex_match(l, m, swaps_line)) {
      std::string name = m.str(1) == std::string("/tmp/") + kSwapFileName ? "/swapfile" : m.str(1);
      out.push_back(name + " " + m.str(2) + " " + m.str(3) + " kB, used " + m.str(4) + " kB, priority *");
      continue;
    }
    // A refused line (vmplay) or a line for a process that is gone (the runner): the
    // wording is each side's own.
    if (l.rfind("error: ", 0) == 0) {
      out.push_back("error");
      continue;
    }
    if (std::regex_match(l, m, maps_line)) {
      uint64_t s = std::strtoull(m.str(1).c_str(), nullptr, 16), e = std::strtoull(m.str(2).c_str(), nullptr, 16);
      keep_block = in_ranges(s, e, run);
      if (!keep_block) continue;
      bool file = m.str(6) != "0";
      // The heap below the case's first break is the program's own (a.out's 132 KiB, the
      // runner's more): a VMA reaching below it shows as starting there.
      std::string from = run.heap0 && s < run.heap0 && e > run.heap0 ? "H-*" : rel(s, run);
      out.push_back(from + "-" + rel(e, run) + " " + m.str(3) + " " + m.str(4) + " " +
                    (file ? "DEV INO" : m.str(5) + " 0") + (m.str(7).empty() ? "" : " " + m.str(7)));
      continue;
    }
    if (l.find(':') != std::string::npos && l.find("  ") != std::string::npos && !l.empty() &&
        std::isupper(static_cast<unsigned char>(l[0])) && l.find(" kB") != std::string::npos) {
      if (keep_block) out.push_back(l);  // an smaps field of a kept entry
      continue;
    }
    if (l.rfind("VmFlags:", 0) == 0 || l.rfind("THPeligible:", 0) == 0 || l.rfind("ProtectionKey:", 0) == 0) {
      if (keep_block) out.push_back(l);
      continue;
    }
    keep_block = false;
    if (l.rfind("\x01status ", 0) == 0) {
      static const char* const kCompared[] = {"VmSize", "VmLck", "VmPin", "VmRSS", "RssAnon", "RssFile",
                                              "RssShmem", "VmData", "VmStk", "VmExe", "VmLib", "VmSwap"};
      if (std::regex_match(l, m, status_line)) {
        for (const char* k : kCompared) {
          if (m.str(1) != k) continue;
          long long v = std::stoll(m.str(2));
          auto it = run.status0.find(k);
          long long d = v - (it == run.status0.end() ? 0 : it->second);
          out.push_back(m.str(1) + ": " + (d >= 0 ? "+" : "") + std::to_string(d) + " kB");
        }
      }
      continue;
    }
    if (std::regex_match(l, m, load_line)) {
      out.push_back(m.str(1) + "load = " + m.str(2));
      continue;
    }
    if (std::regex_match(l, m, touch_line)) {
      out.push_back(m.str(1) + "touch: " + m.str(2));
      continue;
    }
    if (std::regex_match(l, m, eval_line)) {
      out.push_back(relativise_hex("= " + m.str(1), run));
      continue;
    }
    if (std::regex_match(l, m, call_line)) {
      std::string result = m.str(4), args = m.str(3), name = m.str(2);
      std::smatch em;
      if (std::regex_match(result, em, errno_text)) result = em.str(1);
      std::string extra;
      if (name == "mincore") {
        size_t b = args.find('['), e = args.find(']');
        if (b != std::string::npos && e != std::string::npos) extra = args.substr(b, e - b + 1);
      }
      if (name == "exit_group") name = "exit";
      out.push_back(relativise_hex(m.str(1) + name + (extra.empty() ? "" : " " + extra) + " = " + result, run));
      continue;
    }
    static const std::regex pagemap_entry(R"(^([0-9a-f]{12})  ([0-9a-f]{16})  (.*)$)");
    if (std::regex_match(l, m, pagemap_entry)) {
      // The flag bits are compared; the frame number (bits 0-54) is the machine's.
      uint64_t e = std::strtoull(m.str(2).c_str(), nullptr, 16) & ~((uint64_t{1} << 55) - 1);
      char flags[24];
      std::snprintf(flags, sizeof flags, "%016" PRIx64, e);
      out.push_back(rel(std::strtoull(m.str(1).c_str(), nullptr, 16), run) + "  " + flags + "  " +
                    std::regex_replace(m.str(3), pfn, ""));
      continue;
    }
    if (std::regex_match(l, m, dump_line)) {
      std::string rest = m.str(2);
      out.push_back(rel(std::strtoull(m.str(1).c_str(), nullptr, 16), run) + rest);
      continue;
    }
    out.push_back(relativise_hex(l, run));
  }
  return out;
}

std::vector<std::string> read_case(const char* path) {
  std::ifstream f(path);
  std::vector<std::string> v;
  std::string l;
  while (std::getline(f, l)) v.push_back(l);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "diff";
  int ai = 1;
  if (argc > 2 && (std::string(argv[1]) == "--real" || std::string(argv[1]) == "--sim")) mode = argv[ai++] + 2;
  if (ai >= argc) {
    std::fprintf(stderr, "usage: kdiff [--real | --sim] CASE.vmsh\n");
    return 2;
  }
#if !defined(__linux__) || !defined(__x86_64__)
  std::printf("kdiff: skipped: the reference is Linux on x86-64, and this is not\n");
  return 77;
#endif
  // ASLR off, as vmplay's default: re-exec with ADDR_NO_RANDOMIZE.
  int pers = personality(0xffffffff);
  if (pers != -1 && !(pers & ADDR_NO_RANDOMIZE)) {
    if (personality(static_cast<unsigned long>(pers) | ADDR_NO_RANDOMIZE) != -1) execv("/proc/self/exe", argv);
  }
  std::vector<std::string> script = read_case(argv[ai]);
  if (script.empty()) {
    std::fprintf(stderr, "kdiff: %s: empty or unreadable\n", argv[ai]);
    return 2;
  }
  std::string directive_error;
  std::optional<kdiff::Directives> directives = kdiff::parse_directives(script, directive_error);
  if (!directives) {
    std::fprintf(stderr, "kdiff: %s: %s\n", argv[ai], directive_error.c_str());
    return 2;
  }
  if ((directives->overcommit || directives->swap) && mode != "sim") {
    std::string why;
    if ((directives->overcommit && !host_setting_writable(*directives->overcommit, why)) ||
        (directives->swap && !swap_usable(*directives->swap, why))) {
      std::printf("kdiff: %s: skipped: %s\n", argv[ai], why.c_str());
      return 77;
    }
  }
  std::vector<std::string> real, sim;
  // KDIFF_RAW=1 prints the transcripts before normalisation, with the bases.
  bool raw = std::getenv("KDIFF_RAW") != nullptr;
  auto show = [&](const Run& r) {
    if (!raw) return normalise(r);
    std::vector<std::string> v{"fence " + kdiff::hex(r.fence) + " heap0 " + kdiff::hex(r.heap0)};
    v.insert(v.end(), r.lines.begin(), r.lines.end());
    return v;
  };
  if (mode != "sim") {
    Run r = run_real(script, *directives);
    if (!r.skipped.empty()) {
      std::printf("kdiff: %s: skipped: %s\n", argv[ai], r.skipped.c_str());
      return 77;
    }
    real = show(r);
  }
  if (mode != "real") sim = show(kdiff::run_sim(script, *directives));
  if (mode == "real" || mode == "sim") {
    for (const auto& l : mode == "real" ? real : sim) std::printf("%s\n", l.c_str());
    return 0;
  }
  for (size_t i = 0; i < std::max(real.size(), sim.size()); ++i) {
    const std::string r = i < real.size() ? real[i] : "(end)";
    const std::string s = i < sim.size() ? sim[i] : "(end)";
    if (r != s) {
      std::printf("%s: line %zu of the normalised transcript differs\n  kernel: %s\n  vmplay: %s\n", argv[ai], i + 1,
                  r.c_str(), s.c_str());
      return 1;
    }
  }
  std::printf("%s: %zu lines, the same on the kernel and on vmplay\n", argv[ai], real.size());
  return 0;
}
