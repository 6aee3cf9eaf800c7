import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  classifyEsr,
  decodeEsr,
  ecName,
  fscName,
  isHexU64,
} from "@/server/ingest/decode-esr";

// ESR with EC, IL = 32 bits and the given ISS, as 16 hex digits
function esr(ec: number, iss: number, il = 1): string {
  const v = (BigInt(ec) << 26n) | (BigInt(il) << 25n) | BigInt(iss);
  return `0x${v.toString(16).padStart(16, "0")}`;
}
const dabt = (fsc: number, extra = 0) => esr(0x24, extra | fsc);
const serror = (dfsc: number, aet: number, ids = 0, extra = 0) =>
  esr(0x2f, (ids << 24) | (aet << 10) | extra | dfsc);

describe("decodeEsr", () => {
  it("decodes the spec's example exactly", () => {
    expect(decodeEsr("0x0000000092000010")).toEqual({
      value: "0x0000000092000010",
      ec: "0x24",
      ecName: "DABT (lower EL)",
      il: 32,
      fsc: "0x10",
      fscName: "synchronous external abort",
      ea: 0,
      fnv: 0,
      s1ptw: 0,
      wnr: 0,
      cm: 0,
      set: 0,
      errorState: "UER",
      ids: null,
      notReported: [],
    });
  });

  it("decodes the tester's KVM_EXIT_ARM_SEA sample 0x92000610 (FnV=1, EA=1, FSC 0x10)", () => {
    expect(decodeEsr("0x92000610")).toEqual({
      value: "0x0000000092000610",
      ec: "0x24",
      ecName: "DABT (lower EL)",
      il: 32,
      fsc: "0x10",
      fscName: "synchronous external abort",
      ea: 1,
      fnv: 1,
      s1ptw: 0,
      wnr: 0,
      cm: 0,
      set: 0,
      errorState: "UER",
      ids: null,
      notReported: [],
    });
  });

  it("accepts 8-digit, 16-digit, short and upper-case input alike", () => {
    const a = decodeEsr("0x92000610");
    expect(decodeEsr("0x0000000092000610")).toEqual(a);
    expect(decodeEsr("0X92000610")).toEqual(a);
    expect(
      decodeEsr("0x0000000092000610".toUpperCase().replace("0X", "0x")),
    ).toEqual(a);
    expect(decodeEsr("0x1").value).toBe("0x0000000000000001");
    expect(decodeEsr("0xFFFFFFFFFFFFFFFF").value).toBe("0xffffffffffffffff");
  });

  it("keeps ISS2 and the RES0 top byte in value, and decodes the low 32 bits unaffected", () => {
    const d = decodeEsr("0x0000008092000610");
    expect(d.value).toBe("0x0000008092000610");
    expect(d.ec).toBe("0x24");
    expect(d.fsc).toBe("0x10");
  });

  it("reads IL as 16 bits when bit 25 is clear", () => {
    expect(decodeEsr(esr(0x24, 0x10, 0)).il).toBe(16);
    expect(decodeEsr(esr(0x24, 0x10, 1)).il).toBe(32);
  });

  it.each([
    "92000610",
    "0x",
    "0xZZ",
    "0x12345678901234567",
    " 0x1",
    "0x1 ",
    "-0x1",
    "0x-1",
    "",
    "0b101",
    "1e3",
  ])("throws on %j", (s) => {
    expect(isHexU64(s)).toBe(false);
    expect(() => decodeEsr(s)).toThrow();
  });

  it("isHexU64 accepts 1-16 hex digits after 0x in any case and nothing else", () => {
    expect(isHexU64("0x0")).toBe(true);
    expect(isHexU64("0xAbCdEf0123456789")).toBe(true);
    expect(isHexU64(12)).toBe(false);
    expect(isHexU64(null)).toBe(false);
  });
});

