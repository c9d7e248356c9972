import { parseDqdl, type Ruleset } from './dqdl.js';

/** One entry of the ruleset catalog: which objects it applies to and its DQDL. */
export interface RulesetEntry {
  name: string;
  /** Applies to keys starting with this prefix ("" for every key). */
  prefix: string;
  /** When set, only objects of this bucket. */
  bucket?: string;
  dqdl: string;
}

export interface SelectedRuleset {
  name: string;
  prefix: string;
  ruleset: Ruleset;
}

/** A catalog whose rulesets have all been parsed, so a bad one is found at start-up, not per file. */
export class RulesetCatalog {
  private readonly entries: (SelectedRuleset & { bucket?: string })[];

  constructor(entries: RulesetEntry[]) {
    const names = new Set<string>();
    this.entries = entries.map((entry) => {
      if (names.has(entry.name)) throw new Error(`Ruleset "${entry.name}" is defined twice`);
      names.add(entry.name);
      try {
        return { ...entry, ruleset: parseDqdl(entry.dqdl) };
      } catch (error) {
        throw new Error(`Ruleset "${entry.name}": ${(error as Error).message}`, { cause: error });
      }
    });
  }

  /** The ruleset with the longest prefix matching the object, bucket-specific ones first on a tie. */
  select(bucket: string, key: string): SelectedRuleset | undefined {
    let best: (SelectedRuleset & { bucket?: string }) | undefined;
    for (const entry of this.entries) {
      if (entry.bucket !== undefined && entry.bucket !== bucket) continue;
      if (!key.startsWith(entry.prefix)) continue;
      if (
        !best ||
        entry.prefix.length > best.prefix.length ||
        (entry.prefix.length === best.prefix.length &&
          entry.bucket !== undefined &&
          best.bucket === undefined)
      )
        best = entry;
    }
    return best && { name: best.name, prefix: best.prefix, ruleset: best.ruleset };
  }

  get size(): number {
    return this.entries.length;
  }
}
