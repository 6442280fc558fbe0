// compsparse: storage for the C-simulation debug taps of cs_tap.h.
// SPDX-License-Identifier: BSD-3-Clause
//
// C simulation only (compiled into the testbench and the ctypes library, never synthesised).
#include <cstdint>
#include <vector>

#include "cs_tap.h"

namespace {
bool g_enabled = false;
std::vector<int32_t> g_taps[4][4];  // [layer][what]
}  // namespace

void cs_tap(int layer, int what, int index, int value) {
  if (!g_enabled || layer < 0 || layer >= 4 || what < 0 || what >= 4 || index < 0) return;
  std::vector<int32_t> &t = g_taps[layer][what];
  if ((std::size_t)index >= t.size()) t.resize(index + 1, 0);
  t[index] = value;
}

// Turn recording on (clearing what was recorded) or off.
void cs_tap_set_enabled(bool on) {
  g_enabled = on;
  for (auto &layer : g_taps)
    for (auto &t : layer) t.clear();
}

// Copy tap (layer, what) into out[0..n): recorded values, zeros beyond them. Returns how many
// values were recorded (0: none).
int cs_tap_copy(int layer, int what, int32_t *out, int n) {
  if (layer < 0 || layer >= 4 || what < 0 || what >= 4) return -1;
  const std::vector<int32_t> &t = g_taps[layer][what];
  for (int i = 0; i < n; i++) out[i] = (std::size_t)i < t.size() ? t[i] : 0;
  return (int)t.size();
}
