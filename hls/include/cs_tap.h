// compsparse HLS kernels: debug taps for C simulation.
// SPDX-License-Identifier: BSD-3-Clause
//
// CS_TAP(layer, what, index, value) records one intermediate value (an accumulator, a pooled
// accumulator, a requantised output or a k-WTA winner) so that C simulation can compare every
// layer with compsparse's golden model. Synthesis defines __SYNTHESIS__, and the taps vanish:
// they add no ports and no logic. The recording function lives in hls/csim/tap.cpp, which only
// C simulation compiles (g++ here, or Vitis HLS csim_design as a testbench file).
#ifndef CS_TAP_H
#define CS_TAP_H

enum cs_tap_what { CS_TAP_ACC = 0, CS_TAP_POOLED = 1, CS_TAP_OUT = 2, CS_TAP_ACTIVE = 3 };

#ifndef __SYNTHESIS__
void cs_tap(int layer, int what, int index, int value);
#define CS_TAP(layer, what, index, value) cs_tap((layer), (what), (int)(index), (int)(value))
#else
#define CS_TAP(layer, what, index, value)
#endif

#endif
