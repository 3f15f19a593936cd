// Files, the page cache and file mappings. Fault-around and smaps numbers were
// measured on Linux 6.18 (setarch -R; mincore and smaps after each step).
#include <doctest/doctest.h>

#include "engine/world.h"

using namespace vmplay::test;

namespace {
constexpr uint64_t P = 4096;
constexpr uint64_t R = PROT_READ, RW = PROT_READ | PROT_WRITE;

int64_t open_ok(World& w, const std::string& path, uint64_t flags, uint64_t mode = 0644) {
  SysResult r = w.checked(w.k.sys_openat(w.pid, AT_FDCWD_, path, flags, mode));
  REQUIRE(r.is_ok());
  return static_cast<int64_t>(r.value);
}
uint64_t map_file(World& w, uint64_t len, uint64_t prot, uint64_t flags, int64_t fd, uint64_t off = 0,
                  uint64_t addr = 0) {
  SysResult r = w.mmap({addr, len, prot, flags, fd, off});
  REQUIRE(r.is_ok());
  return r.value;
}
uint64_t rss_kb(World& w) { return (w.mm().rss()) * 4; }
// A file of n pages that was just written: its pages are in the cache, dirty.
int64_t fresh_file(World& w, const std::string& path, uint64_t pages) {
  int64_t fd = open_ok(w, path, O_RDWR_ | O_CREAT_ | O_TRUNC_);
  std::vector<uint8_t> bytes(static_cast<size_t>(pages * P), 'x');
  REQUIRE(w.checked(w.k.sys_write(w.pid, fd, 0, bytes.size(), &bytes)).value == bytes.size());
  return fd;
}
}  // namespace

TEST_CASE("files: open, close and their errors") {
  World w;
  CHECK(w.k.sys_openat(w.pid, AT_FDCWD_, "/nope", O_RDONLY_, 0).err == Errno::NoEnt);
  int64_t fd = open_ok(w, "/etc/hosts", O_RDONLY_);
  CHECK(fd == 3);  // 0-2 are the terminal
  CHECK(w.k.sys_openat(w.pid, AT_FDCWD_, "/etc/hosts", O_RDWR_ | O_CREAT_ | O_EXCL_, 0644).err == Errno::Exist);
  CHECK(w.k.sys_close(w.pid, 99).err == Errno::BadF);
  CHECK(w.k.sys_close(w.pid, fd).is_ok());
  CHECK(w.k.sys_close(w.pid, fd).err == Errno::BadF);
  CHECK(open_ok(w, "/etc/hosts", O_RDONLY_) == 3);  // the lowest free descriptor again
}

TEST_CASE("files: read and write go through the page cache; lseek and fstat") {
  World w;
  uint64_t buf = w.anon(P);
  int64_t fd = open_ok(w, "/etc/hosts", O_RDONLY_);
  IoResult r = w.k.sys_read(w.pid, fd, buf, 9);
  CHECK(r.r.value == 9);
  CHECK(std::string(r.data.begin(), r.data.end()) == "127.0.0.1");
  CHECK(w.read(buf + 3).value == '.');
  CHECK(w.k.sys_lseek(w.pid, fd, 0, SEEK_END_).value == 61);
  CHECK(w.k.sys_read(w.pid, fd, buf, 10).r.value == 0);  // end of file
  StatResult st;
  CHECK(w.k.sys_fstat(w.pid, fd, &st).is_ok());
  CHECK(st.size == 61);
  CHECK(st.mode == (S_IFREG_ | 0644));
  CHECK(w.k.sys_write(w.pid, fd, buf, 1).err == Errno::BadF);  // opened read-only
  CHECK(w.k.sys_lseek(w.pid, fd, -1, SEEK_SET_).err == Errno::Inval);
  CHECK(w.k.sys_lseek(w.pid, 0, 0, SEEK_SET_).err == Errno::SPipe);
  // A buffer nobody mapped: EFAULT, no signal.
  CHECK(w.k.sys_pread64(w.pid, fd, 0x1000, 4, 0).r.err == Errno::Fault);
  CHECK(w.k.process(w.pid)->state == ProcState::Running);
  require_coherent(w.k);
}

