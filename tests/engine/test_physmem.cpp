#include <doctest/doctest.h>

#include "engine/physmem.h"

using namespace vmplay::engine;

TEST_CASE("physmem: frame 0 reserved, frame 1 the zero page, the rest free") {
  PhysMem m;
  CHECK(m.total() == PhysMem::kDefaultFrames);
  CHECK(m.free_count() == PhysMem::kDefaultFrames - 2 - PhysMem::kVdsoFrames);
  CHECK(m.frame(m.vdso_pfn(0)).owner == FrameOwner::Vdso);
  CHECK(m.vdso_pfn(7).value == PhysMem::kDefaultFrames - 1);
  CHECK(m.frame(Pfn{0}).owner == FrameOwner::Reserved);
  CHECK(m.zero_pfn() == Pfn{1});
  CHECK((m.frame(Pfn{1}).flags & PG_zero) != 0);
}

TEST_CASE("physmem: allocation takes the lowest free frame and free returns it") {
  PhysMem m(PhysConfig{64});
  auto a = m.alloc(FrameOwner::Anon, 7, 3, PG_anon);
  auto b = m.alloc(FrameOwner::Anon, 7, 4, PG_anon);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->value == 2);
  CHECK(b->value == 3);
  CHECK(m.frame(*a).refcount == 1);
  CHECK(m.frame(*a).owner_id == 7);
  m.free(*a);
  CHECK(m.frame(*a).owner == FrameOwner::Free);
  auto c = m.alloc(FrameOwner::Anon, 8, 0, PG_anon);
  CHECK(c->value == 2);
}

TEST_CASE("physmem: contents are allocated on first non-zero write") {
  PhysMem m(PhysConfig{32});
  Pfn p = *m.alloc(FrameOwner::Anon, 1, 0, PG_anon);
  CHECK(m.frame(p).data.empty());
  m.write_byte(p, 5, 0);
  CHECK(m.frame(p).data.empty());
  m.write_byte(p, 5, 0x41);
  CHECK(m.frame(p).data.size() == kPageSize);
  CHECK(m.read_byte(p, 5) == 0x41);
  CHECK(m.read_byte(p, 6) == 0);
  m.write_u64(p, 511, 0x8000000000000067ULL);
  CHECK(m.read_u64(p, 511) == 0x8000000000000067ULL);
}

TEST_CASE("physmem: running out, and injected failures") {
  PhysMem m(PhysConfig{PhysMem::kMinFrames});
  uint64_t n = 0;
  while (m.alloc(FrameOwner::Anon, 1, n, PG_anon)) ++n;
  CHECK(n == PhysMem::kMinFrames - 2 - PhysMem::kVdsoFrames);
  CHECK(m.free_count() == 0);

  PhysMem f(PhysConfig{32});
  f.fail_next_allocs(2);
  CHECK_FALSE(f.alloc(FrameOwner::Anon, 1, 0, PG_anon));
  CHECK_FALSE(f.alloc(FrameOwner::Anon, 1, 0, PG_anon));
  CHECK(f.alloc(FrameOwner::Anon, 1, 0, PG_anon));
}

TEST_CASE("physmem: RAM size is clamped to the supported range") {
  CHECK(PhysMem(PhysConfig{1}).total() == PhysMem::kMinFrames);
  CHECK(PhysMem(PhysConfig{PhysMem::kMaxFrames * 2}).total() == PhysMem::kMaxFrames);
}

TEST_CASE("physmem: a copy shares contents until one side writes (undo snapshots stay small)") {
  PhysMem m(PhysConfig{32});
  Pfn p = *m.alloc(FrameOwner::Anon, 1, 0, PG_anon);
  m.write_byte(p, 5, 0x41);
  PhysMem copy = m;
  CHECK(m.frame(p).data.shared());
  CHECK(copy.frame(p).data.data() == m.frame(p).data.data());
  m.write_byte(p, 5, 0x42);
  CHECK_FALSE(m.frame(p).data.shared());
  CHECK(m.read_byte(p, 5) == 0x42);
  CHECK(copy.read_byte(p, 5) == 0x41);
  m.copy_frame(*m.alloc(FrameOwner::Anon, 1, 1, PG_anon), p);
  CHECK(m.frame(p).data.shared());
}
