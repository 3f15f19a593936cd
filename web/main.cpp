// web/: the front end's entry point, native (vmplay-gui: SDL2 + OpenGL 3) and in the
// browser (vmplay.js + vmplay.wasm: SDL2 + WebGL2). One code path; the differences
// are the GL context, the main loop and, on the web, the canvas size and JS API.
#include <SDL.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "imgui.h"
#include "imgui_impl_opengl3.h"
#include "imgui_impl_sdl2.h"
#include "web/app.h"

#ifdef __EMSCRIPTEN__
#include <GLES3/gl3.h>
#include <emscripten.h>
#include <emscripten/html5.h>
#else
#include <SDL_opengl.h>
#endif

// The embedded JetBrains Mono (generated at build time by web/embed_file.cmake).
extern const unsigned char vmplay_font_ttf[];
extern const unsigned int vmplay_font_ttf_size;

namespace {

constexpr float kFontPx = 15.0f;

struct Gui {
  SDL_Window* window = nullptr;
  SDL_GLContext gl = nullptr;
  vmplay::web::App* app = nullptr;
  float font_scale = 0.0f;  // the pixel ratio the font atlas was built for
  bool done = false;
  uint64_t changed_seen = 0;  // the App generation the page was last told about
  // Idle frames (the page): something to show arrived (input, a JS call, a resize, a
  // changed session) at last_busy; the last frame was drawn at last_draw (ms).
  bool wake = true;
  uint64_t drawn_generation = ~uint64_t{0};
  double last_busy = 0, last_draw = 0;
};

Gui g_gui;

// Rasterises the font at the pixel ratio so text is sharp on HiDPI screens, and
// scales it back to points for layout.
void load_fonts(float ratio) {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  ImFontConfig cfg;
  cfg.FontDataOwnedByAtlas = false;  // the array is static
  cfg.OversampleH = 2;
  cfg.OversampleV = 1;
  std::snprintf(cfg.Name, sizeof cfg.Name, "JetBrains Mono %.0fpx", static_cast<double>(kFontPx));
  io.Fonts->AddFontFromMemoryTTF(const_cast<unsigned char*>(vmplay_font_ttf), static_cast<int>(vmplay_font_ttf_size),
                                 std::round(kFontPx * ratio), &cfg);
  io.FontGlobalScale = 1.0f / ratio;
  g_gui.font_scale = ratio;
}

float pixel_ratio() {
#ifdef __EMSCRIPTEN__
  return static_cast<float>(emscripten_get_device_pixel_ratio());
#else
  int w = 0, h = 0, dw = 0, dh = 0;
  SDL_GetWindowSize(g_gui.window, &w, &h);
  SDL_GL_GetDrawableSize(g_gui.window, &dw, &dh);
  return w > 0 && dw > 0 ? static_cast<float>(dw) / static_cast<float>(w) : 1.0f;
#endif
}

void set_style(bool light) {
  if (light)
    ImGui::StyleColorsLight();  // theme=light: ImGui's own, with a paper white below
  else
    ImGui::StyleColorsDark();
  ImGuiStyle& s = ImGui::GetStyle();
  s.WindowRounding = 0.0f;
  s.WindowBorderSize = light ? 1.0f : 0.0f;
  s.FrameRounding = 3.0f;
  s.WindowPadding = ImVec2(8.0f, 6.0f);
  s.FramePadding = ImVec2(6.0f, 4.0f);
  s.ItemSpacing = ImVec2(8.0f, 5.0f);
  s.CellPadding = ImVec2(6.0f, 2.0f);
  s.ScrollbarSize = 12.0f;
  if (light) {
    s.Colors[ImGuiCol_WindowBg] = ImVec4(0.985f, 0.985f, 0.98f, 1.0f);
    s.Colors[ImGuiCol_TextDisabled] = ImVec4(0.38f, 0.40f, 0.44f, 1.0f);
    return;
  }
  ImVec4* c = s.Colors;
  c[ImGuiCol_WindowBg] = ImVec4(0.105f, 0.113f, 0.137f, 1.0f);
  c[ImGuiCol_ChildBg] = ImVec4(0.0f, 0.0f, 0.0f, 0.0f);
  c[ImGuiCol_PopupBg] = ImVec4(0.09f, 0.10f, 0.125f, 1.0f);  // menus: the log must not show through
  c[ImGuiCol_MenuBarBg] = ImVec4(0.13f, 0.145f, 0.18f, 1.0f);
  c[ImGuiCol_TitleBg] = ImVec4(0.15f, 0.17f, 0.22f, 1.0f);
  c[ImGuiCol_TitleBgActive] = ImVec4(0.15f, 0.17f, 0.22f, 1.0f);
  c[ImGuiCol_FrameBg] = ImVec4(0.16f, 0.18f, 0.23f, 1.0f);
  c[ImGuiCol_TableRowBgAlt] = ImVec4(1.0f, 1.0f, 1.0f, 0.025f);
  c[ImGuiCol_Header] = ImVec4(0.26f, 0.45f, 0.80f, 0.25f);
  c[ImGuiCol_HeaderHovered] = ImVec4(0.26f, 0.55f, 0.90f, 0.30f);
  c[ImGuiCol_HeaderActive] = ImVec4(0.26f, 0.55f, 0.90f, 0.45f);
}

// Feeds SDL's events to ImGui a frame's worth at a time. ImGui's own trickling
// (io.ConfigInputTrickleEventQueue) spends a frame or two per typed character, so a
// pasted or scripted line (a Playwright test typing) takes seconds. Instead we pass
// printable typing through at once and cut the batch only where ImGui would misread
// it: a key or button released in the frame it was pressed in, text after an editing
// key (InputText applies characters before keys), so order and clicks survive.
class EventBatcher {
 public:
  // Returns false when the event must wait for the next frame (and so must all after it).
  bool accept(const SDL_Event& e) {
    switch (e.type) {
      case SDL_KEYDOWN:
      case SDL_KEYUP: {
        const bool control = is_control(e.key.keysym);
        const auto sc = static_cast<size_t>(e.key.keysym.scancode);
        if (sc >= pressed_.size()) return true;
        if (control && e.type == SDL_KEYUP && pressed_[sc]) return false;
        if (control && e.type == SDL_KEYDOWN && control_seen_ && pressed_[sc]) return false;
        if (control) {
          control_seen_ = true;
          if (e.type == SDL_KEYDOWN) pressed_[sc] = true;
        }
        return true;
      }
      case SDL_TEXTINPUT:
        return !control_seen_;
      case SDL_MOUSEBUTTONDOWN:
      case SDL_MOUSEBUTTONUP: {
        const unsigned b = e.button.button & 7u;
        if (e.type == SDL_MOUSEBUTTONUP && (buttons_ & (1u << b))) return false;
        if (e.type == SDL_MOUSEBUTTONDOWN) buttons_ |= 1u << b;
        return true;
      }
      default:
        return true;
    }
  }
  void new_frame() {
    pressed_.fill(false);
    control_seen_ = false;
    buttons_ = 0;
  }

