// The fault handler: which path runs, what it maps, what it counts.
#include <doctest/doctest.h>

#include "engine/world.h"

using namespace vmplay::test;

namespace {
std::vector<Event> of_kind(const Kernel& k, EventKind kind) {
  std::vector<Event> out;
  for (const auto& e : k.events())
    if (e.kind == kind) out.push_back(e);
  return out;
}
size_t of_kind_in(const std::vector<Event>& evs, EventKind kind) {
  size_t n = 0;
  for (const auto& e : evs) n += e.kind == kind;
  return n;
}
}  // namespace

TEST_CASE("fault: an anonymous write maps a zero-filled frame, writable and dirty") {
  World w;
  uint64_t p = w.anon(8192);
  w.k.drain_events();
  AccessResult r = w.write(p, 0x41);
  REQUIRE(r.ok);
  CHECK(r.fault == FaultKind::AnonNewPage);
  Walk walk = w.k.walk(w.pid, p);
  REQUIRE(walk.reached_pte);
  uint64_t pte = walk.pte();
  CHECK((pte & _PAGE_PRESENT) != 0);
  CHECK((pte & _PAGE_RW) != 0);
  CHECK((pte & _PAGE_USER) != 0);
  CHECK((pte & _PAGE_ACCESSED) != 0);
  CHECK((pte & _PAGE_DIRTY) != 0);
  CHECK((pte & _PAGE_NX) != 0);
  Pfn pfn = pte_pfn(pte);
  const Frame& f = w.k.phys().frame(pfn);
  CHECK(f.owner == FrameOwner::Anon);
  CHECK(f.refcount == 1);
  CHECK(f.mapcount == 1);
  CHECK(f.index == p >> 12);
  CHECK(w.mm().rss_anon == 1);
  CHECK(w.read(p).value == 0x41);
  CHECK(w.read(p + 1).value == 0);
  // Events: three page tables, one frame, one PTE, one fault, in that order.
  CHECK(of_kind(w.k, EventKind::FrameAlloc).size() == 1);
  CHECK(of_kind(w.k, EventKind::PteSet).size() == 1);
  auto faults = of_kind(w.k, EventKind::Fault);
  REQUIRE(faults.size() == 1);
  CHECK(faults[0].addr == p);
  CHECK(faults[0].pfn == pfn);
}

TEST_CASE("fault: an anonymous read maps the shared zero page, not counted in RSS") {
  World w;
  uint64_t p = w.anon(8192);
  uint64_t frames = w.used_frames();
  AccessResult r = w.read(p + 4096 + 17);
  REQUIRE(r.ok);
  CHECK(r.value == 0);
  CHECK(r.fault == FaultKind::AnonZeroPage);
  uint64_t pte = w.k.walk(w.pid, p + 4096).pte();
  CHECK(pte_pfn(pte) == w.k.phys().zero_pfn());
  CHECK((pte & _PAGE_RW) == 0);
  CHECK((pte & _PAGE_SPECIAL) != 0);
  CHECK(w.mm().rss_anon == 0);
  CHECK(w.used_frames() == frames + 3);  // only the page tables
  // A second read takes no fault.
  CHECK(w.read(p + 4096).fault == FaultKind::None);
}

TEST_CASE("fault: writing over the zero page copies into a new frame") {
  World w;
  uint64_t p = w.anon(4096);
  CHECK(w.read(p).fault == FaultKind::AnonZeroPage);
  AccessResult r = w.write(p + 5, 9);
  CHECK(r.fault == FaultKind::WpCopy);
  uint64_t pte = w.k.walk(w.pid, p).pte();
  CHECK(pte_pfn(pte) != w.k.phys().zero_pfn());
  CHECK((pte & _PAGE_RW) != 0);
  CHECK((pte & _PAGE_SPECIAL) == 0);
  CHECK(w.mm().rss_anon == 1);
  CHECK(w.read(p + 5).value == 9);
  CHECK(w.write(p + 6, 1).fault == FaultKind::None);
}

TEST_CASE("fault: SIGSEGV with SEGV_MAPERR outside any VMA, and the process dies") {
  World w;
  uint64_t p = w.anon(4096);
  CHECK(w.write(p, 1).ok);
  AccessResult r = w.write(0x10, 1);
  CHECK_FALSE(r.ok);
  CHECK(r.killed);
  CHECK(r.signo == kSigSegv);
  CHECK(r.si_code == kSegvMapErr);
  auto sig = of_kind(w.k, EventKind::Signal);
  REQUIRE(sig.size() == 1);
  CHECK(sig[0].addr == 0x10);
  const Process* pr = w.k.process(w.pid);
  CHECK(pr->state == ProcState::Zombie);
  CHECK(pr->exit_signal == kSigSegv);
  // Everything it had is released: only frame 0, the zero page and the vDSO remain.
  CHECK(w.used_frames() == 2 + PhysMem::kVdsoFrames);
  CHECK_FALSE(w.k.proc_maps(w.pid));
}

