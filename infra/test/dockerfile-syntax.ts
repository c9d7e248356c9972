/** One Dockerfile instruction with its continuation lines joined. */
export interface DockerInstruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface DockerStage {
  readonly base: string;
  readonly name?: string;
  readonly instructions: DockerInstruction[];
}

/** Splits a Dockerfile into stages of instructions (comments dropped, `\` continuations joined). */
export function parseDockerfile(text: string): { args: DockerInstruction[]; stages: DockerStage[] } {
  const instructions: DockerInstruction[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending === '') startLine = index + 1;
    if (line.startsWith('#')) return;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      return;
    }
    const full = `${pending}${line}`.trim();
    pending = '';
    const [keyword, ...rest] = full.split(/\s+/);
    instructions.push({ keyword: keyword!.toUpperCase(), args: rest.join(' '), line: startLine });
  });
  const args: DockerInstruction[] = [];
  const stages: DockerStage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [base, as, name] = instruction.args.split(/\s+/);
      stages.push({ base: base!, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), instructions: [] });
    } else if (stages.length === 0) {
      args.push(instruction);
    } else {
      stages[stages.length - 1]!.instructions.push(instruction);
    }
  }
  return { args, stages };
}

/** The JSON array of an exec-form instruction such as `ENTRYPOINT ["node", "x.js"]`. */
export function execForm(instruction: DockerInstruction | undefined): string[] {
  if (!instruction) throw new Error('instruction missing');
  const parsed = JSON.parse(instruction.args) as unknown;
  if (!Array.isArray(parsed)) throw new Error(`line ${instruction.line}: not exec form`);
  return parsed as string[];
}
