// compsparse HLS kernels: the three synthesis tops, one per network variant.
// SPDX-License-Identifier: BSD-3-Clause
//
// All three share one interface, so one driver and one block design serve every variant and
// both boards (Ultra96-V2 through the Zynq HP ports, Alveo U250 as an XRT kernel):
//   params       m_axi  the parameter blob of compsparse.hls_params (read when load_params != 0;
//                       the dense stand-in also streams its linear weights from it every clip)
//   input        m_axi  n_clips x CsIn::WORDS words: int8 inputs in (c, h, w) order, 8 per
//                       word, each clip starting on a word boundary
//   logits       m_axi  n_clips x CsOut::WORDS words: int32 logits, two per word
//   n_clips      s_axilite  clips to run (0 with load_params = 1 only loads)
//   load_params  s_axilite  copy the weights into on-chip memory first (once per model)
//   return       s_axilite  ap_ctrl_hs: ap_start / ap_done / ap_idle
#ifndef CS_TOPS_H
#define CS_TOPS_H

#include "cs_types.h"

void cs_dense(const word_t *params, const word_t *input, word_t *logits, int n_clips,
              int load_params);
void cs_sparse_dense(const word_t *params, const word_t *input, word_t *logits, int n_clips,
                     int load_params);
void cs_sparse_sparse(const word_t *params, const word_t *input, word_t *logits, int n_clips,
                      int load_params);

#endif
