/*
 * Force-included (g++ -include) when compiling faiss-node 0.5.1's src/faiss.cc against
 * Debian bookworm's libfaiss-dev 1.7.3.
 *
 * faiss-node 0.5.1 targets faiss 1.7.4, which declares `faiss::idx_t` at namespace scope
 * (faiss/MetricType.h). faiss 1.7.3 only has the member alias `faiss::Index::idx_t`, so
 * faiss.cc's `using idx_t = faiss::idx_t;` fails to compile. We add the namespace-scope alias.
 * Re-declaring an alias to the same type is legal C++, so this header is harmless with newer faiss.
 */
#pragma once
#include <cstdint>

namespace faiss {
using idx_t = int64_t;
}
