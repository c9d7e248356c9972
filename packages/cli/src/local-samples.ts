import { cp, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the first run puts the sample CSV files, under the watched bucket. */
export const SAMPLE_PREFIX = 'incoming/';
const GROUND_TRUTH_KEY = 'ground-truth/v1.csv';

export interface SampleLayout {
  samplesDir: string;
  dataDir: string;
  filesBucket: string;
  groundTruthBucket: string;
}

/**
 * On the first run (the watched bucket's folder does not exist yet) copies the sample CSV files into
 * it, so they are delivered and the dashboard shows passing and failing rules at once. Ground truth
 * for evaluation metrics is put in place whenever it is missing. Returns whether samples were copied.
 */
export async function placeSamples(layout: SampleLayout): Promise<boolean> {
  const bucketDir = join(layout.dataDir, layout.filesBucket);
  const firstRun = !(await exists(bucketDir));
  if (firstRun)
    await cp(join(layout.samplesDir, 'data-quality', 'incoming'), join(bucketDir, SAMPLE_PREFIX), {
      recursive: true,
    });
  const groundTruthDir = join(layout.dataDir, layout.groundTruthBucket, 'ground-truth');
  if (!(await exists(join(groundTruthDir, 'LATEST')))) {
    await mkdir(groundTruthDir, { recursive: true });
    await cp(
      join(layout.samplesDir, 'eval', 'ground-truth.csv'),
      join(layout.dataDir, layout.groundTruthBucket, GROUND_TRUTH_KEY),
    );
    await writeFile(join(groundTruthDir, 'LATEST'), `${GROUND_TRUTH_KEY}\n`);
  }
  return firstRun;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