 private:
  // Keys InputText acts on (Enter, Backspace, arrows, ...) and shortcuts (Ctrl+A).
  // Modifier keys alone are not: Shift comes with every '(' and '|' typed.
  static bool is_control(const SDL_Keysym& k) {
    if (k.sym >= SDLK_LCTRL && k.sym <= SDLK_RGUI) return false;
    if (k.mod & (KMOD_CTRL | KMOD_ALT | KMOD_GUI)) return true;
    return k.sym < 0x20 || k.sym >= 0x7f;
  }
  std::array<bool, SDL_NUM_SCANCODES> pressed_{};
  bool control_seen_ = false;
  unsigned buttons_ = 0;
};

EventBatcher g_batcher;
std::vector<SDL_Event> g_pending;  // events held over to the next frame, in order
std::vector<SDL_Event> g_events;

// Returns whether any input arrived (or is held for a later frame).
bool pump_events() {
  g_events.clear();
  g_events.swap(g_pending);
  SDL_Event ev;
  while (SDL_PollEvent(&ev)) g_events.push_back(ev);
  g_batcher.new_frame();
  bool holding = false;
  for (const SDL_Event& e : g_events) {
    if (holding || !g_batcher.accept(e)) {
      holding = true;
      g_pending.push_back(e);
      continue;
    }
    ImGui_ImplSDL2_ProcessEvent(&e);
    if (e.type == SDL_QUIT) g_gui.done = true;
    if (e.type == SDL_WINDOWEVENT && e.window.event == SDL_WINDOWEVENT_CLOSE &&
        e.window.windowID == SDL_GetWindowID(g_gui.window))
      g_gui.done = true;
  }
  return !g_events.empty() || !g_pending.empty();
}

void frame() {
  [[maybe_unused]] const bool input = pump_events();  // (the desktop app draws every frame)

#ifdef __EMSCRIPTEN__
  // The page sizes the canvas with CSS; its backing store follows at the pixel ratio.
  double css_w = 0, css_h = 0;
  emscripten_get_element_css_size("#canvas", &css_w, &css_h);
  const double dpr = emscripten_get_device_pixel_ratio();
  int win_w = 0, win_h = 0;
  SDL_GetWindowSize(g_gui.window, &win_w, &win_h);
  // SDL maps mouse positions to its window size: keep that equal to the CSS size.
  if (win_w != static_cast<int>(css_w) || win_h != static_cast<int>(css_h))
    SDL_SetWindowSize(g_gui.window, static_cast<int>(css_w), static_cast<int>(css_h));
  const int fb_w = static_cast<int>(std::lround(css_w * dpr)), fb_h = static_cast<int>(std::lround(css_h * dpr));
  int cur_w = 0, cur_h = 0;
  emscripten_get_canvas_element_size("#canvas", &cur_w, &cur_h);
  const bool resized = cur_w != fb_w || cur_h != fb_h;
  if (resized) emscripten_set_canvas_element_size("#canvas", fb_w, fb_h);

  // An open page that nobody uses should not cost a laptop a core: a second after the
  // last input, JS call, resize or change of the session, frames are drawn 5 times a
  // second (enough for the text cursor to blink) instead of at the display's rate.
  const double now = emscripten_get_now();
  if (input || resized || g_gui.wake || g_gui.app->generation() != g_gui.drawn_generation) g_gui.last_busy = now;
  g_gui.wake = false;
  constexpr double kBusyTailMs = 1000, kIdleFrameMs = 200;
  if (now - g_gui.last_busy > kBusyTailMs && now - g_gui.last_draw < kIdleFrameMs) return;
  g_gui.last_draw = now;
  g_gui.drawn_generation = g_gui.app->generation();
#endif

  const float ratio = pixel_ratio();
  if (ratio > 0.0f && std::fabs(ratio - g_gui.font_scale) > 0.01f) {
    // Zoomed or moved to another screen: rebuild the atlas at the new ratio.
    load_fonts(ratio);
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
  }

  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplSDL2_NewFrame();
  ImGuiIO& io = ImGui::GetIO();
#ifdef __EMSCRIPTEN__
  io.DisplaySize = ImVec2(static_cast<float>(css_w), static_cast<float>(css_h));
  io.DisplayFramebufferScale = ImVec2(static_cast<float>(dpr), static_cast<float>(dpr));
#endif
  const auto t0 = std::chrono::steady_clock::now();
  ImGui::NewFrame();
  g_gui.app->draw(io.DisplaySize.x, io.DisplaySize.y);
  ImGui::Render();
  // The frame's CPU time: building the UI and its draw lists (what a large state costs;
  // the GPU's share is the browser's).
  g_gui.app->note_frame_ms(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
#ifdef __EMSCRIPTEN__
  // Tell the page when the session changed (it saves it and tells an embedding host).
  if (g_gui.app->generation() != g_gui.changed_seen) {
    g_gui.changed_seen = g_gui.app->generation();
    EM_ASM({ if (Module["onVmplayChanged"]) Module["onVmplayChanged"](); });
  }
#endif

  const int vp_w = static_cast<int>(io.DisplaySize.x * io.DisplayFramebufferScale.x);
  const int vp_h = static_cast<int>(io.DisplaySize.y * io.DisplayFramebufferScale.y);
  glViewport(0, 0, vp_w, vp_h);
  glClearColor(0.07f, 0.075f, 0.09f, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  SDL_GL_SwapWindow(g_gui.window);
}

#ifdef __EMSCRIPTEN__
void frame_cb(void*) { frame(); }

// The browser's clipboard. Copying writes it (navigator.clipboard); pasting arrives as the
// page's paste event (vmplay_paste), so ImGui's own Ctrl+V has nothing to insert twice.
EM_JS(void, js_copy_text, (const char* text), {
  var t = UTF8ToString(text);
  if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(t).catch(function () {});
});
void set_clipboard(void*, const char* text) { js_copy_text(text); }

// "Copy link": the page's address with the session's script as #script= (base64url).
EM_JS(void, js_copy_link, (const char* script), {
  if (Module["copyLink"]) Module["copyLink"](UTF8ToString(script));
});
const char* get_clipboard(void*) { return ""; }
#endif

}  // namespace

#ifdef __EMSCRIPTEN__
// The JS API (wrapped by index.html as window.vmplay). Strings returned point at a
// static buffer that stays valid until the next call.
extern "C" {

EMSCRIPTEN_KEEPALIVE const char* vmplay_exec(const char* line) {
  g_gui.wake = true;  // draw what the call changed
  static std::string out;
  out.clear();
  if (!g_gui.app || !line) return out.c_str();
  // Several lines run one after another, as if each were typed and Enter pressed, up
  // to limits that keep one call from freezing the page.
  constexpr size_t kMaxLines = 10000, kMaxOutput = size_t{16} << 20;
  std::string_view rest(line);
  size_t lines = 0;
  while (true) {
    size_t nl = rest.find('\n');
    std::string_view one = rest.substr(0, nl);
    if (!one.empty() && one.back() == '\r') one.remove_suffix(1);
    if (nl == std::string_view::npos || !one.empty()) {
      if (++lines > kMaxLines || out.size() > kMaxOutput) {
        out += "error: stopped before line " + std::to_string(lines) + ": one call runs at most " +
               std::to_string(kMaxLines) + " lines and prints at most 16 MiB; the rest did not run\n";
        break;
      }
      out += g_gui.app->exec(one).text();
    }
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return out.c_str();
}

// A paste into the page (index.html forwards the browser's paste event): one line goes
// into the input line to be edited; several lines run one by one, as a script.
EMSCRIPTEN_KEEPALIVE void vmplay_paste(const char* text) {
  g_gui.wake = true;  // draw what the call changed
  if (!g_gui.app || !text) return;
  // Ctrl/Cmd and V were released while the paste sink had focus: with the keyboard bound
  // to the canvas SDL never saw those key-ups, and would think Ctrl still held.
  SDL_ResetKeyboard();
  std::string t(text);
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  if (t.find('\n') == std::string::npos) {
    g_gui.app->paste_line(t);
    return;
  }
  (void)vmplay_exec(t.c_str());
}

EMSCRIPTEN_KEEPALIVE const char* vmplay_ui() {
  static std::string out;
  out = g_gui.app ? g_gui.app->ui_json() : std::string("null");
  return out.c_str();
}

// Embedding (index.html reads the URL and postMessages and calls these).
EMSCRIPTEN_KEEPALIVE int vmplay_load(const char* script, const char* mode) {
  g_gui.wake = true;  // draw what the call changed
  if (!g_gui.app || !script || !mode) return 0;
  std::string_view m(mode);
  const auto run = m == "step" ? vmplay::web::RunMode::Step : m == "none" ? vmplay::web::RunMode::None
                                                                           : vmplay::web::RunMode::All;
  return g_gui.app->load_script(script, run) ? 1 : 0;
}

EMSCRIPTEN_KEEPALIVE int vmplay_lesson(const char* name, const char* mode) {
  g_gui.wake = true;  // draw what the call changed
  if (!g_gui.app || !name || !mode) return 0;
  std::string_view m(mode);
  const auto run = m == "all" ? vmplay::web::RunMode::All : m == "none" ? vmplay::web::RunMode::None
                                                                         : vmplay::web::RunMode::Step;
  return g_gui.app->load_lesson(name, run) ? 1 : 0;
}

// The output of the lines the last vmplay_load ran.
EMSCRIPTEN_KEEPALIVE const char* vmplay_load_output() {
  static std::string out;
  out = g_gui.app ? g_gui.app->load_output() : std::string();
  return out.c_str();
}

// Reset from the page or a host: a fresh machine, and a step script back at its start.
EMSCRIPTEN_KEEPALIVE const char* vmplay_reset() {
  g_gui.wake = true;  // draw what the call changed
  static std::string out;
  out = g_gui.app ? g_gui.app->script_reset() : std::string();
  return out.c_str();
}

EMSCRIPTEN_KEEPALIVE const char* vmplay_script() {
  static std::string out;
  out = g_gui.app ? g_gui.app->session().script() : std::string();
  return out.c_str();
}

EMSCRIPTEN_KEEPALIVE const char* vmplay_log() {
  static std::string out;
  out = g_gui.app ? g_gui.app->log_text() : std::string();
  return out.c_str();
}

EMSCRIPTEN_KEEPALIVE int vmplay_wants_wheel() { return g_gui.app && g_gui.app->wants_wheel() ? 1 : 0; }

EMSCRIPTEN_KEEPALIVE const char* vmplay_perf() {
  static std::string out;
  out = g_gui.app ? g_gui.app->perf_json() : std::string("null");
  return out.c_str();
}

// View settings that are not the session's business: which view is in front, which
// layout. Returns 1 when the value was understood.
EMSCRIPTEN_KEEPALIVE int vmplay_view(const char* key, const char* value) {
  g_gui.wake = true;  // draw what the call changed
  if (!g_gui.app || !key || !value) return 0;
  std::string_view k(key), v(value);
  if (k == "show") return g_gui.app->show(v) ? 1 : 0;
  if (k == "panels") return g_gui.app->set_panels(v) ? 1 : 0;
  if (k == "theme") {
    if (v != "light" && v != "dark") return 0;
    g_gui.app->set_light(v == "light");
    set_style(v == "light");
    return 1;
  }
  if (k == "notice" || k == "warn") {
    g_gui.app->notice(v, k == "warn");
    return 1;
  }
  if (k == "script_pos") {
    g_gui.app->set_script_pos(static_cast<size_t>(std::strtoull(value, nullptr, 10)));
    return 1;
  }
  if (k == "layout") {
    if (v == "auto") g_gui.app->set_layout(vmplay::web::Layout::Auto);
    else if (v == "full") g_gui.app->set_layout(vmplay::web::Layout::Full);
    else if (v == "compact") g_gui.app->set_layout(vmplay::web::Layout::Compact);
    else return 0;
    return 1;
  }
  return 0;
}

EMSCRIPTEN_KEEPALIVE const char* vmplay_state() {
  static std::string out;
  out = g_gui.app ? g_gui.app->session().state_json() : std::string("null");
  return out.c_str();
}

}  // extern "C"
#endif

int main(int, char**) {
#ifdef __EMSCRIPTEN__
  // Keys only while the canvas has focus: an embedded widget must not take the host
  // page's typing (the canvas gets focus when clicked; index.html).
  SDL_SetHint(SDL_HINT_EMSCRIPTEN_KEYBOARD_ELEMENT, "#canvas");
#endif
  if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_TIMER) != 0) {
    std::fprintf(stderr, "vmplay: SDL_Init failed: %s\n", SDL_GetError());
    return 1;
  }
#ifdef __EMSCRIPTEN__
  // WebGL2 = OpenGL ES 3.0.
  const char* glsl_version = "#version 300 es";
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_FLAGS, 0);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_ES);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 0);
#else
  const char* glsl_version = "#version 130";
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_FLAGS, 0);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_CORE);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 0);
#endif
  SDL_GL_SetAttribute(SDL_GL_DOUBLEBUFFER, 1);
  SDL_GL_SetAttribute(SDL_GL_DEPTH_SIZE, 0);
  SDL_GL_SetAttribute(SDL_GL_STENCIL_SIZE, 0);
  const auto flags = static_cast<SDL_WindowFlags>(SDL_WINDOW_OPENGL | SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
  g_gui.window = SDL_CreateWindow("vmplay: Linux virtual memory playground", SDL_WINDOWPOS_CENTERED,
                                  SDL_WINDOWPOS_CENTERED, 1280, 800, flags);
  if (!g_gui.window) {
    std::fprintf(stderr, "vmplay: SDL_CreateWindow failed: %s\n", SDL_GetError());
    return 1;
  }
  g_gui.gl = SDL_GL_CreateContext(g_gui.window);
  if (!g_gui.gl) {
    std::fprintf(stderr, "vmplay: no OpenGL context: %s\n", SDL_GetError());
    return 1;
  }
  SDL_GL_MakeCurrent(g_gui.window, g_gui.gl);
  SDL_GL_SetSwapInterval(1);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // the layout is code, not a saved file
  io.ConfigInputTrickleEventQueue = false;  // EventBatcher does it, a frame per conflict
  io.ConfigInputTextEnterKeepActive = true;  // the console keeps focus after Enter
  set_style(false);
  ImGui_ImplSDL2_InitForOpenGL(g_gui.window, g_gui.gl);
  ImGui_ImplOpenGL3_Init(glsl_version);
#ifdef __EMSCRIPTEN__
  io.SetClipboardTextFn = set_clipboard;
  io.GetClipboardTextFn = get_clipboard;
#endif
  load_fonts(pixel_ratio());

  static vmplay::web::App app;
  g_gui.app = &app;
  g_gui.changed_seen = app.generation();
#ifdef __EMSCRIPTEN__
  app.on_copy_link = [](const std::string& script) { js_copy_link(script.c_str()); };
#endif

#ifdef __EMSCRIPTEN__
  // Tell the page we are usable (index.html sets window.vmplay.ready and fires vmplay-ready).
  EM_ASM({ if (Module["onVmplayReady"]) Module["onVmplayReady"](); });
  emscripten_set_main_loop_arg(frame_cb, nullptr, 0, true);
#else
  while (!g_gui.done) frame();
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplSDL2_Shutdown();
  ImGui::DestroyContext();
  SDL_GL_DeleteContext(g_gui.gl);
  SDL_DestroyWindow(g_gui.window);
  SDL_Quit();
#endif
  return 0;
}
