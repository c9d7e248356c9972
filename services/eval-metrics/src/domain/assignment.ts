/**
 * Best one-to-one assignment between two lists: the pairing (each item used at most once on
 * either side) with the largest total weight, by the Hungarian algorithm in O(n³). Pairs of
 * weight 0 or less are never part of the answer.
 */
export function bestAssignment(
  rows: number,
  columns: number,
  weight: (row: number, column: number) => number,
): Array<[row: number, column: number]> {
  if (rows === 0 || columns === 0) return [];
  const size = Math.max(rows, columns);
  const weights: number[][] = [];
  let largest = 0;
  for (let i = 0; i < size; i++) {
    const line = new Array<number>(size).fill(0);
    if (i < rows) {
      for (let j = 0; j < columns; j++) {
        const w = weight(i, j);
        line[j] = Math.max(w, 0);
        if (line[j]! > largest) largest = line[j]!;
      }
    }
    weights.push(line);
  }
  if (largest === 0) return [];
  // Minimise cost = largest - weight over a square matrix (padding rows and columns weigh 0).
  const cost = (i: number, j: number) => largest - weights[i - 1]![j - 1]!;
  const u = new Array<number>(size + 1).fill(0);
  const v = new Array<number>(size + 1).fill(0);
  const match = new Array<number>(size + 1).fill(0); // match[column] = row, 1-based
  const way = new Array<number>(size + 1).fill(0);
  for (let i = 1; i <= size; i++) {
    match[0] = i;
    let j0 = 0;
    const minimum = new Array<number>(size + 1).fill(Number.POSITIVE_INFINITY);
    const used = new Array<boolean>(size + 1).fill(false);
    do {
      used[j0] = true;
      const i0 = match[j0]!;
      let delta = Number.POSITIVE_INFINITY;
      let j1 = 0;
      for (let j = 1; j <= size; j++) {
        if (used[j]) continue;
        const reduced = cost(i0, j) - u[i0]! - v[j]!;
        if (reduced < minimum[j]!) {
          minimum[j] = reduced;
          way[j] = j0;
        }
        if (minimum[j]! < delta) {
          delta = minimum[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= size; j++) {
        if (used[j]) {
          u[match[j]!] = u[match[j]!]! + delta;
          v[j] = v[j]! - delta;
        } else {
          minimum[j] = minimum[j]! - delta;
        }
      }
      j0 = j1;
    } while (match[j0] !== 0);
    do {
      const j1 = way[j0]!;
      match[j0] = match[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const pairs: Array<[number, number]> = [];
  for (let j = 1; j <= size; j++) {
    const i = match[j]!;
    if (i >= 1 && i <= rows && j <= columns && weights[i - 1]![j - 1]! > 0) pairs.push([i - 1, j - 1]);
  }
  return pairs;
}