describe("memory-error FSCs (fault.c fault_info names)", () => {
  const table: [number, string][] = [
    [0x10, "synchronous external abort"],
    [0x12, "unknown 18"],
    [0x13, "level -1 (translation table walk)"],
    [0x14, "level 0 (translation table walk)"],
    [0x15, "level 1 (translation table walk)"],
    [0x16, "level 2 (translation table walk)"],
    [0x17, "level 3 (translation table walk)"],
    [0x18, "synchronous parity or ECC error"],
    [0x1b, "level -1 synchronous parity error (translation table walk)"],
    [0x1c, "level 0 synchronous parity error (translation table walk)"],
    [0x1d, "level 1 synchronous parity error (translation table walk)"],
    [0x1e, "level 2 synchronous parity error (translation table walk)"],
    [0x1f, "level 3 synchronous parity error (translation table walk)"],
  ];
  it.each(table)("FSC %i (decimal) is named %s", (fsc, name) => {
    const d = decodeEsr(dabt(fsc));
    expect(d.fsc).toBe(`0x${fsc.toString(16).padStart(2, "0")}`);
    expect(d.fscName).toBe(name);
    expect(fscName(fsc)).toBe(name);
  });

  it("classifies each memory-error FSC with its table-walk level", () => {
    expect(classifyEsr(decodeEsr(dabt(0x10)))).toEqual({
      kind: "sea",
      ttwLevel: null,
    });
    for (const [fsc, level] of [
      [0x12, -2],
      [0x13, -1],
      [0x14, 0],
      [0x15, 1],
      [0x16, 2],
      [0x17, 3],
    ] as const) {
      expect(classifyEsr(decodeEsr(dabt(fsc)))).toEqual({
        kind: "sea_ttw",
        ttwLevel: level,
      });
    }
    expect(classifyEsr(decodeEsr(dabt(0x18)))).toEqual({
      kind: "parity_ecc",
      ttwLevel: null,
    });
    for (const [fsc, level] of [
      [0x1b, -1],
      [0x1c, 0],
      [0x1d, 1],
      [0x1e, 2],
      [0x1f, 3],
    ] as const) {
      expect(classifyEsr(decodeEsr(dabt(fsc)))).toEqual({
        kind: "parity_ecc_ttw",
        ttwLevel: level,
      });
    }
    expect(classifyEsr(decodeEsr(esr(0x20, 0x10)))).toEqual({
      kind: "sea",
      ttwLevel: null,
    });
    expect(classifyEsr(decodeEsr(dabt(0x07)))).toEqual({
      kind: "other",
      ttwLevel: null,
    });
    expect(classifyEsr(decodeEsr(dabt(0x11)))).toEqual({
      kind: "other",
      ttwLevel: null,
    });
    expect(classifyEsr(decodeEsr(esr(0x15, 0)))).toEqual({
      kind: "other",
      ttwLevel: null,
    });
    expect(classifyEsr(decodeEsr(serror(0x11, 0)))).toEqual({
      kind: "serror",
      ttwLevel: null,
    });
  });

  it("names the rest of the table as v6.19 prints it, with unknown N (decimal) for unassigned codes", () => {
    expect(fscName(0x00)).toBe("ttbr address size fault");
    expect(fscName(0x03)).toBe("level 3 address size fault");
    expect(fscName(0x04)).toBe("level 0 translation fault");
    expect(fscName(0x0b)).toBe("level 3 access flag fault");
    expect(fscName(0x0f)).toBe("level 3 permission fault");
    expect(fscName(0x11)).toBe("synchronous tag check fault");
    expect(fscName(0x21)).toBe("alignment fault");
    expect(fscName(0x29)).toBe("level -1 address size fault");
    expect(fscName(0x2b)).toBe("level -1 translation fault");
    expect(fscName(0x30)).toBe("TLB conflict abort");
    expect(fscName(0x31)).toBe("Unsupported atomic hardware update fault");
    expect(fscName(0x34)).toBe("implementation fault (lockdown abort)");
    expect(fscName(0x35)).toBe("implementation fault (unsupported exclusive)");
    expect(fscName(0x3d)).toBe("section domain fault");
    expect(fscName(0x3e)).toBe("page domain fault");
    for (const n of [
      18, 25, 26, 32, 34, 35, 36, 37, 38, 39, 40, 42, 44, 45, 46, 47, 50, 51,
      54, 55, 56, 57, 58, 59, 60, 63,
    ]) {
      expect(fscName(n)).toBe(`unknown ${n}`);
    }
    expect(decodeEsr(dabt(0x19)).fscName).toBe("unknown 25");
    expect(decodeEsr(dabt(0x25)).fscName).toBe("unknown 37");
  });
});

