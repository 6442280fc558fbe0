// compsparse: the C interface that Python's ctypes calls (compsparse.fpga.csim).
// SPDX-License-Identifier: BSD-3-Clause
//
// Host-side glue for C simulation only, never synthesised: it turns numpy buffers into the
// word arrays of the m_axi ports, calls the variant's top (CS_TOP, from cs_config.h) and copies
// results back. The top itself is compiled unchanged from hls/kernels/.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cs_config.h"
#include "cs_kwta.h"
#include "cs_tops.h"
#include <hls_stream.h>

void cs_tap_set_enabled(bool on);
int cs_tap_copy(int layer, int what, int32_t *out, int n);

namespace {
std::vector<word_t> to_words(const uint8_t *bytes, std::size_t n_bytes, std::size_t n_words) {
  std::vector<uint64_t> packed(n_words, 0);  // little-endian: byte i is lane i % 8
  for (std::size_t i = 0; i < n_bytes; i++)
    packed[i / WORD_BYTES] |= (uint64_t)bytes[i] << (8 * (i % WORD_BYTES));
  return std::vector<word_t>(packed.begin(), packed.end());
}
}  // namespace

extern "C" {

// The hash of the cs_config.h this library was built with (Python checks it).
const char *cs_config_id() { return CS_CONFIG_ID; }

// Run the top: optionally load the parameter blob, then n_clips clips of int8 input
// (CsIn::N bytes each) to int32 logits (CsOut::N each). Returns 0, or a negative error:
// -1 wrong parameter size, -2 stream errors (read while empty / values left over).
int cs_run(const uint8_t *params, int64_t n_param_bytes, const int8_t *input, int n_clips,
           int32_t *logits, int load_params) {
  if (load_params && n_param_bytes != (int64_t)CS_PARAM_BYTES) return -1;
  static std::vector<word_t> param_words;  // the dense top reads it on every call
  if (load_params) param_words = to_words(params, (std::size_t)n_param_bytes, CS_PARAM_WORDS);
  if (param_words.empty()) param_words.assign(CS_PARAM_WORDS, 0);
  // each clip starts on a word boundary: CsIn::WORDS words per clip
  std::vector<word_t> in;
  for (int n = 0; n < n_clips; n++) {
    const std::vector<word_t> clip =
        to_words(reinterpret_cast<const uint8_t *>(input) + (std::size_t)n * CsIn::N, CsIn::N, CsIn::WORDS);
    in.insert(in.end(), clip.begin(), clip.end());
  }
  std::vector<word_t> out((std::size_t)n_clips * CsOut::WORDS + 1, 0);
  const long errors_before = hls::stream_errors();
  CS_TOP(param_words.data(), in.data(), out.data(), n_clips, load_params);
  for (int n = 0; n < n_clips; n++)
    for (int c = 0; c < CsOut::N; c++) {
      const uint64_t w = out[(std::size_t)n * CsOut::WORDS + c / 2].to_uint64();
      logits[(std::size_t)n * CsOut::N + c] = (int32_t)(uint32_t)(w >> (32 * (c % 2)));
    }
  return hls::stream_errors() == errors_before ? 0 : -2;
}

void cs_tap_enable(int on) { cs_tap_set_enabled(on != 0); }

int cs_tap_read(int layer, int what, int32_t *out, int n) { return cs_tap_copy(layer, what, out, n); }

// The host's input quantisation, clip(rint((x - offset) / scale), -128, 127) in float32, as in
// compsparse.quant.quantize_input (float ops and round-half-to-even, like numpy).
void cs_quantize(const float *x, int64_t n, float scale, float offset, int8_t *out) {
  for (int64_t i = 0; i < n; i++) {
    const float t = (x[i] - offset) / scale;
    float r = std::nearbyint(t);
    if (r < -128.0f) r = -128.0f;
    if (r > 127.0f) r = 127.0f;
    out[i] = (int8_t)r;
  }
}

#if CS_VARIANT == CS_VARIANT_SPARSE_SPARSE
// The k-WTA circuits alone, for tests: won[i] = 1 for the winners of y (C_OUT values of one
// pixel of conv layer `layer`, 0 or 1; or the units of linear1 for layer 2).
int cs_kwta(int layer, const uint8_t *y, uint8_t *won) {
  if (layer == 0 || layer == 1) {
    const int n = layer == 0 ? CsL1::C_OUT : CsL2::C_OUT;
    act_t v[256];
    winner_t win1[CsL1::K], win2[CsL2::K];
    for (int i = 0; i < n; i++) v[i] = y[i];
    std::memset(won, 0, n);
    if (layer == 0) {
      kwta_local<CsL1::C_OUT, CsL1::K>(v, win1);
      for (int s = 0; s < CsL1::K; s++) won[(int)win1[s].index] = 1;
    } else {
      kwta_local<CsL2::C_OUT, CsL2::K>(v, win2);
      for (int s = 0; s < CsL2::K; s++) won[(int)win2[s].index] = 1;
    }
    return 0;
  }
  if (layer == 2) {
    static act_t v[CsL3::C_OUT];
    for (int i = 0; i < CsL3::C_OUT; i++) v[i] = y[i];
    std::memset(won, 0, CsL3::C_OUT);
    hls::stream<winner_t> s("kwta_test");
    kwta_global<CsL3::C_OUT, CsL3::K, -1>(v, s);
    int count = 0;
    while (!s.empty()) {
      won[(int)s.read().index] = 1;
      count++;
    }
    return count == CsL3::K ? 0 : -3;
  }
  return -1;
}
#endif

}  // extern "C"
