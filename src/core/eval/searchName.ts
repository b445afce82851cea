import type { IndexSpec } from '../vectorIndex/types';

/** The name every screen gives a search: "exact" (Flat inner product) or "IVF-PQ, nprobe 16". */
export function searchName(spec: IndexSpec): string {
  return spec.type === 'Flat' ? 'exact' : `IVF-PQ, nprobe ${spec.nprobe}`;
}
