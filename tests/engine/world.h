// Test helpers: a kernel with one process, and steps that check every invariant.
#pragma once
#include <doctest/doctest.h>

#include <string>

#include "engine/kernel.h"

namespace vmplay::test {

using namespace vmplay::engine;

inline void require_coherent(const Kernel& k) {
  auto bad = k.check_invariants();
  std::string all;
  for (const auto& b : bad) all += b + "\n";
  INFO(all);
  REQUIRE(bad.empty());
}

struct World {
  Kernel k;
  Pid pid = 0;
  explicit World(KernelConfig cfg = {}) : k(cfg) {
    pid = k.spawn("test").value();
    require_coherent(k);
  }
  uint64_t anon(uint64_t len, uint64_t prot = PROT_READ | PROT_WRITE, uint64_t addr = 0,
                uint64_t extra = 0) {
    SysResult r = k.sys_mmap(pid, {addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0});
    require_coherent(k);
    REQUIRE(r.is_ok());
    return r.value;
  }
  SysResult mmap(MmapArgs a) {
    SysResult r = k.sys_mmap(pid, a);
    require_coherent(k);
    return r;
  }
  SysResult munmap(uint64_t addr, uint64_t len) {
    SysResult r = k.sys_munmap(pid, addr, len);
    require_coherent(k);
    return r;
  }
  SysResult mprotect(uint64_t addr, uint64_t len, uint64_t prot) {
    return checked(k.sys_mprotect(pid, addr, len, prot));
  }
  SysResult madvise(uint64_t addr, uint64_t len, int64_t advice) {
    return checked(k.sys_madvise(pid, addr, len, advice));
  }
  // Every call goes through here so that each step ends with an invariant check.
  SysResult checked(SysResult r) {
    require_coherent(k);
    return r;
  }
  AccessResult write(uint64_t addr, uint8_t v) {
    AccessResult r = k.access(pid, addr, Access::Write, v);
    require_coherent(k);
    return r;
  }
  AccessResult read(uint64_t addr) {
    AccessResult r = k.access(pid, addr, Access::Read);
    require_coherent(k);
    return r;
  }
  const Mm& mm() const { return k.process(pid)->mm; }
  std::string maps() const { return k.proc_maps(pid).value_or("<dead>"); }
  uint64_t used_frames() const { return k.phys().total() - k.phys().free_count(); }
};

}  // namespace vmplay::test