TEST_CASE("mmap of files: permission and argument checks") {
  World w;
  int64_t ro = open_ok(w, "/etc/hosts", O_RDONLY_);
  int64_t wo = open_ok(w, "/home/user/new", O_WRONLY_ | O_CREAT_);
  CHECK(w.mmap({0, P, RW, MAP_SHARED, ro, 0}).err == Errno::Acces);
  CHECK(w.mmap({0, P, RW, MAP_PRIVATE, ro, 0}).is_ok());  // private may write
  CHECK(w.mmap({0, P, R, MAP_PRIVATE, wo, 0}).err == Errno::Acces);
  CHECK(w.mmap({0, P, R, MAP_PRIVATE, 0, 0}).err == Errno::NoDev);  // the terminal
  CHECK(w.mmap({0, P, R, MAP_PRIVATE, 42, 0}).err == Errno::BadF);
  CHECK(w.mmap({0, P, R, MAP_SHARED_VALIDATE | 0x40000000, ro, 0}).err == Errno::OpNotSupp);
  CHECK(w.mmap({0, P, R, MAP_SHARED | 0x40000000, ro, 0}).is_ok());  // plain MAP_SHARED ignores it
  CHECK(w.mmap({0, P, R, MAP_PRIVATE | MAP_GROWSDOWN, ro, 0}).err == Errno::Inval);
  // A shared read-only mapping of a read-only file can never become writable.
  uint64_t s = map_file(w, P, R, MAP_SHARED, ro);
  CHECK(w.mprotect(s, P, RW).err == Errno::Acces);
}

TEST_CASE("fault-around: one read maps the 16-page window of cached pages (measured)") {
  World w;
  int64_t fd = fresh_file(w, "/home/user/f40", 40);
  uint64_t p = map_file(w, 40 * P, R, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0, 0x100000000);
  CHECK(w.read(p + 20 * P).fault == FaultKind::FileReadMinor);
  CHECK(rss_kb(w) == 64);
  CHECK(w.read(p + 37 * P).ok);  // window 32..39, clamped to the VMA
  CHECK(rss_kb(w) == 96);
  CHECK(w.munmap(p, 40 * P).is_ok());
  // A VMA that does not start on a 16-page boundary: the window starts at the VMA.
  uint64_t q = map_file(w, 40 * P, R, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0, 0x200003000);
  CHECK(w.read(q).ok);
  CHECK(rss_kb(w) == 64);
}

TEST_CASE("fault-around after a cold read: read-around fills the cache, one major fault") {
  World w;
  auto ino = *w.k.lookup("/home/user/words.txt");
  int64_t fd = open_ok(w, "/home/user/words.txt", O_RDONLY_);
  uint64_t p = map_file(w, 40 * P, R, MAP_PRIVATE, fd);
  CHECK(w.read(p + 20 * P).fault == FaultKind::FileReadMajor);
  CHECK(rss_kb(w) == 64);
  CHECK(w.k.inode(ino)->cache.size() == 32);  // pages 4..35
  CHECK(w.read(p + 5 * P).fault == FaultKind::FileReadMinor);
}

TEST_CASE("MADV_RANDOM turns readahead off: a cold read maps one page") {
  World w;
  int64_t fd = open_ok(w, "/home/user/words.txt", O_RDONLY_);
  uint64_t p = map_file(w, 40 * P, R, MAP_PRIVATE, fd);
  CHECK(w.madvise(p, 40 * P, MADV_RANDOM).is_ok());
  CHECK(w.read(p + 20 * P).fault == FaultKind::FileReadMajor);
  CHECK(rss_kb(w) == 4);
}

TEST_CASE("MAP_PRIVATE file writes copy; MAP_SHARED writes reach the file and other mappers") {
  World w;
  int64_t fd = fresh_file(w, "/home/user/f", 2);
  uint64_t priv = map_file(w, 2 * P, RW, MAP_PRIVATE, fd);
  uint64_t shar = map_file(w, 2 * P, RW, MAP_SHARED, fd);
  CHECK(w.write(priv, 'p').fault == FaultKind::FileCow);
  CHECK(w.read(shar).value == 'x');
  CHECK(w.write(shar + 1, 's').ok);
  CHECK(w.read(priv + 1).value == 'x');  // the private copy was taken before
  uint64_t buf = w.anon(P);
  CHECK(w.k.sys_pread64(w.pid, fd, buf, 2, 0).data == std::vector<uint8_t>{'x', 's'});
  // write() shows through the shared mapping at once.
  std::vector<uint8_t> z{'Z'};
  CHECK(w.k.sys_pwrite64(w.pid, fd, 0, 1, P, &z).value == 1);
  CHECK(w.read(shar + P).value == 'Z');
  require_coherent(w.k);
}

