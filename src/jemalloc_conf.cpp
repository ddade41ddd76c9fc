// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// jemalloc's options for the binaries linked with it (the `carousel` binary and the benchmarks; see
// the top CMakeLists.txt). jemalloc reads this symbol once, when it starts; MALLOC_CONF in the
// environment still overrides it.
//
// thp:always: jemalloc asks the kernel for transparent huge pages (madvise) for all its memory, which
// Debian's default "madvise" mode gives only on request. A decoded trie is hundreds of MB of nodes
// reached by pointers: with 4 KiB pages nearly every node is a TLB miss as well as a cache miss, and
// each new 4 KiB a page fault. chain_apply_block (1M accounts, two threads, alternating runs): the
// CPU time of a block over its Keccak floor 4.6-5.0 -> 3.8-4.2, page faults per block 62-300 -> 0-1.
// It costs a syncing client about 30 MB more resident memory (200k accounts: 121 -> 148 MB).

extern "C" {
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables,readability-identifier-naming): jemalloc's name
const char* malloc_conf = "thp:always";
}
