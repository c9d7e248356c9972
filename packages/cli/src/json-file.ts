import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from '@stratus/core';

/** The JSON a file holds, or undefined when it is missing or unreadable (the caller starts afresh). */
export async function readJsonFile<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Writes JSON aside and renames it into place, so a reader (or a crash) never sees half a file. */
export async function writeJsonFile(
  path: string,
  value: unknown,
  options: { mode?: number } = {},
): Promise<void> {
  await writeFileAtomically(path, JSON.stringify(value, null, 2), options);
}
