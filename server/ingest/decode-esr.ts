// arm64 ESR_ELx decoding into the log entry's jsonPayload.esr shape (spec.md, domain.md §3).

export type Bit = 0 | 1;
export type EsrErrorState = "UER" | "UC" | "UEO" | "reserved" | "UEU" | "CE";

export type DecodedEsr = {
  value: string;
  ec: string;
  ecName: string;
  il: 16 | 32;
  fsc: string | null;
  fscName: string | null;
  ea: Bit | null;
  fnv: Bit | null;
  s1ptw: Bit | null;
  wnr: Bit | null;
  cm: Bit | null;
  set: number | null;
  errorState: EsrErrorState | null;
  /** SError only: 1 = implementation-defined syndrome, nothing below bit 24 is architectural */
  ids: Bit | null;
  /** fields the reporter masked out (KVM_EXIT_ARM_SEA): their bits read 0 but say nothing */
  notReported: string[];
};

// What KVM keeps of ESR_EL2 in a KVM_EXIT_ARM_SEA exit (arch/arm64/kvm/mmu.c): EC, IL, FnV, EA,
// CM, WnR, FSC, and SET only when the guest has FEAT_RAS. The rest reads 0 without meaning 0.
const KVM_SEA_MASKED = [
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

export type EsrKind =
  "sea" | "sea_ttw" | "parity_ecc" | "parity_ecc_ttw" | "serror" | "other";
export type EsrClass = { kind: EsrKind; ttwLevel: number | null };

const HEX_U64 = /^0[xX][0-9a-fA-F]{1,16}$/;

export function isHexU64(s: unknown): s is string {
  return typeof s === "string" && HEX_U64.test(s);
}

// esr_class_str[] of arch/arm64/kernel/traps.c (v6.19); EC values from arch/arm64/include/asm/esr.h.
// ESR_ELx_EC_OTHER (0x0A) has no entry there, so Linux prints it as unrecognized too.
const EC_NAMES: Readonly<Record<number, string>> = {
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

const ttwLevels = (suffix: string) =>
  [-1, 0, 1, 2, 3].map((l) => `level ${l} ${suffix}`);

// fault_info[] of arch/arm64/mm/fault.c (v6.19); every slot it leaves unassigned prints "unknown N".
const FSC_NAMES: Readonly<Record<number, string>> = {
  0x00: "ttbr address size fault",
  0x01: "level 1 address size fault",
  0x02: "level 2 address size fault",
  0x03: "level 3 address size fault",
  0x04: "level 0 translation fault",
  0x05: "level 1 translation fault",
  0x06: "level 2 translation fault",
  0x07: "level 3 translation fault",
  0x08: "level 0 access flag fault",
  0x09: "level 1 access flag fault",
  0x0a: "level 2 access flag fault",
  0x0b: "level 3 access flag fault",
  0x0c: "level 0 permission fault",
  0x0d: "level 1 permission fault",
  0x0e: "level 2 permission fault",
  0x0f: "level 3 permission fault",
  0x10: "synchronous external abort",
  0x11: "synchronous tag check fault",
  ...Object.fromEntries(
    ttwLevels("(translation table walk)").map((n, i) => [0x13 + i, n]),
  ),
  0x18: "synchronous parity or ECC error",
  ...Object.fromEntries(
    ttwLevels("synchronous parity error (translation table walk)").map(
      (n, i) => [0x1b + i, n],
    ),
  ),
  0x21: "alignment fault",
  // esr.h's ESR_ELx_FSC_ADDRSZ_nL(-1) says 0x25, but fault.c names 0x29 (domain.md §3.4)
  0x29: "level -1 address size fault",
  0x2b: "level -1 translation fault",
  0x30: "TLB conflict abort",
  0x31: "Unsupported atomic hardware update fault",
  0x34: "implementation fault (lockdown abort)",
  0x35: "implementation fault (unsupported exclusive)",
  0x3d: "section domain fault",
  0x3e: "page domain fault",
};

const SET_STATES: readonly EsrErrorState[] = ["UER", "reserved", "UC", "UEO"];
const AET_STATES: Readonly<Record<number, EsrErrorState>> = {
  0: "UC",
  1: "UEU",
  2: "UEO",
  3: "UER",
  6: "CE",
};

const ABORT_ECS = new Set([0x20, 0x21, 0x24, 0x25]);
const EC_SERROR = 0x2f;
const FSC_EXTABT = 0x10;
const DFSC_SERROR = 0x11;

const hex2 = (n: number) => `0x${n.toString(16).padStart(2, "0")}`;

export function ecName(ec: number): string {
  return EC_NAMES[ec] ?? "UNRECOGNIZED EC";
}

export function fscName(fsc: number): string {
  return FSC_NAMES[fsc] ?? `unknown ${fsc}`;
}

// SError DFSC has only two architected values; other codes reuse Linux's "unknown N" convention.
function serrorDfscName(dfsc: number): string {
  if (dfsc === 0x00) return "uncategorized";
  if (dfsc === DFSC_SERROR) return "asynchronous SError interrupt";
  return `unknown ${dfsc}`;
}

// `from: "kvm_exit_arm_sea"` decodes the sanitised ESR of that exit: the masked fields are null
// and listed in notReported; SET = 0 is also "not reported", since KVM forwards SET only for a
// guest with FEAT_RAS (a non-zero SET proves it has it).
export function decodeEsr(
  hex: string,
  opts: { from?: "kvm_exit_arm_sea" } = {},
): DecodedEsr {
  if (!isHexU64(hex))
    throw new Error(`Not a 64-bit hex value: ${JSON.stringify(hex)}`);
  const esr = BigInt(hex);
  const ec = Number((esr >> 26n) & 0x3fn);
  const iss = Number(esr & 0x1ffffffn);
  const bit = (n: number): Bit => ((iss >> n) & 1) as Bit;
  const base = {
    value: `0x${esr.toString(16).padStart(16, "0")}`,
    ec: hex2(ec),
    ecName: ecName(ec),
    il: ((esr >> 25n) & 1n) === 1n ? (32 as const) : (16 as const),
  };

  if (ABORT_ECS.has(ec)) {
    const fsc = iss & 0x3f;
    const dataAbort = ec === 0x24 || ec === 0x25;
    const masked = opts.from === "kvm_exit_arm_sea";
    const setReported = !masked || ((iss >> 11) & 0x3) !== 0;
    const set = setReported ? (iss >> 11) & 0x3 : null;
    return {
      ...base,
      fsc: hex2(fsc),
      fscName: fscName(fsc),
      ea: bit(9),
      fnv: bit(10),
      s1ptw: masked ? null : bit(7),
      // WnR and CM exist only for data aborts (Linux prints them under "Data abort info")
      wnr: dataAbort ? bit(6) : null,
      cm: dataAbort ? bit(8) : null,
      set,
      errorState:
        fsc === FSC_EXTABT && set !== null ? (SET_STATES[set] ?? null) : null,
      ids: null,
      notReported: masked
        ? [...KVM_SEA_MASKED, ...(setReported ? [] : ["set"])]
        : [],
    };
  }

  if (ec === EC_SERROR) {
    const ids = bit(24);
    const none = {
      fnv: null,
      s1ptw: null,
      wnr: null,
      cm: null,
      set: null,
      ids,
      notReported: [],
    };
    // IDS = 1: the rest of the syndrome is implementation defined, so no DFSC, EA or error state
    if (ids === 1)
      return {
        ...base,
        ...none,
        fsc: null,
        fscName: null,
        ea: null,
        errorState: null,
      };
    const dfsc = iss & 0x3f;
    const aet = (iss >> 10) & 0x7;
    return {
      ...base,
      ...none,
      fsc: hex2(dfsc),
      fscName: serrorDfscName(dfsc),
      ea: bit(9),
      errorState: dfsc === DFSC_SERROR ? (AET_STATES[aet] ?? "reserved") : null,
    };
  }

  return {
    ...base,
    fsc: null,
    fscName: null,
    ea: null,
    fnv: null,
    s1ptw: null,
    wnr: null,
    cm: null,
    set: null,
    errorState: null,
    ids: null,
    notReported: [],
  };
}

export function classifyEsr(d: Pick<DecodedEsr, "ec" | "fsc">): EsrClass {
  const ec = Number.parseInt(d.ec, 16);
  if (ec === EC_SERROR) return { kind: "serror", ttwLevel: null };
  if (!ABORT_ECS.has(ec) || d.fsc === null)
    return { kind: "other", ttwLevel: null };
  const fsc = Number.parseInt(d.fsc, 16);
  if (fsc === FSC_EXTABT) return { kind: "sea", ttwLevel: null };
  if (fsc >= 0x12 && fsc <= 0x17)
    return { kind: "sea_ttw", ttwLevel: fsc - 0x14 };
  if (fsc === 0x18) return { kind: "parity_ecc", ttwLevel: null };
  if (fsc >= 0x1b && fsc <= 0x1f)
    return { kind: "parity_ecc_ttw", ttwLevel: fsc - 0x1c };
  return { kind: "other", ttwLevel: null };
}
