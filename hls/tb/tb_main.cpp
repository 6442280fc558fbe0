// compsparse: C testbench for the three tops (g++ here; Vitis HLS csim_design / cosim_design).
// SPDX-License-Identifier: BSD-3-Clause
//
// usage: tb_<variant> DIR [MAX_CLIPS]
// DIR holds what `python -m compsparse hls-params` wrote: params.bin (the parameter blob) and
// golden.bin (clips of int8 input with the logits of compsparse's numpy integer pipeline):
//   "CSGV" | int32 n_clips | int32 n_in | int32 n_out | int8 input[n_clips][n_in]
//          | int32 logits[n_clips][n_out]                              (little-endian)
// The top loads the parameters, runs every clip, and every logit must match bit for bit.
// MAX_CLIPS limits the clips run (co-simulation: the m_axi depth allows CS_INPUT_DEPTH words).
// Returns 0 on PASS (cosim_design needs that), 1 on a mismatch, 2 on bad files.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cs_config.h"
#include "cs_tops.h"
#include <hls_stream.h>

static bool read_file(const std::string &path, std::vector<uint8_t> &bytes) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  std::fseek(f, 0, SEEK_END);
  const long size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  bytes.resize(size > 0 ? size : 0);
  const bool ok = size >= 0 && std::fread(bytes.data(), 1, bytes.size(), f) == bytes.size();
  std::fclose(f);
  return ok;
}

static int32_t le32(const uint8_t *p) {
  return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

static std::vector<word_t> to_words(const uint8_t *bytes, std::size_t n_bytes, std::size_t n_words) {
  std::vector<uint64_t> packed(n_words, 0);  // little-endian: byte i is lane i % 8
  for (std::size_t i = 0; i < n_bytes; i++)
    packed[i / WORD_BYTES] |= (uint64_t)bytes[i] << (8 * (i % WORD_BYTES));
  return std::vector<word_t>(packed.begin(), packed.end());
}

int main(int argc, char **argv) {
  const std::string dir = argc > 1 ? argv[1] : ".";
  std::vector<uint8_t> params, golden;
  if (!read_file(dir + "/params.bin", params) || !read_file(dir + "/golden.bin", golden)) {
    std::printf("FAIL: cannot read %s/params.bin and golden.bin (run compsparse hls-params)\n",
                dir.c_str());
    return 2;
  }
  if (params.size() != CS_PARAM_BYTES) {
    std::printf("FAIL: params.bin has %zu bytes, cs_config.h expects %u: regenerate both\n",
                params.size(), (unsigned)CS_PARAM_BYTES);
    return 2;
  }
  if (golden.size() < 16 || std::memcmp(golden.data(), "CSGV", 4) != 0) {
    std::printf("FAIL: golden.bin is not a compsparse golden-vector file\n");
    return 2;
  }
  const int n_clips = le32(&golden[4]), n_in = le32(&golden[8]), n_out = le32(&golden[12]);
  if (n_in != CsIn::N || n_out != CsOut::N ||
      golden.size() != 16 + (std::size_t)n_clips * (n_in + 4 * n_out)) {
    std::printf("FAIL: golden.bin does not match cs_config.h (n_in %d, n_out %d)\n", n_in, n_out);
    return 2;
  }
  const uint8_t *inputs = &golden[16];
  const uint8_t *expected = inputs + (std::size_t)n_clips * n_in;
  const int n_run = argc > 2 && std::atoi(argv[2]) < n_clips ? std::atoi(argv[2]) : n_clips;

  std::vector<word_t> param_words = to_words(params.data(), params.size(), CS_PARAM_WORDS);
  std::vector<word_t> in;  // each clip starts on a word boundary: CsIn::WORDS words per clip
  for (int n = 0; n < n_run; n++) {
    const std::vector<word_t> clip = to_words(inputs + (std::size_t)n * n_in, n_in, CsIn::WORDS);
    in.insert(in.end(), clip.begin(), clip.end());
  }
  std::vector<word_t> out((std::size_t)n_run * CsOut::WORDS, 0);

  CS_TOP(param_words.data(), in.data(), out.data(), n_run, 1);

  int mismatches = 0;
  for (int n = 0; n < n_run; n++)
    for (int c = 0; c < n_out; c++) {
      const uint64_t w = out[(std::size_t)n * CsOut::WORDS + c / 2].to_uint64();
      const int32_t got = (int32_t)(uint32_t)(w >> (32 * (c % 2)));
      const int32_t want = le32(expected + 4 * ((std::size_t)n * n_out + c));
      if (got != want && mismatches++ == 0)
        std::printf("FAIL: clip %d logit %d: C++ %d, numpy %d\n", n, c, (int)got, (int)want);
    }
#ifdef CS_CSIM_HLS_STREAM_H  // our C-simulation stream counts its errors; Vitis's does not
  if (hls::stream_errors() != 0) {
    std::printf("FAIL: %ld hls::stream errors (see stderr)\n", hls::stream_errors());
    return 1;
  }
#endif
  if (mismatches) {
    std::printf("FAIL: %d of %d logits differ\n", mismatches, n_run * n_out);
    return 1;
  }
  std::printf("PASS: %s, %d clips, %d logits bit-exact\n", CS_VARIANT_NAME, n_run, n_run * n_out);
  return 0;
}
