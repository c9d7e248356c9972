import { LangfusePeer, type LangfusePeerScore, type LangfusePeerTrace } from '@stratus/test-peers';
import { readJsonFile, writeJsonFile } from '../json-file.js';

/** A sample trace as shipped: dated by its age, so the sample always looks recent. */
export interface SampleTrace extends Omit<LangfusePeerTrace, 'timestamp'> {
  minutesAgo: number;
}

interface SavedState {
  /** When the samples were first dated: later runs keep the same trace timestamps. */
  seededAt: number;
  scores: LangfusePeerScore[];
}

const SAVE_INTERVAL_MS = 2_000;

/**
 * Langfuse for local mode: the loopback Langfuse peer holding the sample traces, with its scores kept
 * in a file. Evaluation metrics keeps its polling cursor in its own database, so the traces it has
 * scored, and their scores, must still be here on the next run.
 */
export class LocalLangfuse {
  private savedWrites = -1;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly peer: LangfusePeer,
    private readonly stateFile: string,
    private readonly seededAt: number,
    /** The oldest sample trace's time: evaluation metrics starts polling there. */
    readonly tracesSince: Date,
  ) {}

  static async start(samples: SampleTrace[], stateFile: string): Promise<LocalLangfuse> {
    const saved = await readJsonFile<SavedState>(stateFile);
    const seededAt = saved?.seededAt ?? Date.now();
    const peer = await LangfusePeer.start();
    peer.addTraces(
      ...samples.map(({ minutesAgo, ...trace }) => ({
        ...trace,
        timestamp: new Date(seededAt - minutesAgo * 60_000).toISOString(),
      })),
    );
    for (const score of saved?.scores ?? []) peer.scores.set(score.id, score);
    const oldest = Math.max(0, ...samples.map((sample) => sample.minutesAgo));
    const langfuse = new LocalLangfuse(peer, stateFile, seededAt, new Date(seededAt - (oldest + 1) * 60_000));
    langfuse.savedWrites = peer.counts.scorePosts;
    langfuse.timer = setInterval(() => void langfuse.save(), SAVE_INTERVAL_MS);
    return langfuse;
  }

  get url(): string {
    return this.peer.url;
  }
  get publicKey(): string {
    return this.peer.publicKey;
  }
  get secretKey(): string {
    return this.peer.secretKey;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.save();
    await this.peer.close();
  }

  private async save(): Promise<void> {
    if (this.peer.counts.scorePosts === this.savedWrites) return;
    this.savedWrites = this.peer.counts.scorePosts;
    const state: SavedState = { seededAt: this.seededAt, scores: [...this.peer.scores.values()] };
    await writeJsonFile(this.stateFile, state);
  }
}
