// The page's frame, headless and native: builds the 10,000-VMA / 65,536-frame state of
// bench/ui-perf.mjs, then times App::draw (the panels and their draw lists) with the
// pointer resting, moving over the panels, and on the first frame after a command.
//   build/release/bin/ui_frame_bench [vmas]      (perf record works on it)
//   BENCH_SWAP=256M adds a swap file of that size; BENCH_STORES=N times N commands.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "imgui.h"
#include "web/app.h"

namespace {

using Clock = std::chrono::steady_clock;

double frame(vmplay::web::App& app, float x, float y) {
  ImGuiIO& io = ImGui::GetIO();
  io.DeltaTime = 1.0f / 60.0f;
  io.AddMousePosEvent(x, y);
  const auto t0 = Clock::now();
  ImGui::NewFrame();
  app.draw(io.DisplaySize.x, io.DisplaySize.y);
  ImGui::Render();
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

void report(const char* label, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  double sum = 0;
  for (double m : ms) sum += m;
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * static_cast<double>(ms.size())))]; };
  std::printf("%-32s frames %4zu  mean %6.2f ms  p50 %6.2f ms  p95 %6.2f ms  max %6.2f ms\n", label, ms.size(),
              sum / static_cast<double>(ms.size()), at(0.5), at(0.95), ms.back());
}

}  // namespace

int main(int argc, char** argv) {
  const int vmas = argc > 1 ? std::atoi(argv[1]) : 10000;
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;
  io.DisplaySize = ImVec2(1280, 800);
  io.Fonts->AddFontDefault();
  unsigned char* pixels = nullptr;
  int w = 0, h = 0;
  io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);  // builds the atlas; nothing draws it

  static vmplay::web::App app;
  const auto t0 = Clock::now();
  app.exec("config ram 65536");
  // BENCH_SWAP=256M: a swap file too (65,535 slots for the swap grid to draw and count).
  if (const char* swap = std::getenv("BENCH_SWAP")) app.exec(std::string("config swap ") + swap);
  for (int i = 0; i < vmas; ++i) {
    char line[160];
    const uint64_t addr = 0x100000000ULL + static_cast<uint64_t>(i) * 0x1000;
    std::snprintf(line, sizeof line, "mmap(0x%" PRIx64 ", 4096, %s, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0)", addr,
                  i % 2 ? "PROT_READ" : "PROT_READ|PROT_WRITE");
    app.exec(line);
    if (i % 2 == 0) {
      std::snprintf(line, sizeof line, "*(char *)0x%" PRIx64 " = 1", addr);
      app.exec(line);
    }
  }
  app.exec("fork()");
  std::printf("scenario: %d VMAs per process, 2 processes, 65536 frames, built in %.1f s\n", vmas,
              std::chrono::duration<double>(Clock::now() - t0).count());

  for (int i = 0; i < 5; ++i) frame(app, 5, 790);  // settle the layout and caches
  std::vector<double> idle, moving, after;
  for (int i = 0; i < 200; ++i) idle.push_back(frame(app, 5, 790));
  const float spots[][2] = {{800, 250}, {700, 100}, {900, 300}, {600, 600}, {1100, 600}, {1000, 700}, {300, 600}, {700, 500}};
  for (int i = 0; i < 400; ++i) {
    const auto& s = spots[(i / 4) % 8];
    moving.push_back(frame(app, s[0] + static_cast<float>(i % 4) * 9.0f, s[1] + static_cast<float>(i % 4) * 7.0f));
  }
  const int stores = std::getenv("BENCH_STORES") ? std::atoi(std::getenv("BENCH_STORES")) : 20;
  for (int i = 0; i < stores; ++i) {
    char line[64];
    std::snprintf(line, sizeof line, "*(char *)0x%" PRIx64 " = 2", static_cast<uint64_t>(0x100000000ULL + static_cast<uint64_t>(i % 5000) * 0x2000));
    app.exec(line);
    after.push_back(frame(app, 800, 250));
    frame(app, 800, 250);
  }
  const std::string views = app.perf_json();
  std::printf("slowest recent frame per view: %s\n", views.substr(views.find("\"views_ms\""), views.find('}', views.find("views_ms")) - views.find("\"views_ms\"") + 1).c_str());
  report("pointer resting, full layout", idle);
  report("pointer moving, full layout", moving);
  report("first frame after a store", after);
  app.set_layout(vmplay::web::Layout::Compact);
  io.DisplaySize = ImVec2(640, 420);
  for (const char* v : {"vmas", "pagetables", "frames", "swap", "timeline", "processes", "files", "stats"}) {
    app.show(v);
    frame(app, 300, 100);
    std::vector<double> ms;
    for (int i = 0; i < 100; ++i) ms.push_back(frame(app, 200.0f + static_cast<float>(i % 5) * 60.0f, 120));
    report((std::string("compact, ") + v).c_str(), ms);
  }
  ImGui::DestroyContext();
  return 0;
}
