# compsparse: Vivado block design and bitstream for the Ultra96-V2 (Zynq UltraScale+ ZU3EG).
# SPDX-License-Identifier: BSD-3-Clause
#
# usage (Vivado 2022.1, matching the Ultra96-V2 PYNQ 3.0.1 image):
#   vivado -mode batch -source hls/boards/ultra96v2/build_bitstream.tcl -tclargs VARIANT [PL_MHZ] [IP_REPO]
#     PL_MHZ   the PL clock (default 200, i.e. the 5 ns of run_hls.tcl's default)
#     IP_REPO  the exported HLS IP (default hls/build/vitis/<top>_vivado/sol/impl/ip)
# First export the HLS IP:  make -C hls hls VARIANTS=VARIANT FLOW=vivado  (or run_hls.tcl).
# Needs the Avnet Ultra96-V2 board files (Vivado: Tools > Vivado Store > Boards), which set up
# the PS (DDR4 timing of the V2 board, clocks, MIO): the PS is not configured by hand here.
#
# The design: the HLS top's AXI4-Lite control port on the PS master HPM0_FPD (PYNQ writes the
# buffer addresses and ap_start there), its two m_axi ports (gmem0: parameters, gmem1: inputs
# and logits) on the PS slave ports HP0_FPD and HP1_FPD, so the kernel reads and writes DDR
# directly and no AXI DMA is needed. Writes build/ultra96v2/cs_VARIANT.bit and .hwh (PYNQ's
# Overlay needs both, under the same base name).

set here [file dirname [file normalize [info script]]]
set hls_root [file dirname [file dirname $here]]

if {[llength $argv] < 1} {
    puts "usage: vivado -mode batch -source build_bitstream.tcl -tclargs VARIANT \[PL_MHZ\] \[IP_REPO\]"
    exit 1
}
set variant [lindex $argv 0]
set pl_mhz [expr {[llength $argv] > 1 ? [lindex $argv 1] : 200}]
set tops [dict create dense cs_dense sparse-dense cs_sparse_dense sparse-sparse cs_sparse_sparse]
if {![dict exists $tops $variant]} {
    error "unknown variant '$variant': use dense, sparse-dense or sparse-sparse"
}
set top [dict get $tops $variant]
set part xczu3eg-sbva484-1-i
set ip_repo [expr {[llength $argv] > 2 ? [lindex $argv 2] : [file join $hls_root build vitis ${top}_vivado sol impl ip]}]
if {![file isdirectory $ip_repo]} {
    error "no HLS IP in $ip_repo: run `make -C hls hls VARIANTS=$variant FLOW=vivado` first"
}
set out [file join $hls_root build ultra96v2]
set design cs_bd

create_project -force cs_$variant [file join $out vivado_$variant] -part $part
set board [lindex [get_board_parts -quiet -latest_file_version {*ultra96v2*}] 0]
if {$board eq ""} {
    error "Ultra96-V2 board files not found: install them from the Vivado Store (Avnet)"
}
set_property board_part $board [current_project]
set_property ip_repo_paths [list $ip_repo] [current_project]
update_ip_catalog

create_bd_design $design
set ps [create_bd_cell -type ip -vlnv xilinx.com:ip:zynq_ultra_ps_e zynq_ultra_ps_e_0]
apply_bd_automation -rule xilinx.com:bd_rule:zynq_ultra_ps_e -config {apply_board_preset "1"} $ps
set_property -dict [list \
    CONFIG.PSU__USE__M_AXI_GP0 {1} \
    CONFIG.PSU__USE__M_AXI_GP1 {0} \
    CONFIG.PSU__USE__S_AXI_GP2 {1} \
    CONFIG.PSU__USE__S_AXI_GP3 {1} \
    CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ $pl_mhz \
] $ps
set kernel [create_bd_cell -type ip -vlnv compsparse.org:hls:$top:1.0 ${top}_0]

# control: PS master -> s_axi_control; data: m_axi_gmem0/1 -> PS slaves HP0/HP1 (full DDR)
apply_bd_automation -rule xilinx.com:bd_rule:axi4 \
    -config {Master "/zynq_ultra_ps_e_0/M_AXI_HPM0_FPD" Clk "Auto"} \
    [get_bd_intf_pins ${top}_0/s_axi_control]
apply_bd_automation -rule xilinx.com:bd_rule:axi4 \
    -config [list Slave "/zynq_ultra_ps_e_0/S_AXI_HP0_FPD" Clk "Auto"] \
    [get_bd_intf_pins ${top}_0/m_axi_gmem0]
apply_bd_automation -rule xilinx.com:bd_rule:axi4 \
    -config [list Slave "/zynq_ultra_ps_e_0/S_AXI_HP1_FPD" Clk "Auto"] \
    [get_bd_intf_pins ${top}_0/m_axi_gmem1]
assign_bd_address
validate_bd_design
save_bd_design

set bd_file [get_files $design.bd]
make_wrapper -files $bd_file -top
set wrapper [file join $out vivado_$variant cs_$variant.gen sources_1 bd $design hdl ${design}_wrapper.v]
add_files -norecurse $wrapper
set_property top ${design}_wrapper [current_fileset]

launch_runs impl_1 -to_step write_bitstream -jobs 4
wait_on_run impl_1
if {[get_property PROGRESS [get_runs impl_1]] ne "100%"} {
    error "implementation failed: see [file join $out vivado_$variant cs_$variant.runs impl_1]"
}

set bit [file join $out vivado_$variant cs_$variant.runs impl_1 ${design}_wrapper.bit]
set hwh [file join $out vivado_$variant cs_$variant.gen sources_1 bd $design hw_handoff $design.hwh]
file copy -force $bit [file join $out cs_$variant.bit]
file copy -force $hwh [file join $out cs_$variant.hwh]
puts "wrote [file join $out cs_$variant.bit] and .hwh"
exit