TEST_CASE("smaps of two private mappings of a dirty file (measured)") {
  World w;
  int64_t fd = fresh_file(w, "/tmp/f12", 3);
  uint64_t a = map_file(w, 3 * P, R, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0, 0xd10000000);
  uint64_t b = map_file(w, 3 * P, RW, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0, 0xd20000000);
  CHECK(w.read(a).ok);
  CHECK(w.read(b).ok);
  CHECK(w.read(b + P).ok);
  CHECK(w.write(b + P, 1).fault == FaultKind::WpCopy);
  std::string s = *w.k.proc_smaps(w.pid);
  CHECK(s.find("d10000000-d10003000 r--p 00000000 fe:00") == 0);
  CHECK(s.find("Rss:                  12 kB\nPss:                   8 kB\nPss_Dirty:             8 kB\n"
               "Shared_Clean:          0 kB\nShared_Dirty:          8 kB\nPrivate_Clean:         0 kB\n"
               "Private_Dirty:         4 kB\nReferenced:           12 kB\nAnonymous:             0 kB\n") !=
        std::string::npos);
  CHECK(s.find("Private_Dirty:         4 kB\nReferenced:           12 kB\nAnonymous:             4 kB\n") !=
        std::string::npos);
  CHECK(s.find("VmFlags: rd mr mw me \n") != std::string::npos);
  CHECK(s.find("VmFlags: rd wr mr mw me ac \n") != std::string::npos);
}

TEST_CASE("past the end of a file: SIGBUS; the tail of the last page is zeros and stays out of the file") {
  World w;
  int64_t fd = open_ok(w, "/tmp/short", O_RDWR_ | O_CREAT_ | O_TRUNC_);
  std::vector<uint8_t> ten(10, 'a');
  CHECK(w.k.sys_write(w.pid, fd, 0, 10, &ten).value == 10);
  uint64_t s = map_file(w, 2 * P, RW, MAP_SHARED, fd);
  CHECK(w.read(s + 100).value == 0);
  CHECK(w.write(s + 100, 'T').ok);           // lands in the page, beyond EOF
  CHECK(w.k.sys_msync(w.pid, s, P, MS_SYNC).is_ok());
  StatResult st;
  CHECK(w.k.sys_fstat(w.pid, fd, &st).is_ok());
  CHECK(st.size == 10);
  uint64_t buf = w.anon(P);
  CHECK(w.k.sys_pread64(w.pid, fd, buf, 200, 0).r.value == 10);
  AccessResult r = w.read(s + P);
  CHECK(r.signo == kSigBus);
  CHECK(r.si_code == kBusAdrErr);
}

TEST_CASE("ftruncate shrinking unmaps the cut pages; touching them is SIGBUS") {
  World w;
  int64_t fd = fresh_file(w, "/tmp/t", 3);
  uint64_t s = map_file(w, 3 * P, RW, MAP_SHARED, fd);
  CHECK(w.read(s + 2 * P).ok);
  CHECK(w.k.sys_ftruncate(w.pid, fd, 5000).is_ok());
  require_coherent(w.k);
  CHECK(w.read(s + P + 904).value == 0);    // the tail from byte 5000 on was zeroed...
  CHECK(w.read(s + P + 903).value == 'x');  // ...byte 4999 is still data
  CHECK(w.read(s + 2 * P).signo == kSigBus);
}