describe("abort ISS fields", () => {
  it.each([
    [0, "UER"],
    [1, "reserved"],
    [2, "UC"],
    [3, "UEO"],
  ] as const)("SET = %i with FSC 0x10 is %s", (set, state) => {
    const d = decodeEsr(dabt(0x10, set << 11));
    expect(d.set).toBe(set);
    expect(d.errorState).toBe(state);
  });

  it("reports SET raw but no error state unless FSC is 0x10", () => {
    for (const fsc of [0x13, 0x18, 0x1c, 0x04]) {
      const d = decodeEsr(dabt(fsc, 2 << 11));
      expect(d.set).toBe(2);
      expect(d.errorState).toBeNull();
    }
  });

  it("reads each bit on its own", () => {
    const bits = { s1ptw: 7, cm: 8, ea: 9, fnv: 10, wnr: 6 } as const;
    for (const [name, n] of Object.entries(bits)) {
      const d = decodeEsr(dabt(0x10, 1 << n));
      for (const other of Object.keys(bits)) {
        expect(d[other as keyof typeof bits]).toBe(other === name ? 1 : 0);
      }
    }
  });

  it("has no CM for instruction aborts, even with bit 8 set (Linux prints CM only for data aborts)", () => {
    expect(decodeEsr(esr(0x20, (1 << 8) | 0x10)).cm).toBeNull();
    expect(decodeEsr(esr(0x21, (1 << 8) | 0x10)).cm).toBeNull();
    expect(decodeEsr(esr(0x24, (1 << 8) | 0x10)).cm).toBe(1);
    expect(decodeEsr(esr(0x25, 0x10)).cm).toBe(0);
  });

  it("has no WnR for instruction aborts, and WnR for data aborts", () => {
    const iabtLow = decodeEsr(esr(0x20, (1 << 6) | 0x10));
    expect(iabtLow.ecName).toBe("IABT (lower EL)");
    expect(iabtLow.wnr).toBeNull();
    expect(iabtLow.fsc).toBe("0x10");
    expect(iabtLow.errorState).toBe("UER");
    const iabtCur = decodeEsr(esr(0x21, 0x10));
    expect(iabtCur.ecName).toBe("IABT (current EL)");
    expect(iabtCur.wnr).toBeNull();
    expect(iabtCur.cm).toBeNull();
    expect(decodeEsr(esr(0x24, (1 << 6) | 0x10)).wnr).toBe(1);
    const dabtCur = decodeEsr(esr(0x25, (1 << 6) | 0x10));
    expect(dabtCur.ecName).toBe("DABT (current EL)");
    expect(dabtCur.wnr).toBe(1);
  });
});

