// compsparse HLS top: the dense network, a stand-in for the paper's baseline.
// SPDX-License-Identifier: BSD-3-Clause
//
// The paper ran its dense network on Xilinx's Vitis AI DPU, not on HLS. This top is a plain
// HLS dense engine over the same integer pipeline (the dense kernels of the exported model),
// so that all three variants can be checked bit for bit and compared on one footing; its speed
// says nothing about the DPU's. Conv weights live on chip; the linear layers' 2.4 MB of weights
// are streamed from DDR every clip (they do not fit a ZU3EG).
#include "cs_config.h"
#if CS_VARIANT != CS_VARIANT_DENSE
#error "cs_config.h was generated for another variant: run compsparse hls-params --variant dense"
#endif
#include "cs_conv.h"
#include "cs_linear.h"
#include "cs_load.h"
#include "cs_tops.h"

typedef CsL1 L1;
typedef CsL2 L2;
typedef CsL3 L3;
typedef CsL4 L4;

void cs_dense(const word_t *params, const word_t *input, word_t *logits, int n_clips,
              int load_params) {
#pragma HLS INTERFACE mode=m_axi port=params offset=slave bundle=gmem0 depth=CS_PARAM_WORDS
#pragma HLS INTERFACE mode=m_axi port=input offset=slave bundle=gmem1 depth=CS_INPUT_DEPTH
#pragma HLS INTERFACE mode=m_axi port=logits offset=slave bundle=gmem1 depth=CS_OUTPUT_DEPTH
#pragma HLS INTERFACE mode=s_axilite port=params
#pragma HLS INTERFACE mode=s_axilite port=input
#pragma HLS INTERFACE mode=s_axilite port=logits
#pragma HLS INTERFACE mode=s_axilite port=n_clips
#pragma HLS INTERFACE mode=s_axilite port=load_params
#pragma HLS INTERFACE mode=s_axilite port=return

  // Conv weights on chip, [input position][output channel]: one row feeds all C_OUT MACs.
  static wgt_t w1[L1::ROWS][L1::G];
  static wgt_t w2[L2::ROWS][L2::G];
#pragma HLS ARRAY_RESHAPE variable=w1 type=complete dim=2
#pragma HLS ARRAY_RESHAPE variable=w2 type=complete dim=2
  static channel_params<L1::C_PAD> p1;
  static channel_params<L2::C_PAD> p2;
  static channel_params<L3::C_PAD> p3;
  static channel_params<L4::C_PAD> p4;

  if (load_params) {
    load_weights<L1::ROWS, L1::G>(params, L1::W_OFF, w1);
    load_weights<L2::ROWS, L2::G>(params, L2::W_OFF, w2);
    load_channel_params<L1>(params, p1);
    load_channel_params<L2>(params, p2);
    load_channel_params<L3>(params, p3);
    load_channel_params<L4>(params, p4);
  }

clips:
  for (int n = 0; n < n_clips; n++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=1
    in_t x0[CsIn::C][CsIn::H][CsIn::W];
    act_t a1[L1::C_OUT][L1::PH][L1::PW];
    act_t a2[L2::C_OUT * L2::PH * L2::PW];  // flattened in (c, h, w) order for linear1
    acc_t acc3[L3::G][L3::NPG];
    act_t y3[L3::C_OUT];
    acc_t acc4[L4::G][L4::NPG];
    // 8 weights arrive per bus word, so 8 accumulators must be written per cycle.
#pragma HLS ARRAY_PARTITION variable=acc3 type=cyclic factor=8 dim=1
#pragma HLS ARRAY_PARTITION variable=acc4 type=cyclic factor=8 dim=1

    read_input<CsIn>(input + n * CsIn::WORDS, x0);
    conv_dense<L1>(x0, w1, p1, a1);
    conv_dense<L2>(a1, w2, p2, a2);
    linear_dense<L3>(a2, params, p3, acc3);
    requant_vector<L3>(acc3, p3, y3);
    linear_dense<L4>(y3, params, p4, acc4);
    store_logits<L4>(acc4, logits + n * CsOut::WORDS);
  }
}
