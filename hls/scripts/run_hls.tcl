# compsparse: the Vitis HLS flow for one top (C simulation, synthesis, co-simulation, export).
# SPDX-License-Identifier: BSD-3-Clause
#
# usage (Vitis HLS 2022.1, the version of the Ultra96-V2 PYNQ 3.0.1 image):
#   vitis_hls -f hls/scripts/run_hls.tcl -tclargs VARIANT PART CLOCK_NS [FLOW] [STEPS] [GENERATED]
#     VARIANT    dense | sparse-dense | sparse-sparse
#     PART       xczu3eg-sbva484-1-i (Ultra96-V2) | xcu250-figd2104-2L-e (Alveo U250)
#     CLOCK_NS   target clock period in ns, e.g. 5 (200 MHz)
#     FLOW       vivado (IP catalog, for the Zynq block design; default) | vitis (.xo for v++)
#     STEPS      any of "csim csynth cosim export" (default: all four)
#     GENERATED  folder with cs_config.h, cs_sort8.h, params.bin, golden.bin
#                (default hls/generated/VARIANT: `make -C hls params-VARIANT` writes it)
# Newer tools run the same script with `vitis-run --mode hls --tcl run_hls.tcl`.
# Outputs: hls/build/vitis/<top>_<flow>/ (the project) and, for export, the IP catalog folder
# <project>/sol/impl/ip (vivado flow) or hls/build/vitis/<top>.xo (vitis flow).

set here [file dirname [file normalize [info script]]]
set hls_root [file dirname $here]

if {[llength $argv] < 3} {
    puts "usage: vitis_hls -f run_hls.tcl -tclargs VARIANT PART CLOCK_NS \[FLOW\] \[STEPS\] \[GENERATED\]"
    exit 1
}
set variant [lindex $argv 0]
set part [lindex $argv 1]
set clock_ns [lindex $argv 2]
set flow [expr {[llength $argv] > 3 ? [lindex $argv 3] : "vivado"}]
set steps [expr {[llength $argv] > 4 ? [lindex $argv 4] : "csim csynth cosim export"}]
set generated [expr {[llength $argv] > 5 ? [lindex $argv 5] : "$hls_root/generated/$variant"}]

set tops [dict create dense cs_dense sparse-dense cs_sparse_dense sparse-sparse cs_sparse_sparse]
if {![dict exists $tops $variant]} {
    error "unknown variant '$variant': use dense, sparse-dense or sparse-sparse"
}
if {$flow ni {vivado vitis}} {
    error "unknown flow '$flow': use vivado (Zynq IP) or vitis (Alveo .xo)"
}
foreach step $steps {
    if {$step ni {csim csynth cosim export}} { error "unknown step '$step'" }
}
set top [dict get $tops $variant]
foreach f {cs_config.h cs_sort8.h params.bin golden.bin} {
    if {![file exists [file join $generated $f]]} {
        error "$generated/$f is missing: run `make -C hls params-$variant` first"
    }
}

# Our headers and the generated ones; Vitis brings its own ap_int.h and hls_stream.h (the
# copies under hls/csim/include are for g++ only and must not be on this path).
set cflags "-std=c++14 -I$hls_root/include -I$generated"
set build [file join $hls_root build vitis]
file mkdir $build

open_project -reset [file join $build ${top}_$flow]
set_top $top
add_files [file join $hls_root kernels $top.cpp] -cflags $cflags
add_files -tb [file join $hls_root tb tb_main.cpp] -cflags $cflags
add_files -tb [file join $hls_root csim tap.cpp] -cflags $cflags
open_solution -reset sol -flow_target $flow
set_part $part
create_clock -period $clock_ns -name default

# The testbench reads GENERATED; co-simulation runs at most the clips the m_axi depth allows.
if {"csim" in $steps} { csim_design -argv $generated }
if {"csynth" in $steps} { csynth_design }
if {"cosim" in $steps} { cosim_design -argv "$generated 4" }
if {"export" in $steps} {
    if {$flow eq "vitis"} {
        export_design -format xo -output [file join $build $top.xo]
    } else {
        export_design -format ip_catalog -vendor compsparse.org -library hls -version 1.0
    }
}
exit
