import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { RulesetCatalog, type RulesetEntry } from '../domain/ruleset-selection.js';

const catalogFileSchema = z.array(
  z
    .object({
      name: z.string().min(1),
      prefix: z.string(),
      bucket: z.string().min(1).optional(),
      dqdl: z.string().optional(),
      /** A .dqdl file, relative to the catalog file. */
      dqdlFile: z.string().min(1).optional(),
    })
    .refine((entry) => (entry.dqdl === undefined) !== (entry.dqdlFile === undefined), {
      message: 'give exactly one of dqdl or dqdlFile',
    }),
);

/**
 * Reads the ruleset catalog (DQ_RULESETS_FILE) and parses every ruleset in it, so a bad ruleset stops
 * start-up with its name and line instead of failing jobs one by one. No file: an empty catalog.
 */
export async function loadRulesetCatalog(path: string | undefined): Promise<RulesetCatalog> {
  if (!path) return new RulesetCatalog([]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new Error(`DQ_RULESETS_FILE ${path}: ${(error as Error).message}`, { cause: error });
  }
  const result = catalogFileSchema.safeParse(parsed);
  if (!result.success)
    throw new Error(
      `DQ_RULESETS_FILE ${path}: ${result.error.issues.map((issue) => `[${issue.path.join('.')}] ${issue.message}`).join('; ')}`,
    );
  const entries: RulesetEntry[] = [];
  for (const entry of result.data) {
    const dqdl = entry.dqdl ?? (await readFile(resolve(dirname(path), entry.dqdlFile as string), 'utf8'));
    entries.push({
      name: entry.name,
      prefix: entry.prefix,
      dqdl,
      ...(entry.bucket ? { bucket: entry.bucket } : {}),
    });
  }
  try {
    return new RulesetCatalog(entries);
  } catch (error) {
    throw new Error(`DQ_RULESETS_FILE ${path}: ${(error as Error).message}`, { cause: error });
  }
}
