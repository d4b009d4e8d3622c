package org.peerdma.pci.imports.own;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

/** Jackson mix-ins giving the API's plain DTOs the file's number spellings and field order. */
final class Mixins {
    private Mixins() {
    }

    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    @JsonPropertyOrder({"name", "source", "format", "arch", "cpu", "kernelRelease", "cmdline", "hostBridges", "devices", "notes"})
    abstract static class Machine {
    }

    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    abstract static class Cpu {
    }

    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    @JsonPropertyOrder({"name", "domain", "bus", "busEnd", "numaNode", "windows"})
    abstract static class HostBridge {
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public int domain;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public int bus;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer busEnd;
    }

    @JsonInclude(JsonInclude.Include.NON_DEFAULT)
    @JsonPropertyOrder({"cpuStart", "size", "offset", "io", "prefetchable"})
    abstract static class Window {
        @JsonSerialize(using = Numbers.HexLong.class)
        @JsonDeserialize(using = Numbers.LongIn.class)
        public long cpuStart;
        @JsonSerialize(using = Numbers.Size.class)
        @JsonDeserialize(using = Numbers.LongIn.class)
        public long size;
        @JsonSerialize(using = Numbers.HexLong.class)
        @JsonDeserialize(using = Numbers.LongIn.class)
        public long offset;
    }

    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    @JsonPropertyOrder({"bdf", "vendor", "device", "subsystemVendor", "subsystemDevice", "classCode", "revision",
        "headerType", "multifunction", "portType", "secondaryBus", "subordinateBus", "vendorName", "deviceName",
        "className", "numaNode", "physfn", "driver", "linkSpeed", "linkWidth", "linkCapSpeed", "linkCapWidth",
        "command", "status", "devCap", "devCtl", "devSta", "lnkCap", "lnkSta", "bars", "bridgeWindows",
        "capabilities", "extendedCapsKnown", "acs", "notes"})
    abstract static class Device {
        @JsonDeserialize(using = Numbers.Address.class)
        public String bdf;
        @JsonDeserialize(using = Numbers.Address.class)
        public String physfn;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer vendor;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer device;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer subsystemVendor;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer subsystemDevice;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer classCode;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer revision;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer secondaryBus;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer subordinateBus;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer command;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer status;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer devCap;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer devCtl;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer devSta;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer lnkCap;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer lnkSta;
    }

    @JsonInclude(JsonInclude.Include.NON_DEFAULT)
    @JsonPropertyOrder({"index", "start", "size", "busStart", "io", "prefetchable", "mem64", "disabled"})
    abstract static class Bar {
        @JsonInclude(JsonInclude.Include.ALWAYS)
        public int index;
        @JsonSerialize(using = Numbers.HexLong.class)
        @JsonDeserialize(using = Numbers.LongIn.class)
        public Long start;
        @JsonSerialize(using = Numbers.Size.class)
        @JsonDeserialize(using = Numbers.LongIn.class)
        public long size;
        @JsonSerialize(using = Numbers.HexLong.class)
        @JsonDeserialize(using = Numbers.LongIn.class)
        public Long busStart;
    }

    @JsonInclude(JsonInclude.Include.NON_DEFAULT)
    @JsonPropertyOrder({"extended", "id", "offset", "version"})
    abstract static class Cap {
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        @JsonInclude(JsonInclude.Include.ALWAYS)
        public int id;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        @JsonInclude(JsonInclude.Include.ALWAYS)
        public int offset;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"offset", "cap", "ctrl"})
    abstract static class AcsMix {
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer offset;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer cap;
        @JsonSerialize(using = Numbers.HexInt.class)
        @JsonDeserialize(using = Numbers.IntIn.class)
        public Integer ctrl;
    }
}