TEST_CASE("unlink while mapped: maps says (deleted); the cache goes with the last user") {
  World w;
  int64_t fd = fresh_file(w, "/tmp/gone", 2);
  uint64_t s = map_file(w, 2 * P, R, MAP_SHARED, fd);
  CHECK(w.read(s).ok);
  CHECK(w.k.sys_unlink(w.pid, "/tmp/gone").is_ok());
  CHECK(w.maps().find("/tmp/gone (deleted)\n") != std::string::npos);
  CHECK(w.k.sys_openat(w.pid, AT_FDCWD_, "/tmp/gone", O_RDONLY_, 0).err == Errno::NoEnt);
  uint64_t used = w.used_frames();
  CHECK(w.k.sys_close(w.pid, fd).is_ok());
  CHECK(w.used_frames() == used);  // still mapped
  CHECK(w.munmap(s, 2 * P).is_ok());
  CHECK(w.used_frames() == used - 2 - 3);  // two cache pages and the page tables
}

TEST_CASE("shared anonymous memory is shmem: shared with a child, counted in RssShmem") {
  World w;
  SysResult r = w.mmap({0, 2 * P, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0});
  REQUIRE(r.is_ok());
  uint64_t sh = r.value;
  CHECK(w.maps().find("rw-s 00000000 00:01 1                          /dev/zero (deleted)\n") != std::string::npos);
  CHECK(w.write(sh, 1).ok);
  CHECK(w.mm().rss_shmem == 1);
  Pid c = static_cast<Pid>(w.k.sys_fork(w.pid).value);
  CHECK(w.k.access(c, sh + 1, Access::Write, 7).ok);
  CHECK(w.read(sh + 1).value == 7);
  require_coherent(w.k);
}

TEST_CASE("memfd_create: a named tmpfs file, sized with ftruncate") {
  World w;
  SysResult m = w.checked(w.k.sys_memfd_create(w.pid, "buf", 0));
  REQUIRE(m.is_ok());
  int64_t fd = static_cast<int64_t>(m.value);
  CHECK(w.k.sys_memfd_create(w.pid, "x", 0x100).err == Errno::Inval);
  uint64_t p = map_file(w, P, RW, MAP_SHARED, fd);
  CHECK(w.read(p).signo == kSigBus);  // size 0
  World v;
  int64_t fd2 = static_cast<int64_t>(v.k.sys_memfd_create(v.pid, "buf", 0).value);
  CHECK(v.k.sys_ftruncate(v.pid, fd2, P).is_ok());
  uint64_t q = map_file(v, P, RW, MAP_SHARED, fd2);
  CHECK(v.write(q, 1).ok);
  CHECK(v.maps().find("/memfd:buf (deleted)\n") != std::string::npos);
  CHECK(v.mm().rss_shmem == 1);
}

TEST_CASE("msync: checks, and MS_SYNC writes dirty shared pages back and write-protects them") {
  World w;
  int64_t fd = fresh_file(w, "/tmp/m", 1);
  uint64_t s = map_file(w, P, RW, MAP_SHARED, fd);
  CHECK(w.k.sys_msync(w.pid, s, P, 0x8).err == Errno::Inval);
  CHECK(w.k.sys_msync(w.pid, s + 1, P, MS_SYNC).err == Errno::Inval);
  CHECK(w.k.sys_msync(w.pid, s, P, MS_SYNC | MS_ASYNC).err == Errno::Inval);
  CHECK(w.k.sys_msync(w.pid, 0x100000000, P, MS_SYNC).err == Errno::NoMem);
  CHECK(w.write(s, 'q').ok);
  CHECK(w.k.sys_msync(w.pid, s, P, MS_SYNC).is_ok());
  uint64_t pte = w.k.walk(w.pid, s).pte();
  CHECK((pte & _PAGE_RW) == 0);
  CHECK((pte & _PAGE_DIRTY) == 0);
  CHECK(w.write(s, 'r').fault == FaultKind::WpShared);
  require_coherent(w.k);
}

TEST_CASE("msync on tmpfs memory writes nothing back and leaves the PTEs alone") {
  World w;
  SysResult s = w.mmap({0, P, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0});
  REQUIRE(s.is_ok());
  CHECK(w.write(s.value, 1).ok);
  w.k.drain_events();
  CHECK(w.k.sys_msync(w.pid, s.value, P, MS_SYNC).is_ok());
  for (const Event& e : w.k.events()) CHECK(e.kind != EventKind::Writeback);
  CHECK((w.k.walk(w.pid, s.value).pte() & _PAGE_RW) != 0);
}