TEST_CASE("fault: SEGV_ACCERR for a write to a read-only mapping, and for PROT_NONE") {
  {
    World w;
    uint64_t p = w.anon(4096, PROT_READ);
    AccessResult r = w.write(p + 100, 1);
    CHECK(r.si_code == kSegvAccErr);
    CHECK(r.fault == FaultKind::AccessError);
  }
  {
    World w;
    uint64_t p = w.anon(4096, PROT_NONE);
    AccessResult r = w.read(p);
    CHECK(r.signo == kSigSegv);
    CHECK(r.si_code == kSegvAccErr);
  }
  {
    // On x86 an exec-only mapping can be read.
    World w;
    uint64_t p = w.anon(4096, PROT_EXEC);
    CHECK(w.read(p).ok);
  }
}

TEST_CASE("fault: addresses past user space fault with SEGV_MAPERR") {
  World w;
  AccessResult r = w.read(0xffffffffff600000);
  CHECK(r.si_code == kSegvMapErr);
}

TEST_CASE("fault: no frame for the page is VM_FAULT_OOM and the process is killed") {
  World w;
  uint64_t p = w.anon(4096);
  CHECK(w.read(p).ok);  // page tables in place
  w.k.fail_next_frame_allocs(1);
  AccessResult r = w.write(p, 1);
  CHECK(r.killed);
  CHECK(r.signo == kSigKill);
  CHECK(r.fault == FaultKind::Oom);
}

TEST_CASE("fault: filling all of RAM ends in an OOM kill, never a crash") {
  KernelConfig cfg;
  cfg.phys.frames = 32;
  cfg.overcommit_memory = 1;  // mode 0 would refuse a mapping larger than RAM
  World w(cfg);
  uint64_t p = w.anon(64 * 4096);
  int ok = 0;
  for (int i = 0; i < 64; ++i) {
    AccessResult r = w.write(p + 4096ULL * static_cast<uint64_t>(i), 1);
    if (!r.ok) {
      CHECK(r.signo == kSigKill);
      break;
    }
    ++ok;
  }
  // Minus reserved, zero page, vDSO, PGD, 3 tables, and the min watermark's 2 frames
  // that only the kernel's own allocations may take.
  CHECK(w.k.watermarks().min == 2);
  CHECK(ok == 32 - 2 - 8 - 1 - 3 - 2);
  CHECK(w.used_frames() == 2 + PhysMem::kVdsoFrames);
}

TEST_CASE("fault: instruction fetches need VM_EXEC and a PTE without NX") {
  World w;
  uint64_t x = w.anon(4096, PROT_READ | PROT_EXEC);
  AccessResult r = w.k.access(w.pid, x, Access::Exec);
  require_coherent(w.k);
  CHECK(r.ok);
  CHECK(r.fault == FaultKind::AnonZeroPage);
  CHECK((w.k.walk(w.pid, x).pte() & _PAGE_NX) == 0);
  uint64_t d = w.anon(4096);
  CHECK(w.write(d, 1).ok);
  r = w.k.access(w.pid, d, Access::Exec);
  CHECK(r.si_code == kSegvAccErr);
}

TEST_CASE("fault: access()'s cached PTE table follows page tables freed and allocated again") {
  World w;
  const uint64_t region = 0x40000000;
  uint64_t a = w.anon(kPageSize, PROT_READ | PROT_WRITE, region, MAP_FIXED);
  REQUIRE(w.write(a, 1).ok);  // the walk of this 2 MiB region is now cached
  Pfn old_table = w.k.walk(w.pid, a).steps[3].table;
  REQUIRE(w.munmap(a, kPageSize).is_ok());  // free_pgtables frees that PTE table
  // The freed frame goes to a data page elsewhere and is filled with non-zero bytes.
  uint64_t b = w.anon(kPageSize, PROT_READ | PROT_WRITE, 0x80000000, MAP_FIXED);
  for (uint64_t i = 0; i < kPageSize; i += 8) REQUIRE(w.write(b + i, 0xff).ok);
  uint64_t c = w.anon(kPageSize, PROT_READ | PROT_WRITE, region, MAP_FIXED);
  AccessResult r = w.read(c);
  CHECK(r.ok);
  CHECK(r.value == 0);
  CHECK(r.fault == FaultKind::AnonZeroPage);  // a fresh fault, not a stale translation
  CHECK(w.k.walk(w.pid, c).steps[3].table != old_table);
  REQUIRE(w.write(c, 3).ok);
  CHECK(w.read(c).value == 3);
  CHECK(w.read(b).value == 0xff);
}

TEST_CASE("events: draining into a kept buffer hands over the log, drops the buffer's old contents") {
  World w;
  uint64_t p = w.anon(8192);
  w.k.clear_events();
  CHECK(w.k.events().empty());
  std::vector<Event> buf(3, Event{.kind = EventKind::Signal});  // stale: must not survive
  w.write(p, 1);
  const uint64_t after_first = w.k.event_seq();
  w.k.drain_events(buf);
  CHECK(w.k.events().empty());
  REQUIRE_FALSE(buf.empty());
  for (const Event& e : buf) CHECK(e.kind != EventKind::Signal);
  CHECK(buf.back().seq == after_first);
  CHECK(of_kind_in(buf, EventKind::Fault) == 1);
  // The next command's events start a new log; the buffer gets only those.
  w.write(p + 4096, 2);
  w.k.drain_events(buf);
  REQUIRE_FALSE(buf.empty());
  CHECK(buf.front().seq == after_first + 1);
  CHECK(of_kind_in(buf, EventKind::Fault) == 1);
}