describe("KVM_EXIT_ARM_SEA: the bits KVM masks out are not reported", () => {
  const MASKED = [
    "isv",
    "sas",
    "sse",
    "srt",
    "sf",
    "ar",
    "vncr",
    "s1ptw",
    "iss2",
  ];
  const kvm = (hex: string) => decodeEsr(hex, { from: "kvm_exit_arm_sea" });

  it("marks ISV, SAS…AR, VNCR, S1PTW, ISS2 and a zero SET as not reported, and shows no value for them", () => {
    const d = kvm("0x0000000092000010");
    expect(d).toMatchObject({
      fsc: "0x10",
      ea: 0,
      fnv: 0,
      wnr: 0,
      cm: 0,
      s1ptw: null,
      set: null,
      errorState: null,
    });
    expect(d.notReported).toEqual([...MASKED, "set"]);
  });

  it("keeps what KVM keeps: EC, IL, FnV, EA, CM, WnR, FSC", () => {
    const d = kvm("0x0000000092000750"); // FnV, EA, CM, WnR set; FSC 0x10
    expect(d).toMatchObject({
      ec: "0x24",
      il: 32,
      fnv: 1,
      ea: 1,
      cm: 1,
      wnr: 1,
      fsc: "0x10",
    });
  });

  it("reports a non-zero SET (only a guest with FEAT_RAS gets it) with its error state", () => {
    const d = kvm(dabt(0x10, 3 << 11));
    expect([d.set, d.errorState]).toEqual([3, "UEO"]);
    expect(d.notReported).toEqual(MASKED);
  });

  it("does not show a stray S1PTW bit as a fact", () => {
    expect(kvm(dabt(0x10, 1 << 7)).s1ptw).toBeNull();
    expect(decodeEsr(dabt(0x10, 1 << 7)).s1ptw).toBe(1);
  });

  it("decodes an instruction abort from the exit without CM or WnR", () => {
    const d = kvm(esr(0x20, (1 << 8) | (1 << 6) | 0x10));
    expect([d.ecName, d.cm, d.wnr, d.s1ptw]).toEqual([
      "IABT (lower EL)",
      null,
      null,
      null,
    ]);
    expect(d.notReported).toContain("s1ptw");
  });
});

describe("SError (EC 0x2F)", () => {
  it.each([
    [0b000, "UC"],
    [0b001, "UEU"],
    [0b010, "UEO"],
    [0b011, "UER"],
    [0b110, "CE"],
    [0b100, "reserved"],
    [0b101, "reserved"],
    [0b111, "reserved"],
  ] as const)("AET %i with DFSC 0x11 and IDS 0 is %s", (aet, state) => {
    const d = decodeEsr(serror(0x11, aet));
    expect(d.ec).toBe("0x2f");
    expect(d.ecName).toBe("SError");
    expect(d.fsc).toBe("0x11");
    expect(d.fscName).toBe("asynchronous SError interrupt");
    expect(d.errorState).toBe(state);
    expect([d.set, d.fnv, d.s1ptw, d.wnr, d.cm]).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
  });

  it("exposes IDS, and with IDS = 1 (implementation-defined syndrome) gives no DFSC, name, EA or error state", () => {
    const d = decodeEsr(serror(0x11, 0b011, 1, 1 << 9));
    expect(d).toMatchObject({
      ec: "0x2f",
      ecName: "SError",
      ids: 1,
      fsc: null,
      fscName: null,
      ea: null,
      errorState: null,
    });
    expect(decodeEsr(serror(0x00, 0, 1)).fscName).toBeNull();
    expect(decodeEsr(serror(0x11, 0b011)).ids).toBe(0);
    expect(decodeEsr(dabt(0x10, 1 << 24)).ids).toBeNull();
  });

  it("has no error state unless DFSC is 0x11", () => {
    const d = decodeEsr(serror(0x00, 0b011));
    expect(d.fsc).toBe("0x00");
    expect(d.fscName).toBe("uncategorized");
    expect(d.errorState).toBeNull();
    const other = decodeEsr(serror(0x05, 0b000));
    expect(other.fscName).toBe("unknown 5");
    expect(other.errorState).toBeNull();
  });

  it("reads EA from bit 9", () => {
    expect(decodeEsr(serror(0x11, 0, 0, 1 << 9)).ea).toBe(1);
    expect(decodeEsr(serror(0x11, 0)).ea).toBe(0);
  });

  it("decodes real panic codes: 0xbe000011 is an uncontainable RAS SError, 0xbf000002 is IMP DEF", () => {
    const ras = decodeEsr("0xbe000011");
    expect([ras.ecName, ras.fscName, ras.errorState]).toEqual([
      "SError",
      "asynchronous SError interrupt",
      "UC",
    ]);
    const impdef = decodeEsr("0xbf000002");
    expect([
      impdef.ecName,
      impdef.ids,
      impdef.fsc,
      impdef.fscName,
      impdef.errorState,
    ]).toEqual(["SError", 1, null, null, null]);
  });
});

