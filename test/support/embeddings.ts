import { ATTRIBUTES } from '../../src/attributes.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { SeededRandom } from '../../src/util/random.js';

/**
 * A synthetic embeddings file with a planted signal (docs/building.md's fit-head example): n rows
 * x h BF16 embeddings whose columns carry five latent factors, ratings 0-4 driven by those
 * factors plus noise, every 50th verbosity rating missing. Not a real backbone's numbers.
 */
export function writeSyntheticEmbeddings(path: string, n = 2000, h = 256, seed = 7): void {
  const rng = new SeededRandom(seed);
  const x = new Float32Array(n * h);
  const y = new Float32Array(n * 5);
  for (let i = 0; i < n; i++) {
    const latent = Array.from({ length: 5 }, () => rng.normal());
    for (let j = 0; j < h; j++) x[i * h + j] = rng.normal() + latent[j % 5]! * 0.3;
    for (let a = 0; a < 5; a++) y[i * 5 + a] = Math.min(4, Math.max(0, Math.round(2 + latent[a]! + 0.6 * rng.normal())));
    if (i % 50 === 7) y[i * 5 + 4] = NaN;
  }
  writeSafetensors(
    path,
    { embeddings: { dtype: 'BF16', shape: [n, h], data: x }, labels: { dtype: 'F32', shape: [n, 5], data: y } },
    { backbone: `synthetic-${h}`, attributes: ATTRIBUTES.join(',') },
  );
}
