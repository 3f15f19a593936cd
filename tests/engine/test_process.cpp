// fork, exit, wait4, kill.
#include <doctest/doctest.h>

#include "engine/world.h"

using namespace vmplay::test;

namespace {
constexpr uint64_t RW = PROT_READ | PROT_WRITE;

Pid fork_ok(World& w) {
  SysResult r = w.k.sys_fork(w.pid);
  require_coherent(w.k);
  REQUIRE(r.is_ok());
  return static_cast<Pid>(r.value);
}
}  // namespace

TEST_CASE("fork: private pages are shared copy-on-write, write-protected on both sides") {
  World w;
  uint64_t p = w.anon(2 * 4096);
  CHECK(w.write(p, 'A').ok);
  CHECK(w.read(p + 4096).ok);  // zero page
  Pid c = fork_ok(w);
  CHECK(c == 2);
  const Process* child = w.k.process(c);
  REQUIRE(child);
  CHECK(child->ppid == w.pid);
  CHECK(child->mm.vmas.size() == 1);
  CHECK(child->mm.rss_anon == 1);
  CHECK(child->mm.total_vm == 2);
  uint64_t ppte = w.k.walk(w.pid, p).pte();
  uint64_t cpte = w.k.walk(c, p).pte();
  CHECK(pte_pfn(ppte) == pte_pfn(cpte));
  CHECK((ppte & _PAGE_RW) == 0);
  CHECK((cpte & _PAGE_RW) == 0);
  CHECK((cpte & _PAGE_ACCESSED) == 0);  // pte_mkold in the child
  const Frame& f = w.k.phys().frame(pte_pfn(ppte));
  CHECK(f.mapcount == 2);
  CHECK(f.refcount == 2);
  // The zero page is shared as it was.
  CHECK(pte_pfn(w.k.walk(c, p + 4096).pte()) == w.k.phys().zero_pfn());

  // The child writes: it gets a copy; the parent's frame drops to one mapping.
  AccessResult r = w.k.access(c, p, Access::Write, 'B');
  require_coherent(w.k);
  CHECK(r.fault == FaultKind::WpCopy);
  CHECK(pte_pfn(w.k.walk(c, p).pte()) != pte_pfn(ppte));
  CHECK(w.k.phys().frame(pte_pfn(ppte)).mapcount == 1);
  CHECK(w.read(p).value == 'A');
  CHECK(w.k.access(c, p, Access::Read).value == 'B');
  // The parent writes: nobody else maps its frame, so it is reused.
  CHECK(w.write(p, 'C').fault == FaultKind::WpReuse);
  CHECK(pte_pfn(w.k.walk(w.pid, p).pte()) == pte_pfn(ppte));
}

TEST_CASE("fork: VM_DONTCOPY is left out, VM_WIPEONFORK starts empty") {
  World w;
  uint64_t a = w.anon(4096, RW, 0x100000000);
  uint64_t b = w.anon(4096, RW, 0x200000000);
  CHECK(w.write(a, 1).ok);
  CHECK(w.write(b, 2).ok);
  // Set the flags directly until madvise arrives.
  auto& mm = const_cast<Mm&>(w.mm());
  mm.vmas.at(a).flags |= VM_DONTCOPY;
  mm.vmas.at(b).flags |= VM_WIPEONFORK;
  Pid c = fork_ok(w);
  const Process* child = w.k.process(c);
  CHECK(child->mm.vma_at(a) == nullptr);
  CHECK(child->mm.total_vm == 1);
  REQUIRE(child->mm.vma_at(b));
  CHECK(child->mm.rss_anon == 0);
  CHECK(w.k.access(c, b, Access::Read).value == 0);
  require_coherent(w.k);
}

TEST_CASE("exit and wait4: the zombie keeps its pid until reaped") {
  World w;
  uint64_t p = w.anon(4096);
  CHECK(w.write(p, 1).ok);
  Pid c = fork_ok(w);
  // Nothing to reap while the child runs: the call would block.
  CHECK_FALSE(w.k.sys_wait4(w.pid, -1));
  w.k.sys_exit_group(c, 3);
  require_coherent(w.k);
  CHECK(w.k.process(c)->state == ProcState::Zombie);
  CHECK(w.k.process(c)->exit_status == 3);
  CHECK(w.k.phys().frame(pte_pfn(w.k.walk(w.pid, p).pte())).mapcount == 1);
  auto r = w.k.sys_wait4(w.pid, -1);
  REQUIRE(r);
  CHECK(r->value == static_cast<uint64_t>(c));
  CHECK(w.k.process(c) == nullptr);
  CHECK(w.k.sys_wait4(w.pid, -1)->err == Errno::Child);
}

TEST_CASE("kill: the default action ends the target; errors for bad pid and signal") {
  World w;
  Pid c = fork_ok(w);
  CHECK(w.k.sys_kill(w.pid, 99, kSigKill).err == Errno::Srch);
  CHECK(w.k.sys_kill(w.pid, c, 65).err == Errno::Inval);
  CHECK(w.k.sys_kill(w.pid, c, 0).is_ok());
  CHECK(w.k.process(c)->state == ProcState::Running);
  CHECK(w.k.sys_kill(w.pid, c, kSigTerm).is_ok());
  require_coherent(w.k);
  CHECK(w.k.process(c)->exit_signal == kSigTerm);
}

TEST_CASE("fork: the process limit is EAGAIN; no frame for the child's PGD is ENOMEM") {
  KernelConfig cfg;
  cfg.max_processes = 2;
  World w(cfg);
  fork_ok(w);
  CHECK(w.k.sys_fork(w.pid).err == Errno::Again);
  World v;
  v.k.fail_next_frame_allocs(1);
  CHECK(v.k.sys_fork(v.pid).err == Errno::NoMem);
  require_coherent(v.k);
}

TEST_CASE("fork: running out of frames while copying page tables is ENOMEM and leaves no child") {
  World w;
  uint64_t p = w.anon(4096);
  CHECK(w.write(p, 1).ok);
  uint64_t used = w.used_frames();
  w.k.fail_next_frame_allocs(1, 1);  // the child's PGD is allocated, its first PUD is not
  SysResult r = w.k.sys_fork(w.pid);
  require_coherent(w.k);
  CHECK(r.err == Errno::NoMem);
  CHECK(w.k.pids().size() == 1);
  CHECK(w.used_frames() == used);
  // The parent's page is untouched and still writable.
  CHECK((w.k.walk(w.pid, p).pte() & _PAGE_RW) != 0);
}
