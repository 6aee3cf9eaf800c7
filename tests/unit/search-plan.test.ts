import { describe, expect, it } from "vitest";
import {
  estimateSearchShare,
  WALK_SHARE,
} from "@/server/incidents/log-entries";

// The common words of the search index as pg_stats gives them, with the share of entries having each.
const common = new Map([
  ["uncorrectable", 1],
  ["unmapped", 0.99],
  ["page", 1],
  ["sigbus", 0.2],
  ["web", 0.5],
  ["0x0000ffff9a2b3c40", 0.16],
]);

describe("estimating how many entries a search matches (to choose how to run it)", () => {
  it("a word matches the most common word it begins; one that is not common is rare", () => {
    expect(estimateSearchShare("'uncorrect'", common)).toBe(1);
    expect(estimateSearchShare("'sig'", common)).toBe(0.2);
    expect(estimateSearchShare("'kvm'", common)).toBe(0);
    expect(estimateSearchShare("'0x00000001234f8000'", common)).toBe(0);
  });

  it("all words must match: the rarest counts; 'or' takes the most common; negated words are left out", () => {
    expect(estimateSearchShare("'uncorrectable' & 'sigbus'", common)).toBe(0.2);
    expect(estimateSearchShare("'uncorrectable' & 'nowhere'", common)).toBe(0);
    expect(estimateSearchShare("'nowhere' | 'web'", common)).toBe(0.5);
    expect(estimateSearchShare("'page' & !'sigbus'", common)).toBe(1);
    expect(estimateSearchShare("!'sigbus'", common)).toBe(1);
    expect(estimateSearchShare("'un' <-> 'mapped'", common)).toBe(0);
    // a quote inside a word, as tsquery text doubles it
    expect(estimateSearchShare("'it''s'", new Map([["it's", 0.3]]))).toBe(0.3);
  });

  it("common words are read in order, rare ones through the index", () => {
    expect(
      estimateSearchShare("'uncorrectable'", common),
    ).toBeGreaterThanOrEqual(WALK_SHARE);
    expect(estimateSearchShare("'kvm'", common)).toBeLessThan(WALK_SHARE);
    // no statistics yet (a new database): every word is rare
    expect(estimateSearchShare("'uncorrectable'", new Map())).toBe(0);
  });
});