describe("exception classes (traps.c esr_class_str names)", () => {
  const named: Record<number, string> = {
    0x00: "Unknown/Uncategorized",
    0x01: "WFI/WFE",
    0x03: "CP15 MCR/MRC",
    0x04: "CP15 MCRR/MRRC",
    0x05: "CP14 MCR/MRC",
    0x06: "CP14 LDC/STC",
    0x07: "ASIMD",
    0x08: "CP10 MRC/VMRS",
    0x09: "PAC",
    0x0c: "CP14 MCRR/MRRC",
    0x0d: "BTI",
    0x0e: "PSTATE.IL",
    0x11: "SVC (AArch32)",
    0x12: "HVC (AArch32)",
    0x13: "SMC (AArch32)",
    0x15: "SVC (AArch64)",
    0x16: "HVC (AArch64)",
    0x17: "SMC (AArch64)",
    0x18: "MSR/MRS (AArch64)",
    0x19: "SVE",
    0x1a: "ERET/ERETAA/ERETAB",
    0x1c: "FPAC",
    0x1d: "SME",
    0x1f: "EL3 IMP DEF",
    0x20: "IABT (lower EL)",
    0x21: "IABT (current EL)",
    0x22: "PC Alignment",
    0x24: "DABT (lower EL)",
    0x25: "DABT (current EL)",
    0x26: "SP Alignment",
    0x27: "MOPS",
    0x28: "FP (AArch32)",
    0x2c: "FP (AArch64)",
    0x2d: "Guarded Control Stack",
    0x2f: "SError",
    0x30: "Breakpoint (lower EL)",
    0x31: "Breakpoint (current EL)",
    0x32: "Software Step (lower EL)",
    0x33: "Software Step (current EL)",
    0x34: "Watchpoint (lower EL)",
    0x35: "Watchpoint (current EL)",
    0x38: "BKPT (AArch32)",
    0x3a: "Vector catch (AArch32)",
    0x3c: "BRK (AArch64)",
  };

  it("names all 64 classes, UNRECOGNIZED EC where Linux has no entry (incl. 0x0A EC_OTHER)", () => {
    for (let ec = 0; ec < 64; ec++) {
      const want = named[ec] ?? "UNRECOGNIZED EC";
      expect(ecName(ec)).toBe(want);
      const d = decodeEsr(esr(ec, 0));
      expect(d.ec).toBe(`0x${ec.toString(16).padStart(2, "0")}`);
      expect(d.ecName).toBe(want);
    }
    expect(ecName(0x0a)).toBe("UNRECOGNIZED EC");
  });

  it("gives unassigned and non-abort classes all-null abort fields", () => {
    for (const ec of [0x02, 0x0a, 0x23, 0x3f, 0x15, 0x3c]) {
      const d = decodeEsr(esr(ec, 0x1ffffff));
      expect([
        d.fsc,
        d.fscName,
        d.ea,
        d.fnv,
        d.s1ptw,
        d.wnr,
        d.cm,
        d.set,
        d.errorState,
      ]).toEqual([null, null, null, null, null, null, null, null, null]);
    }
    expect(decodeEsr(esr(0x3f, 0)).ecName).toBe("UNRECOGNIZED EC");
  });
});

describe("decodeEsr properties", () => {
  it("decodes every 64-bit value without throwing, consistently with its bits", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
        const d = decodeEsr(`0x${v.toString(16)}`);
        expect(BigInt(d.value)).toBe(v);
        expect(d.value).toMatch(/^0x[0-9a-f]{16}$/);
        expect(Number.parseInt(d.ec, 16)).toBe(Number((v >> 26n) & 0x3fn));
        expect(d.ec).toMatch(/^0x[0-9a-f]{2}$/);
        const abort = [0x20, 0x21, 0x24, 0x25].includes(
          Number((v >> 26n) & 0x3fn),
        );
        if (abort) {
          expect(Number.parseInt(d.fsc!, 16)).toBe(Number(v & 0x3fn));
          expect(d.set).toBe(Number((v >> 11n) & 3n));
        }
        if (d.fsc === null) expect(d.fscName).toBeNull();
        else expect(d.fscName).toBeTypeOf("string");
      }),
    );
  });
});
